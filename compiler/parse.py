"""From a source file to a validated :class:`~compiler.model.Procedure`.

Validation collects every problem in one pass: pydantic's structural errors
(mapped back to ``line:col`` through the source map) and the semantic checks
pydantic cannot express (duplicate step ids, undeclared parameters).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from compiler import covers, shellvars, templating
from compiler.errors import CompileError, Diagnostic, step_ref
from compiler.loader import PathKey, SourceMap, load_file, load_text
from compiler.model import NUMERIC_TYPES, PARAM_NAME, RESERVED_NAMES, THRESHOLD_REF, Procedure

# Keys whose string values are executed, hence templated: parameters used
# there must be declared. Documentation-only commands are not executed.
_EXECUTED_KEYS = frozenset({"run", "task", "vars", "url", "contains", "stdout_contains", "stdout_regex",
                            # a health check's (compiler.model.HealthCheck)
                            "tcp", "command", "headers", "body", "json", "ca_path"})
_DOC_ONLY_SECTIONS = frozenset({"troubleshooting", "annexes"})


@dataclass(frozen=True)
class Source:
    """A parsed, validated procedure with what later stages need about its file."""

    path: Path
    display: str
    procedure: Procedure
    smap: SourceMap
    sha256: str


def parse_file(path: Path, display: str | None = None) -> Source:
    """Load and validate one procedure file; raises :class:`CompileError`."""
    name = display or str(path)
    data, smap, text = load_file(path, name)
    proc = validate(data, smap)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Source(path, name, proc, smap, digest)


def parse_text(text: str, display: str = "<string>") -> Procedure:
    """Validate a procedure given as text (tests, editors)."""
    data, smap = load_text(text, display)
    return validate(data, smap)


def validate(data: Any, smap: SourceMap) -> Procedure:
    """Turn loaded data into a Procedure, or raise every problem at once."""
    if not isinstance(data, dict):
        raise CompileError(
            [Diagnostic(smap.path, smap.value(()), "a procedure must be a YAML mapping", "type")]
        )
    diags: list[Diagnostic] = []
    proc: Procedure | None = None
    try:
        proc = Procedure.model_validate(data)
    except ValidationError as exc:
        diags.extend(_from_pydantic(exc, smap))
    diags.extend(_duplicate_step_ids(data, smap))
    diags.extend(covers.diagnostics(data, smap))
    diags.extend(_step_throttles(data, smap))
    diags.extend(_undeclared_parameters(data, smap))
    diags.extend(_metric_thresholds(data, smap))
    diags.extend(_capture_clashes(data, smap))
    if diags or proc is None:
        raise CompileError(_dedupe(diags))
    return proc


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, int, int, str, str]] = set()
    out = []
    for d in diags:
        key = (d.path, d.pos.line, d.pos.col, d.code, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _model_at(loc: PathKey) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc`` (for suggestions)."""
    model: Any = Procedure
    keyed = False  # the next part is a key of a mapping of models (parameters, capture)
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = _field_by_key(model, part)
        if field is None:
            return None
        keyed = getattr(field.annotation, "__origin__", None) is dict
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if (field.alias or name) == key:
            return field
    return None


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in args or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _from_pydantic(exc: ValidationError, smap: SourceMap) -> Iterator[Diagnostic]:
    for err in exc.errors(include_url=False):
        loc: PathKey = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
        kind = err["type"]
        where = _loc_text(loc)
        if kind == "extra_forbidden":
            key = str(loc[-1])
            owner_model = _model_at(loc[:-1])
            hint = ""
            if owner_model is not None:
                keys = _keys_of(owner_model)
                close = difflib.get_close_matches(key, keys, n=1)
                # A typo gets its fix; any other key gets the whole list.
                hint = f" (did you mean '{close[0]}'?)" if close else f"; allowed here: {', '.join(keys)}"
            yield Diagnostic(smap.path, smap.key(loc), f"unknown key '{key}'{hint}", "unknown-key")
        elif kind == "missing":
            parent = loc[:-1]
            owner = _loc_text(parent) if parent else "the procedure"
            yield Diagnostic(
                smap.path, smap.value(parent),
                f"missing required key '{loc[-1]}' in {owner}", "missing-key",
            )
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            value = err.get("input")
            if kind == "string_type" and isinstance(value, dict) and len(value) == 1:
                # "- Si la CA caduca: rotarla" is valid YAML: a one-key mapping where text was meant.
                key = str(next(iter(value)))[:40]
                msg += (f" (YAML read it as the mapping '{key}: ...': a ': ' in plain text starts a key; "
                        "quote the whole text ('...') or drop the colon)")
            yield Diagnostic(smap.path, smap.value(loc), f"{where}: {msg}", _code_for(kind))


