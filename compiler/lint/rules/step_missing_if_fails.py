"""sre: every step says what to do when it fails."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic, step_ref
from compiler.lint.base import Rule
from compiler.parse import Source


class StepMissingIfFails(Rule):
    """A step has no ``if_fails`` guidance ("Si falla").

    At 3am the person running the procedure needs the first things to look
    at (logs, a dependency, which rollback) before escalating.

    Bad::

        steps:
          - title: Migrar esquema
            minutes: 2
            run: ./migrate.sh

    Good::

        steps:
          - title: Migrar esquema
            minutes: 2
            run: ./migrate.sh
            if_fails:
              - Revisar /var/log/backend/migrate.log
    """

    id = "step-missing-if-fails"
    severity = "warning"
    perspectives = ("sre", "dev")
    summary = "every step says what to check if it fails"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for i, step in enumerate(source.procedure.steps):
            if not step.if_fails:
                yield self.report(source, source.smap.value(("steps", i)),
                                  f"{step_ref(i)} '{step.title}' has no 'if_fails' guidance")
