"""dba: a database change can be restored."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic, step_ref
from compiler.lint.base import Rule
from compiler.lint.db import db_write, has_restore
from compiler.parse import Source


class DbRestoreRollback(Rule):
    """A step changes a database but neither its rollback nor the full rollback restores it.

    A restore is ``pg_restore``, ``psql``/``mysql`` fed from the dump, or the
    ``restore`` role. A step declared ``irreversible`` must still be covered
    by the full rollback's restore.

    Bad::

        steps:
          - title: Migrar esquema
            minutes: 2
            run: alembic upgrade head
            rollback: {run: echo nada}

    Good::

        steps:
          - title: Migrar esquema
            minutes: 2
            run: alembic upgrade head
            rollback: {run: pg_restore --clean -d backend /backups/pre.dump}
    """

    id = "db-restore-rollback"
    severity = "error"
    perspectives = ("dba",)
    summary = "a step that changes a database has a database restore in its rollback"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        full = [(("rollback", "steps", i), s) for i, s in enumerate(proc.rollback.steps)]
        full_restores = has_restore(full)
        for i, step in enumerate(proc.steps):
            where = db_write(step, ("steps", i), source)
            if where is None or full_restores:
                continue
            own = [(("steps", i, "rollback"), step.rollback)] if step.rollback else []
            if not has_restore(own):
                yield self.report(source, where,
                                  f"{step_ref(i)} '{step.title}' changes a database but no rollback "
                                  "restores it (pg_restore, psql < dump, role restore)")
