"""governance: who reviewed and who approved an important procedure."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source


class CriticalApproval(Rule):
    """A critical procedure lacks reviewers or an approver; a high one lacks reviewers.

    From the template's README: "CRITICA: Afecta produccion, requiere
    aprobacion Tech Lead"; "ALTA: requiere revision". The risk table adds
    "Peer review obligatorio de seccion de rollback".

    Bad::

        criticality: critical
        reviewers: []

    Good::

        criticality: critical
        reviewers: [Luis Gomez]
        approvals:
          approved_by: {name: Marta Diaz (Tech Lead), date: 2026-11-20}
    """

    id = "critical-approval"
    severity = "error"
    perspectives = ("governance",)
    summary = "critical procedures have reviewers and an approver (high ones, reviewers)"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        if proc.criticality not in ("critical", "high"):
            return
        here = source.smap.value(("criticality",))
        if not proc.reviewers:
            yield self.report(source, here, f"a {proc.criticality} procedure needs 'reviewers'")
        if proc.criticality == "critical" and proc.approvals.approved_by is None:
            yield self.report(source, here,
                              "a critical procedure needs an approver (approvals.approved_by)")
