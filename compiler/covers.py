"""Rollbacks that cover earlier steps (``rollback: {run: ..., covers: [backup, 2]}``).

A step's rollback may say that it also undoes earlier steps. When the
covering step started, the rescue (and ``procc rollback``) runs its rollback
and skips the rollbacks of the steps it covers, which count as rolled back
once it succeeds; when it did not start, the covered steps' own rollbacks
run as usual. This module resolves the references (ids or 1-based numbers)
of a valid procedure, and checks them on the raw document, with positions,
for :mod:`compiler.parse`.

Rules (each a positioned ``invalid-covers`` error): a reference names an
existing step (a typo gets "did you mean"), an earlier one (not the step
itself nor a later one), once; never an irreversible step (nothing can undo
it); and coverage is closed: when step K covers step J whose rollback covers
I, K covers I too, or I's rollback would never run once K started.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from compiler.errors import Diagnostic, step_ref
from compiler.loader import SourceMap
from compiler.model import NONE_NEEDED, Procedure, Step, per_procedure

CODE = "invalid-covers"


def number_of(steps: list[Step], ref: int | str) -> int:
    """The 1-based number of the step ``ref`` names, in a procedure that validated."""
    if isinstance(ref, int):
        return ref
    return next(k for k, s in enumerate(steps, 1) if s.id == ref)


@per_procedure
def covered(proc: Procedure) -> dict[int, list[int]]:
    """Covering step number -> the step numbers its rollback also undoes, newest first."""
    out: dict[int, list[int]] = {}
    for k, step in enumerate(proc.steps, 1):
        if step.rollback is not None and step.rollback.covers:
            out[k] = sorted({number_of(proc.steps, r) for r in step.rollback.covers}, reverse=True)
    return out


@per_procedure
def coverers(proc: Procedure) -> dict[int, list[int]]:
    """Covered step number -> the steps whose rollback covers it, in order."""
    out: dict[int, list[int]] = {}
    for k, js in sorted(covered(proc).items()):
        for j in js:
            out.setdefault(j, []).append(k)
    return out


def diagnostics(data: dict[str, Any], smap: SourceMap) -> Iterator[Diagnostic]:
    """Every wrong ``covers`` reference of the raw document, at its position."""
    steps = data.get("steps")
    if not isinstance(steps, list):
        return
    ids = {s["id"]: k for k, s in enumerate(steps, 1) if isinstance(s, dict) and isinstance(s.get("id"), str)}
    resolved: dict[int, set[int]] = {}
    where: dict[int, int] = {}  # covering step -> index of its covers list (for the closure message)
    for i, step in enumerate(steps):
        rb = step.get("rollback") if isinstance(step, dict) else None
        if not isinstance(rb, dict) or "covers" not in rb or NONE_NEEDED in rb:
            continue  # the none-needed form is refused by the model, at the rollback
        refs = rb["covers"]
        if not isinstance(refs, list):
            continue  # the model says it must be a list
        k = i + 1
        seen: set[int] = set()
        for n, ref in enumerate(refs):
            loc = ("steps", i, "rollback", "covers", n)
            problem, j = _resolve(ref, k, steps, ids)
            if problem is None and j is not None and j in seen:
                problem = f"step {j} is listed twice"
            if problem is not None:
                yield Diagnostic(smap.path, smap.value(loc), f"{step_ref(i)}: covers: {problem}", CODE)
                continue
            assert j is not None
            seen.add(j)
        if seen:
            resolved[k] = seen
            where[k] = i
    # Closure: what a covered step's rollback covers, the covering one covers too.
    for k, js in sorted(resolved.items()):
        for j in sorted(js, reverse=True):
            missing = sorted(resolved.get(j, set()) - js)
            if missing:
                names = ", ".join(str(m) for m in missing)
                yield Diagnostic(
                    smap.path, smap.key(("steps", where[k], "rollback", "covers")),
                    f"{step_ref(where[k])}: covers step {j}, whose rollback covers step{'s' if len(missing) > 1 else ''}"
                    f" {names}: list {names} here too, or once step {k} started no rollback would undo "
                    f"{'them' if len(missing) > 1 else 'it'}", CODE)


def _resolve(ref: Any, k: int, steps: list[Any], ids: dict[str, int]) -> tuple[str | None, int | None]:
    """(problem, step number) of one reference written in step ``k``'s rollback."""
    if isinstance(ref, bool) or not isinstance(ref, int | str):
        return "name a step by its id ('backup') or its number (1)", None
    if isinstance(ref, int):
        if not 1 <= ref <= len(steps):
            return f"there is no step {ref} (the steps are 1-{len(steps)})", None
        j = ref
    elif ref in ids:
        j = ids[ref]
    else:
        close = difflib.get_close_matches(ref, list(ids), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else (
            f"; step ids here: {', '.join(ids)}" if ids else "; no step has an id: name steps by number")
        return f"no step has the id '{ref}'{hint}", None
    if j == k:
        return f"step {j} is this step: its own rollback undoes it already; list only earlier steps", None
    if j > k:
        return (f"step {j} comes after step {k}: a rollback can only cover earlier steps (rollbacks run "
                f"newest first, so move 'covers' to the rollback of step {j})"), None
    target = steps[j - 1]
    if isinstance(target, dict) and "irreversible" in target:
        return (f"step {j} is irreversible: no rollback can undo it (if nothing needs undoing there, write "
                f"'rollback: {{{NONE_NEEDED}: <reason>}}' on it instead)"), None
    return None, j
