"""sre: success is measured with numbers, not adjectives."""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source

VAGUE = re.compile(
    r"\b(normal(es)?|adecuad[oa]s?|aceptables?|razonables?|correct[oa]s?|bien|ok|estables?|"
    r"rangos?|fine|reasonable|acceptable|healthy|as expected|esperad[oa]s?)\b",
    re.IGNORECASE,
)
MEASURABLE = re.compile(r"\d|[<>=]|\b(sin|ning[uú]n[oa]?|cero|no|zero|none)\b", re.IGNORECASE)


class SuccessMetricsNumeric(Rule):
    """Success criteria are not measurable.

    The final validation needs at least one metric with a numeric threshold
    (``below``/``above``) when the procedure changes something important
    (criticality critical or high), and its free-text ``monitoring`` items
    must say a number ("error rate < 1%", "0 alertas"), not "metricas
    normales".

    Bad::

        final_validation:
          monitoring: [Metricas dentro de rangos normales]

    Good::

        final_validation:
          metrics:
            - {name: error_rate, run: "curl -fsS localhost:9090/err", below: 0.01}
          monitoring: [Error rate < 1% en los ultimos 5 minutos]
    """

    id = "success-metrics-numeric"
    severity = "warning"
    perspectives = ("sre",)
    summary = "success metrics have numeric thresholds"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        fv = proc.final_validation
        if proc.criticality in ("critical", "high") and not fv.metrics:
            loc = ("final_validation",) if "final_validation" in proc.model_fields_set else ("id",)
            yield self.report(
                source, source.smap.key(loc),
                f"a {proc.criticality} procedure needs at least one final metric with a numeric "
                "threshold (final_validation.metrics)",
            )
        for i, item in enumerate(fv.monitoring):
            m = VAGUE.search(item)
            if m and not MEASURABLE.search(item):
                yield self.report(
                    source, source.smap.value(("final_validation", "monitoring", i)),
                    f"success criterion '{item}' is not measurable ('{m.group(0)}'); give a number",
                )
