"""devops: every captured value is read somewhere."""

from __future__ import annotations

from collections.abc import Iterator

from compiler import templating
from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.model import Action, ChangesWhen, Procedure, actions
from compiler.parse import Source


def _texts(act: Action) -> Iterator[str]:
    """Every executed text of ``act`` that may read a captured value."""
    yield from (t for t in (act.run, repr(act.task or {}), repr(act.vars)) if t)
    expect = getattr(act, "expect", None)
    for t in (getattr(expect, "stdout_contains", None), getattr(expect, "stdout_regex", None)):
        if isinstance(t, str):
            yield t
    if isinstance(act.changes, ChangesWhen) and act.changes.stdout_contains:
        yield act.changes.stdout_contains
    for which in ("below", "above"):
        value = getattr(act, which, None)
        if isinstance(value, str):
            yield value


def used_names(proc: Procedure) -> set[str]:
    """The names every executed text of ``proc`` reads (commands, checks, thresholds, health checks)."""
    names = {r.name for _, act in actions(proc) for t in _texts(act) for r in templating.references(t)}
    names |= {r.name for h in proc.final_validation.health for t in h.texts() for r in templating.references(t)}
    return names


class CaptureUnused(Rule):
    """A step captures a value that nothing reads.

    A capture costs a check after the step and asks the engineer who runs
    the runbook by hand to note the value: one that nothing reads is a
    leftover (a renamed use, a removed step) or a typo in the name that
    uses it.

    Bad::

        - title: Contar filas
          run: sqlite3 app.db 'SELECT count(*) FROM users'
          capture:
            rows_before: {stdout: true, type: int}
        # ... and no '{{ rows_before }}' anywhere

    Good::

        final_validation:
          metrics:
            - {name: rows, run: "sqlite3 app.db 'SELECT count(*) FROM users'", above: "{{ rows_before }}"}
    """

    id = "capture-unused"
    severity = "warning"
    perspectives = ("devops",)
    summary = "every captured value is used by a later step, check, rollback, metric or post action"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        if not any(step.capture for step in proc.steps):
            return
        used = used_names(proc)
        for i, step in enumerate(proc.steps):
            for name in step.capture:
                if name not in used:
                    yield self.report(source, source.smap.key(("steps", i, "capture", name)),
                                      f"'{name}' is captured by Paso {i + 1} but nothing reads "
                                      f"'{{{{ {name} }}}}': use it or remove the capture")
