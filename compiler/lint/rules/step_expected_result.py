"""dev: every step says what success looks like."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic, step_ref
from compiler.lint.base import Rule
from compiler.parse import Source


class StepExpectedResult(Rule):
    """A step has no ``expected`` result ("Resultado Esperado").

    Someone new to the system cannot tell whether the output they see is
    right without it.

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
            expected: El servicio queda active (running)
    """

    id = "step-expected-result"
    severity = "error"
    perspectives = ("dev",)
    summary = "every step has an expected result"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for i, step in enumerate(source.procedure.steps):
            if not step.expected.strip():
                yield self.report(source, source.smap.value(("steps", i)),
                                  f"{step_ref(i)} '{step.title}' has no 'expected' result")
