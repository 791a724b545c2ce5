"""The flow of a procedure as a Mermaid flowchart (GitHub and the site render it).

Pre-flight, each step and its check, the rollback path from every step back
to the start (in reverse order, as the playbook's rescue runs it), the final
validation and the full rollback; irreversible steps are marked.

Node ids are made here (``s3``, ``r3``), never from text. Every label is
hostile text: it is quoted, and every character that is not a letter, a digit
or a space becomes a Mermaid entity code (``#35;``), so no title can close a
label, start an edge, open a link, a click handler or HTML.
"""

from __future__ import annotations

from compiler.i18n import Lang
from compiler.model import Procedure

# Words of the diagram, in each runbook language (kept here: the runbook's
# own dictionary is compiler/i18n.py, which this module does not change).
_WORDS: dict[str, dict[str, str]] = {
    "es": {
        "start": "Inicio", "preflight": "Pre-flight: {n} comprobaciones", "preflight_1": "Pre-flight: 1 comprobacion",
        "preflight_none": "Pre-flight: sin comprobaciones", "stop": "Detener: nada ha cambiado",
        "step": "Paso {k}", "check": "Paso {k} correcto?", "ok": "si", "fail": "falla",
        "rollback": "Rollback paso {k}", "irreversible": "Paso {k}: IRREVERSIBLE, sin rollback",
        "nothing": "Paso {k}: nada que revertir", "back": "Estado inicial restaurado: ejecucion fallida",
        "final": "Validacion final correcta?", "full": "Rollback completo: {n} pasos",
        "full_none": "Rollback completo: sin pasos", "done": "Fin: procedimiento completado",
        "marked": "IRREVERSIBLE",
    },
    "en": {
        "start": "Start", "preflight": "Pre-flight: {n} checks", "preflight_1": "Pre-flight: 1 check",
        "preflight_none": "Pre-flight: no checks", "stop": "Stop: nothing has changed",
        "step": "Step {k}", "check": "Step {k} OK?", "ok": "yes", "fail": "fails",
        "rollback": "Roll back step {k}", "irreversible": "Step {k}: IRREVERSIBLE, no rollback",
        "nothing": "Step {k}: nothing to roll back", "back": "Initial state restored: run failed",
        "final": "Final validation OK?", "full": "Full rollback: {n} steps",
        "full_none": "Full rollback: no steps", "done": "End: procedure completed",
        "marked": "IRREVERSIBLE",
    },
}

# A title longer than this is cut: a node is a signpost, the runbook has the rest.
MAX_LABEL = 60
# Kept as they are inside a quoted label (readable, and no Mermaid syntax there).
_PLAIN = frozenset(" .,:-_/")


def label(text: str) -> str:
    """``text`` as a quoted Mermaid label: one line, at most MAX_LABEL characters, inert.

    Letters (any script), digits and single spaces stay as they are; every
    other character becomes ``#<code>;``, which Mermaid shows as that
    character and never reads as syntax.
    """
    flat = " ".join(text.split())
    if len(flat) > MAX_LABEL:
        flat = flat[: MAX_LABEL - 3].rstrip() + "..."
    out = "".join(c if c.isalnum() or c in _PLAIN else f"#{ord(c)};" for c in flat)
    return f'"{out}"'


def flowchart(proc: Procedure, lang: Lang = "es") -> str:
    """The Mermaid source of ``proc``'s flow (without the code fence)."""
    w = _WORDS[lang]
    lines = ["flowchart TD"]
    def node(nid: str, text: str, shape: str = "[]") -> None:
        # Shapes: [box] for actions, {diamond} for checks, ([stadium]) for the ends.
        half = len(shape) // 2
        lines.append(f"    {nid}{shape[:half]}{label(text)}{shape[half:]}")

    def edge(a: str, b: str, text: str = "") -> None:
        lines.append(f"    {a} -->|{label(text)}| {b}" if text else f"    {a} --> {b}")

    n_pf = len(proc.preflight)
    node("start", w["start"], "([])")
    pf_text = w["preflight"].format(n=n_pf) if n_pf > 1 else w["preflight_1"] if n_pf else w["preflight_none"]
    node("pf", pf_text, "{}")
    node("stop", w["stop"], "([])")
    node("back", w["back"], "([])")
    edge("start", "pf")
    edge("pf", "stop", w["fail"])
    irreversible: list[str] = []
    prev_ok = "pf"
    for k, s in enumerate(proc.steps, 1):
        title = f"{w['step'].format(k=k)}: {s.title}"
        if s.irreversible:
            title = f"{w['marked']} {title}"
            irreversible.append(f"s{k}")
        node(f"s{k}", title)
        node(f"c{k}", w["check"].format(k=k), "{}")
        if s.rollback is not None:
            node(f"r{k}", w["rollback"].format(k=k))
        elif s.irreversible:
            node(f"r{k}", w["irreversible"].format(k=k))
            irreversible.append(f"r{k}")
        else:
            node(f"r{k}", w["nothing"].format(k=k))
        edge(prev_ok, f"s{k}", w["ok"])
        edge(f"s{k}", f"c{k}")
        edge(f"c{k}", f"r{k}", w["fail"])
        # The rescue rolls back the failed step, then every earlier one, in reverse.
        edge(f"r{k}", f"r{k - 1}" if k > 1 else "back")
        prev_ok = f"c{k}"
    n_rb = len(proc.rollback.steps)
    node("fv", w["final"], "{}")
    node("full", w["full"].format(n=n_rb) if n_rb else w["full_none"])
    node("done", w["done"], "([])")
    edge(prev_ok, "fv", w["ok"])
    edge("fv", "done", w["ok"])
    edge("fv", "full", w["fail"])
    edge("full", "back")
    if irreversible:
        lines.append("    classDef irreversible fill:#fde2e1,stroke:#b42318,stroke-width:2px")
    lines.append("    classDef finish fill:#e7f5ec,stroke:#1f7a3d")
    lines.append("    classDef failed fill:#fff4e5,stroke:#b54708")
    if irreversible:
        lines.append(f"    class {','.join(irreversible)} irreversible")
    lines.append("    class done finish")
    lines.append("    class stop,back failed")
    return "\n".join(lines) + "\n"
