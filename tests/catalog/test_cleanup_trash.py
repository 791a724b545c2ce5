"""PROC-BACKEND-004's step 3 sets expired backups aside and its rollback puts them back.

A drill at step 3 (and a failure of the final validation, which runs the
full rollback) leaves backup_root exactly as it was: the same names, the
same bytes, the same modes, and no trash left behind. A successful run
purges the trash in post-execution.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from support.demo import free_port

from tests.catalog.conftest import Demo, explain, run_procedure

pytestmark = [pytest.mark.slow, pytest.mark.ansible, pytest.mark.postgres]

DAY = 86400


def _backups(root: Path) -> None:
    for i in range(5):  # backup-0 is the newest
        d = root / f"backup-{i}"
        d.mkdir()
        data = f"dump {i}".encode()
        (d / "db.dump").write_bytes(data)
        (d / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  db.dump\n", encoding="utf-8")
        os.chmod(d / "db.dump", 0o640)
        stamp = time.time() - (i + 1) * DAY
        os.utime(d, (stamp, stamp))
    (root / "latest").symlink_to("backup-0")


def _state(root: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        body = os.readlink(p) if p.is_symlink() else (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
        out[str(p.relative_to(root))] = (st.st_mode, body)
    return out


@pytest.mark.parametrize("fail_at", [3, None])
def test_a_drill_or_a_final_failure_puts_the_backups_back(demo: Demo, tmp_path: Path, fail_at: int | None) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    _backups(backups)
    before = _state(backups)
    # Without a drill, a real failure: the final health check finds nothing listening.
    params = {**demo.params, "backup_root": str(backups), "keep_backups": "2"}
    if fail_at is None:
        params["service_port"] = str(free_port())
    res = run_procedure("PROC-BACKEND-004", tmp_path, params, fail_at=fail_at)
    if fail_at is not None:
        assert res.rc == 0 and res.drill_passed, explain(res)
    else:
        assert res.rc != 0 and "final validation" in res.summary, explain(res)
    assert _state(backups) == before


def test_a_successful_run_purges_the_trash(demo: Demo, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    _backups(backups)
    res = run_procedure("PROC-BACKEND-004", tmp_path, {
        **demo.params, "backup_root": str(backups), "keep_backups": "2"})
    assert res.rc == 0, explain(res)
    assert sorted(p.name for p in backups.iterdir()) == ["backup-0", "backup-1", "latest"]
