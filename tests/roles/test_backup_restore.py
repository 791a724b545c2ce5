"""backup and restore roles: a real round trip through PostgreSQL, and a tampered backup refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.playbooks import dump, run_play
from support.postgres import PgServer

pytestmark = [pytest.mark.slow, pytest.mark.ansible, pytest.mark.postgres]

DB = "procc_backup_test"

SCHEMA = """
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id),
                     total numeric(10,2), placed_at timestamptz DEFAULT '2026-01-01');
INSERT INTO customers (name, email)
  SELECT 'cliente ' || n, CASE WHEN n % 3 = 0 THEN NULL ELSE 'c' || n || '@example.com' END
  FROM generate_series(1, 200) AS n;
INSERT INTO orders (customer_id, total) SELECT 1 + n % 200, n * 1.25 FROM generate_series(1, 500) AS n;
"""

DAMAGE = """
UPDATE customers SET name = 'dañado' WHERE id % 2 = 0;
DELETE FROM orders WHERE id > 100;
CREATE TABLE migrated_extra (id int);
INSERT INTO migrated_extra VALUES (1);
"""


def role(name: str, **role_vars: object) -> dict[str, object]:
    return {"name": f"Run {name}", "ansible.builtin.include_role": {"name": name}, "vars": role_vars}


def test_backup_then_restore_round_trips_and_refuses_tampering(tmp_path: Path, pg: PgServer) -> None:
    pg.create_database(DB)
    pg.psql(SCHEMA, dbname=DB)
    before = pg.table_checksums(DB)
    assert set(before) == {"public.customers", "public.orders"}

    conf = tmp_path / "etc" / "app"
    conf.mkdir(parents=True)
    (conf / "app.conf").write_text("release=v1\n")
    root = tmp_path / "backups"
    conn = {"host": pg.host, "port": str(pg.port), "user": pg.user, "name": DB}
    backup_vars = {f"backup_db_{k}": v for k, v in conn.items()}
    restore_vars = {f"restore_db_{k}": v for k, v in conn.items()}

    made = run_play(
        tmp_path / "run-backup",
        [role("backup", backup_root=str(root), backup_label="pre", backup_paths=[str(conf)], **backup_vars)],
    )
    assert made.ok, dump(made)
    backup_dir = Path(made.facts()["backup_last_dir"])
    assert backup_dir.parent == root and backup_dir.name.startswith("pre-")
    assert os.readlink(root / "latest") == backup_dir.name
    assert sorted(p.name for p in backup_dir.iterdir()) == [
        "SHA256SUMS",
        "backup.json",
        "config.tar.gz",
        "db.dump",
    ]
    assert (backup_dir / "db.dump").read_bytes()[:5] == b"PGDMP"  # custom format
    assert json.loads((backup_dir / "backup.json").read_text())["database"] == DB
    manifest = (backup_dir / "SHA256SUMS").read_text()
    assert "db.dump" in manifest and "config.tar.gz" in manifest

    pg.psql(DAMAGE, dbname=DB)
    (conf / "app.conf").write_text("release=broken\n")
    assert pg.table_checksums(DB) != before

    # Restore from <root>/latest in a separate run, like a rollback or a disaster recovery.
    restored = run_play(tmp_path / "run-restore", [role("restore", restore_backup_root=str(root), **restore_vars)])
    assert restored.ok, dump(restored)
    assert pg.table_checksums(DB) == before
    assert (conf / "app.conf").read_text() == "release=v1\n"
    assert restored.facts()["restore_last_dir"] == str(backup_dir)

    # A tampered dump is refused before anything is touched.
    pg.psql("UPDATE customers SET name = 'despues' WHERE id = 1", dbname=DB)
    after_change = pg.table_checksums(DB)
    with (backup_dir / "db.dump").open("ab") as f:
        f.write(b"tampered")
    refused = run_play(
        tmp_path / "run-tampered",
        [role("restore", restore_dir=str(backup_dir), restore_mode="clean", **restore_vars)],
    )
    assert not refused.ok
    assert "failed checksum verification, nothing was restored" in refused.stdout
    assert "db.dump: FAILED" in refused.stdout
    assert pg.table_checksums(DB) == after_change


def test_restore_clean_mode_and_backup_in_the_same_play(tmp_path: Path, pg: PgServer) -> None:
    """A rollback in the same play restores exactly the backup this play made (backup_last_dir)."""
    db = DB + "_clean"
    pg.create_database(db)
    pg.psql(SCHEMA, dbname=db)
    before = pg.table_checksums(db)
    conn = {"host": pg.host, "port": str(pg.port), "user": pg.user, "name": db}
    root = tmp_path / "backups"
    tasks = [
        role("backup", backup_root=str(root), **{f"backup_db_{k}": v for k, v in conn.items()}),
        {
            "name": "Damage the data",
            "ansible.builtin.command": {"argv": ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", DAMAGE]},
            "environment": {"PGHOST": pg.host, "PGPORT": str(pg.port), "PGUSER": pg.user, "PGDATABASE": db},
            "changed_when": True,
        },
        role("restore", restore_mode="clean", **{f"restore_db_{k}": v for k, v in conn.items()}),
    ]
    result = run_play(tmp_path / "run", tasks)
    assert result.ok, dump(result)
    after = pg.table_checksums(db)
    # clean mode restores every table of the backup; tables created later stay.
    assert {k: v for k, v in after.items() if k in before} == before
    assert "public.migrated_extra" in after
