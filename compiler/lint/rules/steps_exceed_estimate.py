"""sre: the estimate in the header is not a lie."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source


class StepsExceedEstimate(Rule):
    """The steps' ``minutes`` add up to more than ``estimated_minutes``.

    The runbook prints both; the on-call engineer plans a maintenance
    window with the header's figure.

    Bad::

        estimated_minutes: 5
        steps:
          - {title: Uno, minutes: 4, ...}
          - {title: Dos, minutes: 3, ...}

    Good::

        estimated_minutes: 10
        steps:
          - {title: Uno, minutes: 4, ...}
          - {title: Dos, minutes: 3, ...}
    """

    id = "steps-exceed-estimate"
    severity = "error"
    perspectives = ("sre", "devops")
    summary = "the steps' minutes add up to no more than the procedure's estimate"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        total = sum(step.minutes for step in proc.steps)
        if total > proc.estimated_minutes + 1e-9:
            yield self.report(
                source, source.smap.value(("estimated_minutes",)),
                f"the steps add up to {total:g} minutes, more than estimated_minutes "
                f"{proc.estimated_minutes:g}",
            )
