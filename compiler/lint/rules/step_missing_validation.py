"""devops: every step that runs something says how to check that it worked."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic, step_ref
from compiler.lint.base import Rule
from compiler.parse import Source


class StepMissingValidation(Rule):
    """A step runs commands but has no ``validate``.

    The template asks for a "Validacion" in every step: without it the
    playbook cannot tell a step that did nothing from one that worked, and
    the person at 3am has nothing to compare against.

    Bad::

        steps:
          - title: Reiniciar servicio
            minutes: 1
            run: systemctl restart backend-api

    Good::

        steps:
          - title: Reiniciar servicio
            minutes: 1
            run: systemctl restart backend-api
            validate:
              run: systemctl is-active backend-api
    """

    id = "step-missing-validation"
    severity = "error"
    perspectives = ("devops",)
    summary = "a step with commands has a validation"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for i, step in enumerate(source.procedure.steps):
            if step.validate_ is None:
                yield self.report(
                    source, source.smap.value(("steps", i)),
                    f"{step_ref(i)} '{step.title}' has commands but no validation; add 'validate'",
                )
