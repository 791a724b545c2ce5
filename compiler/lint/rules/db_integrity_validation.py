"""dba: after a database change, the data is checked."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic, step_ref
from compiler.lint.base import Rule, actions
from compiler.lint.db import db_write, has_query
from compiler.parse import Source


class DbIntegrityValidation(Rule):
    """A step changes a database but nothing queries the database afterwards.

    The step's ``validate`` or a final metric/smoke test must query the
    database (``psql -c "SELECT count(*) ..."``, ``pg_amcheck``,
    ``mysqlcheck``, a ``*_query`` module) to show the data is intact.

    Bad::

        steps:
          - title: Migrar esquema
            minutes: 2
            run: alembic upgrade head
            validate: {run: systemctl is-active backend-api}

    Good::

        steps:
          - title: Migrar esquema
            minutes: 2
            run: alembic upgrade head
            validate:
              run: psql -tAc "SELECT count(*) FROM alembic_version"
              expect: {stdout_contains: "1"}
    """

    id = "db-integrity-validation"
    severity = "error"
    perspectives = ("dba",)
    summary = "a step that changes a database has a data integrity validation"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        final = [(loc, a) for loc, a in actions(proc) if loc[0] == "final_validation"]
        if has_query(final):
            return
        for i, step in enumerate(proc.steps):
            where = db_write(step, ("steps", i), source)
            if where is None:
                continue
            own = [(("steps", i, "validate"), step.validate_)] if step.validate_ else []
            if not has_query(own):
                yield self.report(source, where,
                                  f"{step_ref(i)} '{step.title}' changes a database but no validation "
                                  "queries it (integrity check in 'validate' or final_validation)")
