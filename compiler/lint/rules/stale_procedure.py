"""governance: procedures are reviewed at least every six months."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source

REVIEW_MONTHS = 6


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for d in range(day.day, 27, -1):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    return dt.date(year, month, min(day.day, 28))


class StaleProcedure(Rule):
    """The procedure was last updated more than six months ago, or ``updated`` is in the future.

    The template: "Proxima revision: YYYY-MM-DD (cada 6 meses)", and the
    risk "Desactualizacion de procedimientos". Review it, then bump
    ``updated`` (and ``version``/``changelog`` if something changed).
    Relative to today (``procc lint --today`` fixes the date for CI).

    Bad::

        updated: 2025-01-15   # linted on 2026-11-28

    Good::

        updated: 2026-10-02
    """

    id = "stale-procedure"
    severity = "warning"
    perspectives = ("governance", "sre")
    summary = "the last update is less than six months old (and not in the future)"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        updated = source.procedure.updated
        due = months_before(self.today, REVIEW_MONTHS)
        here = source.smap.value(("updated",))
        if updated < due:
            yield self.report(source, here,
                              f"last updated {updated.isoformat()}, more than {REVIEW_MONTHS} months "
                              f"before {self.today.isoformat()}; review the procedure")
        elif updated > self.today:
            yield self.report(source, here,
                              f"'updated' {updated.isoformat()} is in the future "
                              f"(today is {self.today.isoformat()})")
