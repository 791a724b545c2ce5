"""devops/sre: an action declared read-only (``changes: false``) does not change the system.

A read-only action is never reported as changed and runs for real under
``--check``. A command that writes (a redirection, ``rm``, ``systemctl
restart``, SQL that writes ...) declared so would change the system during
a dry run and hide its changes from the recap.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule, actions
from compiler.lint.changes import action_change
from compiler.parse import Source


class ReadOnlyChanges(Rule):
    """An action declared ``changes: false`` runs something that changes the system.

    The same heuristics as ``step-missing-rollback`` decide what changes
    something. When the write is intended even in check mode (a report that
    is the procedure's output), suppress the rule with the reason.

    Bad::

        steps:
          - title: Leer el estado
            minutes: 1
            changes: false
            run: systemctl restart backend-api

    Good::

        steps:
          - title: Leer el estado
            minutes: 1
            changes: false
            run: systemctl is-active backend-api
    """

    id = "read-only-changes"
    severity = "warning"
    perspectives = ("devops", "sre")
    summary = "an action declared changes: false only reads"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for loc, action in actions(source.procedure):
            if action.changes is not False:
                continue
            where = action_change(action, loc, source)
            if where is not None:
                yield self.report(
                    source, where,
                    "declared 'changes: false' but this changes the system, and read-only actions run for "
                    "real under --check; remove 'changes: false' or make the command read-only",
                )
