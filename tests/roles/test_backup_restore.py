"""backup and restore roles: a real round trip through PostgreSQL, and a tampered backup refused."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
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


def seeded(pg: PgServer, db: str) -> tuple[dict[str, str], dict[str, str]]:
    """A fresh database ``db`` with the schema and rows: its table checksums, and the roles' connection vars."""
    pg.create_database(db)
    pg.psql(SCHEMA, dbname=db)
    return pg.table_checksums(db), {"host": pg.host, "port": str(pg.port), "user": pg.user, "name": db}


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
    before, conn = seeded(pg, db)
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


def test_recreate_waits_out_a_session_it_may_not_end(tmp_path: Path, pg: PgServer) -> None:
    """dropdb --force refused, then retried: the molecule catalog run's autovacuum case, reproduced.

    PostgreSQL lets a role end only sessions of roles it is a member of (or all
    of them, with pg_signal_backend). An autovacuum worker has no role, so while
    one is in the database the demo user's ``dropdb --force`` fails with "must
    be a member of the role whose process is being terminated". A session of
    another role is the same refusal, made deterministic here.
    """
    db = DB + "_busy"
    before, conn = seeded(pg, db)
    root = tmp_path / "backups"
    made = run_play(tmp_path / "run-backup", [role("backup", backup_root=str(root),
                                                    **{f"backup_db_{k}": v for k, v in conn.items()})])
    assert made.ok, dump(made)
    pg.psql(DAMAGE, dbname=db)

    superuser = {**os.environ, **pg.env, "PGUSER": "postgres", "PGDATABASE": "postgres"}
    subprocess.run(["psql", "-X", "-q", "-c", "DROP ROLE IF EXISTS procc_other", "-c", "CREATE ROLE procc_other LOGIN"],
                   env=superuser, check=True, capture_output=True)
    log = pg.dir / "postgres.log"
    offset = log.stat().st_size
    session = subprocess.Popen(["psql", "-X", "-q", "-c", "SELECT pg_sleep(600)"],
                               env={**superuser, "PGUSER": "procc_other", "PGDATABASE": db},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def end_session_once_refused() -> None:
        # The other session stays until the server has refused the first drop,
        # then ends, as an autovacuum worker would: the retry must succeed.
        for _ in range(1200):
            with log.open("rb") as f:
                f.seek(offset)
                if b"must be a member of the role whose process is being terminated" in f.read():
                    break
            time.sleep(0.1)
        subprocess.run(["psql", "-X", "-q", "-c",
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'procc_other'"],
                       env=superuser, check=False, capture_output=True)

    for _ in range(600):  # until the session is in the database (never a timing assertion)
        if pg.psql(f"SELECT count(*) FROM pg_stat_activity WHERE usename = 'procc_other' AND datname = '{db}'") == "1":
            break
        time.sleep(0.1)
    else:
        pytest.fail("the other role's session never appeared")
    watcher = threading.Thread(target=end_session_once_refused)
    watcher.start()
    try:
        restored = run_play(tmp_path / "run-restore", [role("restore", restore_backup_root=str(root),
                                                             **{f"restore_db_{k}": v for k, v in conn.items()})])
    finally:
        watcher.join()
        session.kill()
        session.wait()
    assert restored.ok, dump(restored)
    assert pg.table_checksums(db) == before
    # The refusal really happened: the drop needed more than one attempt.
    drops = restored.task_results("Drop the database")
    assert drops and drops[-1].get("attempts", 1) > 1, drops
    retries = [ev["event_data"]["res"] for ev in restored.events if ev.get("event") == "runner_retry"]
    assert any("must be a member of the role whose process is being terminated" in r.get("stderr", "") for r in retries), retries
