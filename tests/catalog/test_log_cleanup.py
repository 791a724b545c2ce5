"""PROC-BACKEND-010 for real: a clean-up of rotated logs with typed thresholds, a
restorable trash and a secret webhook.

A log directory holds active logs, recent rotated logs (plain and gzipped),
rotated logs older than max_age_days and the trash of an earlier run older
than trash_days. A run sets the old logs aside in its own trash, compresses
the recent ones and purges the old trash; a drill at steps 1 and 2 leaves
every file as it was (names, bytes, modes); a drill at step 3 (rollback:
none-needed) as it was except the purged old trash, which is what step 3
declares; a real failure (tamano_logs_mb above max_log_mb) rolls back.
The webhook URL's token reaches the receiver only.
"""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import pytest

from tests.catalog.cli_support import last_outcome, leaks, project_with, run, state
from tests.support.webhook import receiving

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

PROC = "PROC-BACKEND-010"
TOKEN = "ops-hook-Q7mW3k-never-shown"
DAY = 86400


def _age(p: Path, days: float) -> None:
    stamp = time.time() - days * DAY
    os.utime(p, (stamp, stamp))


def _logs(d: Path) -> None:
    d.mkdir()
    (d / "app.log").write_text("hoy\n" * 100, encoding="utf-8")
    for name, days, mode in (("app.log.1", 2, 0o640), ("app.log.2", 5, 0o600), ("app.log.9", 40, 0o640),
                             ("worker.log.20261001", 60, 0o644)):
        (d / name).write_text(f"{name}\n" * 500, encoding="utf-8")
        os.chmod(d / name, mode)
        _age(d / name, days)
    (d / "app.log.3.gz").write_bytes(gzip.compress(b"app.log.3\n" * 500))  # compressed before, recent: kept
    _age(d / "app.log.3.gz", 6)
    old = d / ".procc-trash" / "20261001T000000Z-aaaaaa"
    old.mkdir(parents=True)
    (old / "app.log.99").write_text("viejo\n", encoding="utf-8")
    _age(old, 30)


def _without_old_trash(st: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    """The state without the earlier run's trash step 3 purges (and .procc-trash, then empty and removed)."""
    return {p: v for p, v in st.items() if not p.startswith(".procc-trash")}


def _params(d: Path, **extra: str) -> dict[str, str]:
    return {"log_dir": str(d), "max_age_days": "14", "trash_days": "7", **extra}


def _env(port: int) -> dict[str, str]:
    return {"PROCC_OPS_WEBHOOK": f"http://127.0.0.1:{port}/hooks/{TOKEN}"}


def test_old_logs_go_to_the_trash_recent_ones_are_compressed(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    _logs(logs)
    plain = (logs / "app.log.1").read_bytes()
    root = project_with(tmp_path, PROC)
    with receiving() as hook:
        res = run(root, PROC, _params(logs, max_log_mb="100", min_free_mb="1"), extra_env=_env(hook.port))
    assert res.returncode == 0, res.stdout + res.stderr
    assert sorted(p.name for p in logs.iterdir()) == [
        ".procc-trash", "app.log", "app.log.1.gz", "app.log.2.gz", "app.log.3.gz"]
    assert (logs / "app.log.2.gz").stat().st_mode & 0o777 == 0o600
    (trash,) = (logs / ".procc-trash").iterdir()  # the old trash purged, this run's kept
    assert sorted(p.name for p in trash.iterdir()) == ["app.log.9", "worker.log.20261001"]

    assert gzip.decompress((logs / "app.log.1.gz").read_bytes()) == plain
    assert hook.texts == ["[EXITO] PROC-BACKEND-010 en localhost: logs de mas de 14 dias en la papelera"]
    assert last_outcome(root, PROC) == "success"
    assert leaks(TOKEN, root, logs, outputs=(res,)) == []


@pytest.mark.parametrize("k", [1, 2, 3])
def test_drill_at_each_step_puts_every_log_back(tmp_path: Path, k: int) -> None:
    logs = tmp_path / "logs"
    _logs(logs)
    before = state(logs, skip=())
    root = project_with(tmp_path, PROC)
    with receiving() as hook:
        res = run(root, PROC, _params(logs), fail_at=k, extra_env=_env(hook.port))
    assert res.returncode == 0 and "DRILL PASSED" in res.stdout, res.stdout + res.stderr
    after = state(logs, skip=())
    if k == 3:  # step 3 ran: the old trash is gone, as its rollback (none-needed) declares
        before = _without_old_trash(before)
    assert after == before
    assert len(hook.texts) == 1 and hook.texts[0].startswith("[SIMULACRO] PROC-BACKEND-010"), hook.texts
    assert leaks(TOKEN, root, logs, outputs=(res,)) == []


def test_a_log_dir_still_above_max_log_mb_is_rolled_back(tmp_path: Path) -> None:
    # A real failure, not a drill: an active log of 2 MiB keeps log_dir above max_log_mb=1,
    # the final validation's metric fails and the full rollback returns everything.
    logs = tmp_path / "logs"
    _logs(logs)
    (logs / "app.log").write_bytes(os.urandom(2 * 1024 * 1024))
    before = state(logs, skip=())
    root = project_with(tmp_path, PROC)
    with receiving() as hook:
        res = run(root, PROC, _params(logs, max_log_mb="1"), extra_env=_env(hook.port))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "tamano_logs_mb" in out, out
    # Everything back but the old trash, which step 3 purged (nothing to undo).
    assert state(logs, skip=()) == _without_old_trash(before)
    assert len(hook.texts) == 1 and hook.texts[0].startswith(("[ROLLBACK] PROC-BACKEND-010",
                                                              "[FALLO] PROC-BACKEND-010")), hook.texts
    assert last_outcome(root, PROC) != "success"
    assert leaks(TOKEN, root, logs, outputs=(res,)) == []
