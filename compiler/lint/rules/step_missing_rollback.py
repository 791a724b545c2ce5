"""devops: a step that changes something can be undone, or says why it cannot."""

from __future__ import annotations

from collections.abc import Iterator

from compiler import covers
from compiler.errors import Diagnostic, step_ref
from compiler.lint.base import Rule
from compiler.lint.changes import step_change
from compiler.parse import Source


class StepMissingRollback(Rule):
    """A step that changes the system has no ``rollback`` and does not say why.

    Read-only steps (``df``, ``cat``, ``curl`` GET, ``systemctl status`` ...)
    need no rollback. Any other command, a redirection to a file, a module
    that is not read-only or a role counts as a change. A change that leaves
    nothing to undo (a cache purge, evidence kept on purpose) says so with
    ``rollback: {none-needed: <reason>}``: it counts as rolled back, so drills
    still pass. A change that cannot be undone is declared with
    ``irreversible: <reason>``, which the runbook and the playbook's failure
    summary both name (and no drill at or after it can pass).

    Bad::

        steps:
          - title: Activar nueva version
            minutes: 1
            run: ln -sfn /opt/app/releases/{{ release }} /opt/app/current

    A step that a later step's rollback covers (``covers``) still needs its
    own: the covering rollback runs only once the covering step started, so
    a failure at this step, or between the two, undoes it with its own.

    Good::

        steps:
          - title: Activar nueva version
            minutes: 1
            run: ln -sfn /opt/app/releases/{{ release }} /opt/app/current
            rollback:
              run: ln -sfn /opt/app/releases/{{ previous }} /opt/app/current
          - title: Vaciar la cache
            minutes: 1
            run: rm -rf /var/cache/app/*
            rollback:
              none-needed: la cache se regenera sola en la siguiente peticion
    """

    id = "step-missing-rollback"
    severity = "error"
    perspectives = ("devops", "sre")
    summary = "a step that changes something has a rollback or is declared irreversible"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        by = covers.coverers(source.procedure)
        for i, step in enumerate(source.procedure.steps):
            if step.undo != "none":
                continue
            where = step_change(step, ("steps", i), source)
            if where is not None:
                later = by.get(i + 1, [])
                why = (f" (the rollback of step {', '.join(str(k) for k in later)} covers it, but only once "
                       f"{'that step' if len(later) == 1 else 'one of those steps'} started: a failure before "
                       "needs this step's own)") if later else ""
                yield self.report(
                    source, where,
                    f"{step_ref(i)} '{step.title}' changes the system but has no rollback{why}; "
                    "add 'rollback', 'rollback: {none-needed: <reason>}' or 'irreversible: <reason>'",
                )
