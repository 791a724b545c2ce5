"""PROC-BACKEND-004..007 for real: clean-up, troubleshooting, scaling and disaster recovery."""

from __future__ import annotations

import hashlib
import os
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.demo import free_port, http_get, stop_demo

from tests.catalog.conftest import DB, Demo, backup_demo_db, explain, run_procedure

pytestmark = [pytest.mark.slow, pytest.mark.ansible, pytest.mark.postgres]

DAY = 86400


def _fake_backup(root: Path, name: str, age_days: float) -> Path:
    d = root / name
    d.mkdir()
    data = b"dump " + name.encode()
    (d / "db.dump").write_bytes(data)
    (d / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  db.dump\n", encoding="utf-8")
    stamp = time.time() - age_days * DAY
    os.utime(d, (stamp, stamp))
    return d


def test_cleanup_keeps_the_newest_backups_latest_and_recent_logs(demo: Demo, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    for i in range(7):  # backup-0 is the newest
        _fake_backup(backups, f"backup-{i}", age_days=i + 1)
    (backups / "latest").symlink_to("backup-6")  # the oldest, still kept
    (backups / "not-a-backup").mkdir()  # no SHA256SUMS: never touched
    os.utime(backups / "not-a-backup", (0, 0))
    logs = demo.base / "log"
    old = logs / "demo-backend.log.20260101T000000Z.gz"
    recent = logs / "demo-backend.log.20261120T000000Z.gz"
    for p in (old, recent):
        p.write_bytes(b"x")
    os.utime(old, (time.time() - 30 * DAY,) * 2)
    with (logs / "demo-backend.log").open("a", encoding="utf-8") as fh:
        fh.write("x" * 4096 + "\n")

    res = run_procedure("PROC-BACKEND-004", tmp_path, {
        **demo.params, "backup_root": str(backups), "keep_backups": "3",
        "log_retention_days": "14", "log_max_kb": "4"})
    assert res.rc == 0, explain(res)
    assert sorted(p.name for p in backups.iterdir()) == [
        "backup-0", "backup-1", "backup-2", "backup-6", "latest", "not-a-backup"]
    assert not old.exists() and recent.exists()
    assert len(list(logs.glob("demo-backend.log.2*Z.gz"))) == 2  # recent + the one just rotated
    assert demo.get("/health")[0] == 200


def test_troubleshooting_collects_evidence_and_restarts(demo: Demo, tmp_path: Path) -> None:
    for _ in range(3):
        assert demo.get("/fail")[0] == 500  # error rate 75%: degraded
    pid = (demo.base / "run" / "demo-backend.pid").read_text(encoding="utf-8")
    evidence = tmp_path / "evidence"
    res = run_procedure("PROC-BACKEND-005", tmp_path, {**demo.params, "evidence_dir": str(evidence)})
    assert res.rc == 0, explain(res)
    assert (demo.base / "run" / "demo-backend.pid").read_text(encoding="utf-8") != pid
    (archive,) = evidence.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        names = {Path(n).name for n in tar.getnames()}
        metrics = tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith("metrics.txt")))
        assert metrics is not None
        assert 'demo_backend_http_errors_total{path="/fail"} 3' in metrics.read().decode()
    assert {"status.txt", "metrics.txt", "demo-backend.log", "ps.txt"} <= names


@pytest.fixture
def second(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    base = tmp_path / "instance-2"
    yield base, free_port()
    stop_demo(base)


def test_scale_out_adds_a_verified_instance(demo: Demo, tmp_path: Path, second: tuple[Path, int]) -> None:
    base, port = second
    params = {**demo.params, "release": "v1", "new_instance_dir": str(base), "new_port": str(port)}
    res = run_procedure("PROC-BACKEND-006", tmp_path, params)
    assert res.rc == 0, explain(res)
    assert http_get(f"http://127.0.0.1:{port}/version")[1].strip() == "v1"
    upstreams = (demo.base / "etc" / "upstreams").read_text(encoding="utf-8").split()
    assert upstreams == [f"127.0.0.1:{demo.port}", f"127.0.0.1:{port}"]


def test_scale_out_drill_removes_the_instance(demo: Demo, tmp_path: Path, second: tuple[Path, int]) -> None:
    base, port = second
    params = {**demo.params, "release": "v1", "new_instance_dir": str(base), "new_port": str(port)}
    res = run_procedure("PROC-BACKEND-006", tmp_path, params, fail_at=2)
    assert res.rc == 0 and res.drill_passed, explain(res)
    assert not base.exists()
    with pytest.raises(OSError):
        http_get(f"http://127.0.0.1:{port}/health", timeout=2)
    # The pool did not exist before the drill (demo.reset removes it): the rollback removes the one step 2 made.
    assert not (demo.base / "etc" / "upstreams").exists()



def test_disaster_recovery_restores_rows_and_checksums(demo: Demo, tmp_path: Path) -> None:
    demo.pg.psql("CREATE TABLE orders (id int PRIMARY KEY, item_id int REFERENCES items (id), qty int); "
                 "INSERT INTO orders SELECT n, n, n * 2 FROM generate_series(1, 5) AS n", dbname=DB)
    root = backup_demo_db(demo, tmp_path)
    before = demo.checksums()
    # The disaster: rows lost, a table dropped, junk written.
    demo.pg.psql("DROP TABLE orders; DELETE FROM items WHERE id > 3; CREATE TABLE junk (x int)", dbname=DB)
    assert demo.checksums() != before

    res = run_procedure("PROC-BACKEND-007", tmp_path, {**demo.params, "backup_root": str(root)})
    assert res.rc == 0, explain(res)
    assert demo.checksums() == before
    assert demo.pg.psql("SELECT count(*) FROM items", dbname=DB) == "10"
    assert demo.get("/items") == (200, '{"items": 10}')
    assert len(list(root.glob("forense-pre-dr-*"))) == 1  # the state before, kept


def test_disaster_recovery_drill_puts_back_the_state_before(demo: Demo, tmp_path: Path) -> None:
    root = backup_demo_db(demo, tmp_path)
    demo.pg.psql("DELETE FROM items WHERE id > 3", dbname=DB)
    damaged = demo.checksums()
    res = run_procedure("PROC-BACKEND-007", tmp_path, {**demo.params, "backup_root": str(root)}, fail_at=3)
    assert res.rc == 0 and res.drill_passed, explain(res)
    assert demo.checksums() == damaged
    assert demo.get("/health")[0] == 200
