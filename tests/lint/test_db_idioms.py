"""The DBA rules know PostgreSQL, MySQL/MariaDB and SQLite idioms (issue 13, item 7).

Each case is a shell text and what the rules must see in it: a backup, a
restore, a change. A heredoc counts as a restore only when its statements
restore; whole procedures are linted further down.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.lint import shell
from compiler.lint.engine import lint_files

# text -> (is a backup, is a restore, changes a database)
CASES: dict[str, tuple[bool, bool, bool]] = {
    # SQLite
    'sqlite3 /srv/app.db ".backup /backups/pre.db"': (True, False, False),
    "sqlite3 /srv/app.db 'VACUUM INTO \"/backups/pre.db\"'": (True, False, False),
    "sqlite3 /srv/app.db .dump > /backups/pre.sql": (True, False, False),
    'sqlite3 /srv/app.db ".restore /backups/pre.db"': (False, True, True),
    "sqlite3 /srv/app.db <<'SQL'\n.restore /backups/pre.db\nSQL": (False, True, True),
    "sqlite3 /srv/app.db <<'SQL'\nDELETE FROM sessions;\nSQL": (False, False, True),
    "sqlite3 /srv/app.db <<'SQL'\nALTER TABLE t ADD COLUMN c int;\nSQL": (False, False, True),
    "sqlite3 /srv/app.db <<'SQL'\nSELECT count(*) FROM t;\nSQL": (False, False, False),
    'sqlite3 /srv/app.db "PRAGMA integrity_check"': (False, False, False),
    "sqlite3 /srv/app.db < /backups/pre.sql": (False, True, True),
    'sqlite3 /srv/app.db ".read /backups/pre.sql"': (False, True, True),
    # PostgreSQL
    "pg_dump -Fc -d app -f /backups/pre.dump": (True, False, False),
    "pg_restore --clean -d app /backups/pre.dump": (False, True, True),
    "psql -d app -f /backups/pre.sql": (False, True, True),
    'psql -d app <<< "\\i /backups/pre.sql"': (False, True, True),
    "psql -d app <<'SQL'\nDELETE FROM sessions;\nSQL": (False, False, True),
    "psql -d app <<'SQL'\nSELECT 1;\nSQL": (False, False, False),
    # MySQL / MariaDB
    "mysqldump app > /backups/pre.sql": (True, False, False),
    "mariadb-dump app > /backups/pre.sql": (True, False, False),
    "mydumper -B app -o /backups/pre": (True, False, False),
    "mysql app < /backups/pre.sql": (False, True, True),
    'mysql app -e "source /backups/pre.sql"': (False, True, True),
    "myloader -d /backups/pre": (False, True, True),
    'mysql app -e "DELETE FROM sessions"': (False, False, True),
    # Not databases at all
    "cp /srv/app.backup /tmp/": (False, False, False),
    "diff <(sort a) <(sort b)": (False, False, False),
}


@pytest.mark.parametrize("text", sorted(CASES))
def test_backup_restore_and_change_are_recognised(text: str) -> None:
    backup, restore, change = CASES[text]
    assert shell.is_db_backup(text) is backup
    assert shell.is_db_restore(text) is restore
    assert (shell.first_db_write(text) is not None) is change


SQLITE_PROC = """\
---
id: PROC-TEST-110
type: maintenance
title: Migracion de una base SQLite
criticality: medium
frequency: on-demand
estimated_minutes: 10
version: 1.0.0
updated: 2026-11-01
author: Equipo procc
reviewers: [Revisor Uno]
hosts: all
parameters:
  db:
    description: Ruta de la base SQLite
    default: /tmp/procc-lint/app.db
prerequisites:
  tools:
    - {name: sqlite3, version: ">=3.40"}
purpose:
  what: Agregar una columna con backup y restauracion de SQLite.
preflight:
  - title: Backup de la base
    run: sqlite3 {{ db }} ".backup {{ db }}.pre"
steps:
  - title: Agregar la columna
    minutes: 2
    run: |
      sqlite3 {{ db }} <<'SQL'
      ALTER TABLE items ADD COLUMN note TEXT;
      SQL
    expected: La columna existe
    validate:
      run: sqlite3 {{ db }} "PRAGMA integrity_check"
      expect: {stdout_contains: ok}
    if_fails: [Revisar el log de la migracion]
    rollback:
      run: ROLLBACK_CMD
final_validation:
  health:
    - {url: "http://localhost:8080/health", status: 200}
  metrics:
    - {name: items, run: "sqlite3 {{ db }} 'SELECT count(*) FROM items'", above: 0}
rollback:
  triggers: [La validacion final falla]
  steps:
    - title: Restaurar la base
      run: sqlite3 {{ db }} ".restore {{ db }}.pre"
troubleshooting:
  - problem: La base esta bloqueada
    solution: Esperar a que termine la escritura en curso
changelog:
  - {version: 1.0.0, date: 2026-11-01, author: Equipo procc, changes: Version inicial}
"""


def _db_findings(tmp_path: Path, text: str) -> list[tuple[str, int, int]]:
    path = tmp_path / "PROC-TEST-110.yml"
    path.write_text(text)
    result = lint_files([(path, path.name)])
    return [(d.code, d.pos.line, d.pos.col) for d in result.findings if d.code.startswith("db-")]


def test_a_sqlite_migration_with_backup_restore_and_integrity_is_clean(tmp_path: Path) -> None:
    text = SQLITE_PROC.replace("ROLLBACK_CMD", 'sqlite3 {{ db }} ".restore {{ db }}.pre"')
    assert _db_findings(tmp_path, text) == []


def test_a_heredoc_that_deletes_is_no_restore(tmp_path: Path) -> None:
    # The step's rollback is a heredoc too, but a DELETE, and the full rollback
    # restores nothing: the change cannot be restored.
    text = SQLITE_PROC.replace(
        "ROLLBACK_CMD", "|\n        sqlite3 {{ db }} <<'SQL'\n        DELETE FROM items;\n        SQL"
    ).replace('run: sqlite3 {{ db }} ".restore {{ db }}.pre"', "run: echo sin restauracion")
    assert _db_findings(tmp_path, text) == [("db-restore-rollback", 30, 7)]


def test_a_sqlite_change_without_backup_is_still_an_error(tmp_path: Path) -> None:
    text = SQLITE_PROC.replace("ROLLBACK_CMD", 'sqlite3 {{ db }} ".restore {{ db }}.pre"').replace(
        'run: sqlite3 {{ db }} ".backup {{ db }}.pre"', "run: test -f {{ db }}")
    assert _db_findings(tmp_path, text) == [("db-backup-preflight", 30, 7)]
