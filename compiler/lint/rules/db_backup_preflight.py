"""dba: a database change starts from a fresh backup."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic, step_ref
from compiler.lint.base import Rule
from compiler.lint.db import db_write, has_backup
from compiler.parse import Source


class DbBackupPreflight(Rule):
    """A step changes a database but the pre-flight takes no database backup.

    A step touches a database when it runs DDL/DML (``ALTER``, ``DROP``,
    ``TRUNCATE``, ``DELETE FROM``, ``UPDATE ... SET`` ...), a migration
    (``flyway migrate``, ``alembic upgrade``, ``manage.py migrate`` ...), a
    client fed from a file (``psql -f``, ``mysql < file``) or a database
    module. The pre-flight must then run ``pg_dump``/``mysqldump``/
    ``pg_basebackup`` (or the ``backup`` role).

    Bad::

        preflight: []
        steps:
          - title: Borrar sesiones viejas
            minutes: 1
            run: psql -c "DELETE FROM sessions WHERE expires < now()"

    Good::

        preflight:
          - title: Backup de la base
            run: pg_dump -Fc backend > /backups/pre.dump
        steps:
          - title: Borrar sesiones viejas
            minutes: 1
            run: psql -c "DELETE FROM sessions WHERE expires < now()"
    """

    id = "db-backup-preflight"
    severity = "error"
    perspectives = ("dba",)
    summary = "a step that changes a database requires a database backup in pre-flight"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        preflight = [(("preflight", i), c) for i, c in enumerate(proc.preflight)]
        if has_backup(preflight):
            return
        for i, step in enumerate(proc.steps):
            where = db_write(step, ("steps", i), source)
            if where is not None:
                yield self.report(source, where,
                                  f"{step_ref(i)} '{step.title}' changes a database but the pre-flight "
                                  "takes no database backup (pg_dump, mysqldump, role backup)")
