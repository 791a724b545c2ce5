"""sre: the decision to roll back is made on observable facts."""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source

# A number, a comparison, or a named failing check/state is observable.
OBSERVABLE = re.compile(
    r"\d|[<>]|\b(fall[ao]n?|fail(s|ed|ure)?|no responde|not respond\w*|ca[ií]d[oa]|down|"
    r"timeout|rc\s*!=|http\s*\d|5xx|4xx|incident commander|instrucci[oó]n|orders?)\b",
    re.IGNORECASE,
)


class RollbackTriggerMeasurable(Rule):
    """A rollback trigger is not measurable, or a full rollback has no trigger.

    "Cuando ejecutar rollback" must be decidable at 3am: a threshold
    ("Error rate > 5%"), a failing check ("La validacion final falla") or an
    explicit instruction of the incident commander, not "cifras erroneas".

    Bad::

        rollback:
          triggers: [El sistema va mal]

    Good::

        rollback:
          triggers: [Error rate > 5% durante 5 minutos, La validacion final falla]
    """

    id = "rollback-trigger-measurable"
    severity = "warning"
    perspectives = ("sre",)
    summary = "rollback triggers are measurable"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        rb = source.procedure.rollback
        if rb.steps and not rb.triggers:
            yield self.report(source, source.smap.key(("rollback",)),
                              "the full rollback has steps but no 'triggers' (when to run it)")
        for i, trigger in enumerate(rb.triggers):
            if not OBSERVABLE.search(trigger):
                yield self.report(
                    source, source.smap.value(("rollback", "triggers", i)),
                    f"rollback trigger '{trigger}' is not measurable; give a threshold or a failing check",
                )
