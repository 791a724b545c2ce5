"""sre: an important procedure says whom to call."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source


class EscalationContacts(Rule):
    """A critical or high procedure has no escalation contacts.

    The template's "Contactos de Escalamiento" (Tech Lead, DBA, DevOps,
    on-call) is the way out when the runbook is not enough.

    Bad::

        criticality: critical
        references: {related: [PROC-BACKEND-002]}

    Good::

        criticality: critical
        references:
          contacts:
            - {role: On-Call, name: Rotacion SRE, contact: "#sre-oncall"}
    """

    id = "escalation-contacts"
    severity = "warning"
    perspectives = ("sre",)
    summary = "critical and high procedures name escalation contacts"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        if proc.criticality in ("critical", "high") and not proc.references.contacts:
            yield self.report(source, source.smap.value(("criticality",)),
                              f"a {proc.criticality} procedure needs escalation contacts "
                              "(references.contacts)")
