"""governance: nothing is approved before it was tested."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source


class UntestedApproval(Rule):
    """The procedure is approved (or critical) but records no test run (``approvals.tested_in``).

    The risk table's first line: "Procedimientos no testeados ... Requerir
    testing en staging antes de aprobar". Record where and when it was
    tested (a Molecule scenario or a staging run with ``procc run``).

    Bad::

        approvals:
          approved_by: {name: Marta Diaz, date: 2026-11-20}

    Good::

        approvals:
          approved_by: {name: Marta Diaz, date: 2026-11-20}
          tested_in: {env: staging, date: 2026-11-19}
    """

    id = "untested-approval"
    severity = "warning"
    perspectives = ("governance", "devops")
    summary = "approved or critical procedures record where they were tested"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        ap = proc.approvals
        if ap.tested_in is not None:
            return
        if ap.approved_by is not None:
            yield self.report(source, source.smap.key(("approvals", "approved_by")),
                              "approved but not tested: add approvals.tested_in (env and date)")
        elif proc.criticality == "critical":
            yield self.report(source, source.smap.value(("criticality",)),
                              "a critical procedure must record approvals.tested_in (env and date)")
