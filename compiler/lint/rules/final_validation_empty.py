"""sre/devops: success is checked by the machine, not assumed."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source


class FinalValidationEmpty(Rule):
    """The final validation has nothing executable: no health check, metric or smoke test.

    Without one, the playbook reports success as soon as the last step
    ends, and the full rollback can never be triggered automatically.

    Bad::

        final_validation:
          monitoring: [Revisar el panel]

    Good::

        final_validation:
          smoke:
            - {title: La API responde, run: curl -fsS http://localhost:8080/version}
    """

    id = "final-validation-empty"
    severity = "error"
    perspectives = ("sre", "devops")
    summary = "the final validation has at least one executable check"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        fv = proc.final_validation
        if fv.health or fv.metrics or fv.smoke:
            return
        loc = ("final_validation",) if "final_validation" in proc.model_fields_set else ("id",)
        yield self.report(source, source.smap.key(loc),
                          "the final validation has no health check, metric or smoke test")
