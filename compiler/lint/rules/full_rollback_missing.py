"""devops/sre: a procedure that changes something has a "Rollback Completo"."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic, step_ref
from compiler.lint.base import Rule
from compiler.lint.changes import step_change
from compiler.parse import Source


class FullRollbackMissing(Rule):
    """The procedure changes the system but has no procedure-level rollback.

    The template's "Rollback Completo" (and its note "SIEMPRE incluir
    rollback completo") is what runs when the final validation fails after
    every step succeeded; per-step rollbacks do not cover that case.

    Bad::

        steps:
          - title: Activar version
            minutes: 1
            run: ln -sfn /opt/app/releases/v2 /opt/app/current
            rollback: {run: ln -sfn /opt/app/releases/v1 /opt/app/current}
        # no top-level 'rollback'

    Good::

        rollback:
          triggers: [Error rate > 5% durante 5 minutos]
          steps:
            - title: Volver a la version anterior
              run: ln -sfn /opt/app/releases/v1 /opt/app/current
    """

    id = "full-rollback-missing"
    severity = "error"
    perspectives = ("devops", "sre")
    summary = "a procedure that changes something has a full rollback (Rollback Completo)"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        if proc.rollback.steps:
            return
        for i, step in enumerate(proc.steps):
            if step_change(step, ("steps", i), source) is not None:
                yield self.report(
                    source, source.smap.key(("rollback",)) if "rollback" in proc.model_fields_set
                    else source.smap.key(("steps",)),
                    f"the procedure changes the system ({step_ref(i)}) but has no 'rollback.steps' "
                    "(Rollback Completo)",
                )
                return