def _loc_text(loc: PathKey) -> str:
    """``("steps", 1, "run")`` as ``Paso 2 (steps[1].run)``: the step as the runbook names it, and its path."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    out = out or "document"
    for section, head in (("steps", ("steps",)), ("preflight", ("preflight",)),
                          ("rollback.steps", ("rollback", "steps"))):
        n = len(head)
        index = loc[n] if tuple(loc[:n]) == head and len(loc) > n else None
        if isinstance(index, int):
            return step_ref(index, section).replace(")", out[len(f"{section}[{index}]"):] + ")")
    return out


def _code_for(kind: str) -> str:
    if kind.startswith("capture_"):
        return kind.replace("_", "-")  # the model's own codes (compiler.model.Capture)
    if kind in ("value_error", "assertion_error") or kind.startswith(("greater_than", "less_than")):
        return "invalid-value"
    if kind.startswith(("literal", "enum")):
        return "invalid-choice"
    return "wrong-type"


def _duplicate_step_ids(data: dict[str, Any], smap: SourceMap) -> Iterator[Diagnostic]:
    steps = data.get("steps")
    if not isinstance(steps, list):
        return
    seen: dict[str, int] = {}
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("id"), str):
            continue
        sid = step["id"]
        if sid in seen:
            yield Diagnostic(
                smap.path, smap.value(("steps", i, "id")),
                f"duplicate step id '{sid}' (first used by {step_ref(seen[sid])})",
                "duplicate-step-id",
            )
        else:
            seen[sid] = i


def _step_throttles(data: dict[str, Any], smap: SourceMap) -> Iterator[Diagnostic]:
    """A step's throttle above the procedure's: procc reads the procedure's as a ceiling."""
    ceiling, steps = data.get("throttle"), data.get("steps")
    if not isinstance(ceiling, int) or isinstance(ceiling, bool) or not isinstance(steps, list):
        return
    for i, step in enumerate(steps):
        value = step.get("throttle") if isinstance(step, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > ceiling:
            yield Diagnostic(
                smap.path, smap.value(("steps", i, "throttle")),
                f"{step_ref(i)} has throttle {value}, above the procedure's throttle {ceiling}: "
                "a step can only lower it", "throttle-above-procedure",
            )


def _metric_thresholds(data: dict[str, Any], smap: SourceMap) -> Iterator[Diagnostic]:
    """A threshold that names a parameter names a declared int or float one."""
    params = data.get("parameters")
    params = params if isinstance(params, dict) else {}
    caps = _raw_captures(data)
    final = data.get("final_validation")
    metrics = final.get("metrics") if isinstance(final, dict) else None
    for i, metric in enumerate(metrics if isinstance(metrics, list) else []):
        for which in ("below", "above"):
            value = metric.get(which) if isinstance(metric, dict) else None
            if not isinstance(value, str):
                continue  # a number: nothing to resolve
            ref = THRESHOLD_REF.fullmatch(value.strip())
            if ref is None:
                continue  # the model refuses it with its own message
            name, loc = ref[1], ("final_validation", "metrics", i, which)
            declared = params.get(name)
            captured = caps.get(name)
            if captured is not None and not isinstance(declared, dict):
                if captured[1] not in NUMERIC_TYPES:
                    yield Diagnostic(
                        smap.path, smap.value(loc),
                        f"the threshold '{{{{ {name} }}}}' names a value captured as type '{captured[1]}' "
                        f"({step_ref(captured[0])}): a threshold is compared as a number, so give the "
                        f"capture type: int or type: float", "invalid-value")
                continue
            if not isinstance(declared, dict):
                allowed = frozenset([*(n for n, p in params.items() if isinstance(p, dict)
                                       and p.get("type") in NUMERIC_TYPES),
                                     *(n for n, (_, t) in caps.items() if t in NUMERIC_TYPES)])
                yield Diagnostic(smap.path, smap.in_text(loc, value.index("{{"), value),
                                 templating.undeclared(name, allowed), "undeclared-parameter")
            elif declared.get("type", "string") not in NUMERIC_TYPES:
                yield Diagnostic(
                    smap.path, smap.value(loc),
                    f"the threshold '{{{{ {name} }}}}' names a parameter of type "
                    f"'{declared.get('type', 'string')}': a threshold is compared as a number, so give "
                    f"'{name}' type: int or type: float", "invalid-value")


def _undeclared_parameters(data: dict[str, Any], smap: SourceMap) -> Iterator[Diagnostic]:
    """Every ``{{ ... }}`` in executed text is a declared parameter, and commands can take it as a variable."""
    params = data.get("parameters")
    declared = set(params) if isinstance(params, dict) else set()
    allowed = frozenset(declared | templating.BUILTIN_NAMES)
    inert = frozenset(
        name for name, p in (params.items() if isinstance(params, dict) else ())
        if isinstance(p, dict) and (p.get("type") in shellvars.INERT_TYPES or p.get("choices") is not None)
    )
    caps = _raw_captures(data)
    inert |= frozenset(n for n, (_, t) in caps.items() if t in NUMERIC_TYPES)
    in_post = frozenset(allowed | templating.POST_ONLY_NAMES)
    for loc, text in _executed_strings(data, (), executed=False):
        visible = _visible_captures(loc, caps)
        base = in_post if loc[:1] == ("post",) else allowed
        refs, problems = templating.scan(text, base | visible)
        names = {r.offset: r.name for r in templating.scan(text)[0]}
        for prob in problems:
            name = names.get(prob.offset)
            if name in caps and name not in declared and name not in visible:
                yield Diagnostic(smap.path, smap.in_text(loc, prob.offset, text),
                                 _too_early(name, caps[name][0], loc), "capture-used-too-early")
                continue
            code = ("undeclared-parameter" if "not a declared parameter" in prob.message
                    or "defined only in post-execution" in prob.message else "template-expression")
            yield Diagnostic(smap.path, smap.in_text(loc, prob.offset, text), prob.message, code)
        if loc and (loc[-1] == "run" or (loc[-1] == "command" and loc[:2] == ("final_validation", "health"))):
            _, shell_problems = shellvars.render(text, refs, inert)
            for sp in shell_problems:
                yield Diagnostic(smap.path, smap.in_text(loc, sp.offset, text), sp.message, "unsafe-shell-use")
        elif len(loc) >= 2 and loc[-2] == "task" and refs:
            module = str(loc[-1])
            if module.rsplit(".", 1)[-1] in _SHELL_MODULES:
                yield Diagnostic(
                    smap.path, smap.in_text(loc, refs[0].offset, text),
                    f"'{{{{ {refs[0].name} }}}}' in the command of '{module}' would become shell syntax: "
                    "use 'run:' instead, where parameters reach bash as variables", "unsafe-shell-use")
        elif len(loc) >= 3 and loc[-3] == "task" and loc[-1] == "cmd" and refs:
            module = str(loc[-2])
            if module.rsplit(".", 1)[-1] in _SHELL_MODULES | {"command"}:
                yield Diagnostic(
                    smap.path, smap.in_text(loc, refs[0].offset, text),
                    f"'{{{{ {refs[0].name} }}}}' in the 'cmd' of '{module}' is split into words or run by a "
                    "shell: use 'argv:' (one list item per argument), or 'run:'", "unsafe-shell-use")


def _raw_captures(data: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """Each capture name of the source (first one wins): its 0-based step and its declared type."""
    out: dict[str, tuple[int, str]] = {}
    steps = data.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        cap = step.get("capture") if isinstance(step, dict) else None
        for name, spec in (cap.items() if isinstance(cap, dict) else ()):
            if isinstance(name, str) and name not in out:
                kind = spec.get("type", "string") if isinstance(spec, dict) else "string"
                out[name] = (i, kind if isinstance(kind, str) else "string")
    return out


def _visible_captures(loc: PathKey, caps: dict[str, tuple[int, str]]) -> frozenset[str]:
    """The captures text at ``loc`` may read.

    A step's command reads the captures of earlier steps; its validation and
    rollback also read its own (they run after its command). Pre-flight
    reads none; final validation, the full rollback and post actions read
    all of them (a post action after a run that stopped early reads '').
    """
    if loc[:1] == ("preflight",):
        return frozenset()
    if loc[:1] == ("steps",) and len(loc) > 1 and isinstance(loc[1], int):
        i = loc[1]
        own = len(loc) > 2 and loc[2] in ("validate", "rollback")
        return frozenset(n for n, (j, _) in caps.items() if j < i or (own and j == i))
    return frozenset(caps)


def _too_early(name: str, at: int, loc: PathKey) -> str:
    where = step_ref(loc[1]) if loc[:1] == ("steps",) and isinstance(loc[1], int) else "pre-flight"
    if loc[:1] == ("steps",) and loc[1] == at:
        return (f"'{{{{ {name} }}}}' is captured by this step ({step_ref(at)}) from its command's output: "
                "the command itself cannot read it (its validation and rollback can)")
    return (f"'{{{{ {name} }}}}' is used in {where} but captured only by {step_ref(at)}: a captured value "
            "can be read after the step that captures it (its validation and rollback, later steps, "
            "final validation, the full rollback, post actions)")


def _capture_clashes(data: dict[str, Any], smap: SourceMap) -> Iterator[Diagnostic]:
    """A capture named like a parameter, a built-in variable or another step's capture."""
    params = data.get("parameters")
    declared = set(params) if isinstance(params, dict) else set()
    first: dict[str, int] = {}
    steps = data.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        cap = step.get("capture") if isinstance(step, dict) else None
        for name in (cap if isinstance(cap, dict) else ()):
            if not isinstance(name, str) or not PARAM_NAME.fullmatch(name) or name in RESERVED_NAMES \
                    or name.startswith(("procc_", "ansible_", "_")):
                continue  # the model refuses the name itself
            why = None
            if name in declared:
                why = f"a parameter is named '{name}' too: rename the capture (a parameter is set before the run)"
            elif name in templating.BUILTIN_NAMES or name in templating.POST_ONLY_NAMES:
                why = f"'{name}' is a built-in variable: choose another name"
            elif name in first:
                why = f"{step_ref(first[name])} captures '{name}' already: give each captured value its own name"
            else:
                first[name] = i
            if why is not None:
                yield Diagnostic(smap.path, smap.key(("steps", i, "capture", name)),
                                 f"capture '{name}' of {step_ref(i)}: {why}", "capture-name-clash")


# Modules whose free-form text is a shell command line.
_SHELL_MODULES = frozenset({"shell", "raw", "script", "command", "win_shell", "win_command"})


def _executed_strings(node: Any, loc: PathKey, executed: bool) -> Iterator[tuple[PathKey, str]]:
    if isinstance(node, str):
        if executed:
            yield loc, node
    elif isinstance(node, dict):
        for key, value in node.items():
            if not loc and key in _DOC_ONLY_SECTIONS:
                continue
            if key == "capture" and len(loc) == 2 and loc[0] == "steps":
                continue  # how a value is read (a regex, a JSON path) is data, never templated
            yield from _executed_strings(value, (*loc, key), executed or key in _EXECUTED_KEYS)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _executed_strings(value, (*loc, i), executed)
