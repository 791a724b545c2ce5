"""Values captured from a step's output, as Ansible data: lazy play vars and one check per step.

A capture named ``rows_before`` of step 2 is a play var ``rows_before``
whose template reads step 2's registered result (``procc_step_2.stdout``)
each time it is used: no task stores it (the lean design, issue 14). The
value is always a string, ``''`` until the step ran and whenever the output
does not hold it (never an error: a rollback or a post action that reads
the capture of a step that did not run gets ``''``). A typed capture (int,
float) is its trimmed digits or ``''``, so it is inert in any bash context.

After the step's command, one ``assert`` per capturing step fails the step
when a capture found nothing, with a message naming the capture and how it
was read (the summary at 3am).

Every value is data: the regex and the JSON path reach Ansible as
``!unsafe`` variables, never as text of an expression; the output comes from
a registered result, which Ansible never templates again, so a command
printing ``{{ 7*7 }}`` captures ``{{ 7*7 }}``.
"""

from __future__ import annotations

from typing import Any

from compiler.model import Capture, Procedure, captures
from compiler.yamlout import Unsafe

# The specs every capture template reads (regex, JSON path, how it is read).
SPECS = "procc_captures"
# Checks of a typed value (trimmed): static text of procc, never of the source.
_TYPE_RE = {"int": "^-?[0-9]+$", "float": "^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$"}


def _raw(name: str, k: int, cap: Capture) -> str:
    """The Jinja expression (without braces) of the value as read from step ``k``'s output."""
    out = f"(procc_step_{k}.stdout | default(''))"
    spec = f"{SPECS}['{name}']"
    if cap.kind == "stdout":
        return f"({out} | trim)"
    if cap.kind == "regex":
        if cap.group:
            # The group reference is a variable too: a backslash in a Jinja literal is read twice.
            return f"((({out} | regex_search({spec}.re, {spec}.group, multiline=True)) or [''])[0] or '')"
        return f"(({out} | regex_search({spec}.re, multiline=True)) or '')"
    assert cap.json_ is not None
    node = f"{json_var(k)}"
    # Each key is checked before it is read, so a missing field is '' (no error).
    conds: list[str] = []
    for level in range(len(cap.json_.split("."))):
        key = f"{spec}.path[{level}]"
        conds.append(f"{node} is mapping and {key} in {node}")
        # A space before each subscript lets the YAML emitter fold a deep path (line length).
        node = f"{node} [{key}]"
    return f"(({node} if {node} is string else ({node} | to_json)) if {' and '.join(conds)} else '')"


def json_var(k: int) -> str:
    """The play var holding step ``k``'s output parsed as JSON ({} when it does not look like JSON)."""
    return f"procc_json_{k}"


def _json_expr(k: int) -> str:
    out = f"(procc_step_{k}.stdout | default(''))"
    return f"{{{{ ({out} | from_json) if ({out} | trim)[:1] in ['{{', '['] else {{}} }}}}"


def value_expr(name: str, k: int, cap: Capture) -> str:
    """The play var template of capture ``name`` of step ``k``."""
    raw = _raw(name, k, cap)
    if cap.type in _TYPE_RE:
        trimmed = raw if cap.kind == "stdout" else f"({raw} | trim)"
        raw = f"({trimmed} if {trimmed} is match('{_TYPE_RE[cap.type]}') else '')"
    return f"{{{{ {raw} }}}}"


def how(cap: Capture, lang_words: dict[str, str] | None = None) -> str:
    """How the value is read, in words for the failure message (English, like every run message)."""
    what = {"stdout": "the whole output (trimmed)", "json": f"JSON field {cap.json_} of the output",
            "regex": f"regex {cap.regex} on the output"}[cap.kind]
    return what + ("" if cap.type == "string" else f", as {cap.type}")


def play_vars(proc: Procedure) -> dict[str, Any]:
    """The capture vars of both plays: each capture's template and the specs they read."""
    caps = captures(proc)
    if not caps:
        return {}
    specs: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for name, (k, cap) in caps.items():
        spec: dict[str, Any] = {"how": Unsafe(how(cap))}
        if cap.regex is not None:
            spec["re"] = Unsafe(cap.regex)
            if cap.group:
                spec["group"] = Unsafe("\\1")
        if cap.json_ is not None:
            spec["path"] = [Unsafe(p) for p in cap.json_.split(".")]
        specs[name] = spec
        out[name] = value_expr(name, k, cap)
        if cap.json_ is not None:
            out[json_var(k)] = _json_expr(k)
    return {SPECS: specs, **out}


def check(k: int, names: list[str], prefix: str, title: str) -> dict[str, Any]:
    """The task after step ``k``'s command that fails the step when a capture found nothing."""
    missing = " else ".join(f"'{n}' if ({n} | string) == ''" for n in names) + " else ''"
    return {
        "name": f"{prefix} | {title} {', '.join(names)}",
        "ansible.builtin.assert": {
            "that": ["procc_capture_missing == ''"],
            "fail_msg": (f"procc-capture: capture '{{{{ procc_capture_missing }}}}' of step {k} found nothing: "
                         f"{{{{ {SPECS}[procc_capture_missing].how if procc_capture_missing else '' }}}}"),
            "success_msg": f"captured {', '.join(names)}",
            "quiet": True,
        },
        "vars": {"procc_capture_missing": f"{{{{ {missing} }}}}"},
    }
