"""devops/sre: every step's drill can pass (no step leaves a rollback it cannot finish)."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source


class DrillNeverPasses(Rule):
    """A step declared ``irreversible`` makes the drill of that step and of every later one fail.

    A drill (``procc run --fail-at K``, Molecule's drills) passes only when
    every started step is rolled back. An irreversible step has started in
    every drill at or after it, so those drills end ``failed`` forever and
    the team stops trusting them. Most "irreversible" steps are one of two
    things: a change that leaves nothing to undo (a cache purge, evidence kept
    on purpose, logs beyond retention), which is
    ``rollback: {none-needed: <reason>}`` and counts as rolled back; or a
    deletion that can become recoverable (move to a trash directory that the
    rollback restores and post-execution empties). Keep ``irreversible`` for
    what truly cannot be undone, as late as possible, and suppress this rule
    with the reason.

    Bad::

        steps:
          - title: Vaciar la cache
            minutes: 1
            run: rm -rf /var/cache/app/*
            irreversible: la cache no se puede recuperar
          - title: Reiniciar
            minutes: 1
            run: systemctl restart app
            rollback: {run: systemctl restart app}

    Good::

        steps:
          - title: Vaciar la cache
            minutes: 1
            run: rm -rf /var/cache/app/*
            rollback:
              none-needed: la cache se regenera sola en la siguiente peticion
          - title: Reiniciar
            minutes: 1
            run: systemctl restart app
            rollback: {run: systemctl restart app}
    """

    id = "drill-never-passes"
    severity = "warning"
    perspectives = ("devops", "sre")
    summary = "no step is irreversible, so the drill of every step can pass"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        steps = source.procedure.steps
        n = len(steps)
        for i, step in enumerate(steps):
            if step.irreversible is None:
                continue
            k = i + 1
            which = (f"the drill of step {k} can" if k == n else
                     f"the drills of steps {k}-{n} can" if n - k > 1 else f"the drills of steps {k} and {n} can")
            yield self.report(
                source, source.smap.key(("steps", i, "irreversible")),
                f"{which} never pass: step {k} '{step.title}' is irreversible, so a failure "
                "at or after it cannot roll back completely; if nothing needs undoing write "
                "'rollback: {none-needed: <reason>}', otherwise give it a real rollback (e.g. move what it "
                "deletes to a trash directory that the rollback restores)",
            )
