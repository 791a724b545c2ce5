"""Run state holds: one run lock per procedure and target set (``--limit`` does not get around it),
and a history record is written whole or the run says it was not recorded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from compiler.history import history_path, read
from tests.run.helpers import wait_for
from tests.security.runner_support import KEY, env, inventory, procc, project, start

# -- the run lock -------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.ansible
def test_limit_does_not_get_around_the_lock(tmp_path: Path) -> None:
    root = project(tmp_path, "slow")
    work = root / "work"
    first = start(root, "run", "procedures/runner-slow.yml", "-e", f"workdir={work}", "-e", "seconds=8",
                  out=tmp_path / "first.out")
    try:
        wait_for(lambda: (work / "slow-started").exists())
        second = procc(root, "run", "procedures/runner-slow.yml", "--limit", "localhost",
                       "-e", f"workdir={work}", "-e", "seconds=0")
        assert second.returncode == 2, second.stdout + second.stderr
        assert "in progress against the same targets" in second.stderr
    finally:
        assert first.wait(60) == 0, (tmp_path / "first.out").read_text()
    runs, _ = read(history_path(root, "PROC-RUNNER-005"))
    assert len(runs) == 1  # the refused run left no record


_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from compiler.session import RunLock, lock_targets
    lock = RunLock(Path(sys.argv[1]), "PROC-RUNNER-004", lock_targets("production", None))
    lock.acquire("holder-run-id")
    print("held", flush=True)
    time.sleep(30)
""")


def test_env_and_its_inventory_path_share_one_lock(tmp_path: Path) -> None:
    """A run of --env production holds the lock; -i inventories/production/hosts is the same targets."""
    root = project(tmp_path, "critical")
    hosts = inventory(root, "production")
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(root)], stdout=subprocess.PIPE, text=True,
                              env=env(tmp_path))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        res = procc(root, "run", "procedures/runner-critical.yml", "-i", str(hosts), "--approved-by", "Luis",
                    "--force", "--limit", "localhost", "-e", f"workdir={root / 'work'}")
        assert res.returncode == 2, res.stdout + res.stderr
        assert "run holder-run-id of this procedure is in progress" in res.stderr
        assert not (root / "work" / "critical-ran").exists()
    finally:
        holder.kill()
        holder.wait()


# -- the history record -------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.ansible
def test_failed_history_write_makes_the_run_exit_non_zero(tmp_path: Path) -> None:
    """Step 2 replaces the history file with a link to /dev/full: the end record cannot be written."""
    root = project(tmp_path, "slow")
    hist = history_path(root, "PROC-RUNNER-005")
    res = procc(root, "run", "procedures/runner-slow.yml", "-e", f"workdir={root / 'work'}", "-e", "seconds=0",
                "-e", f"swap={hist}")
    assert hist.is_symlink()  # the step ran
    assert res.returncode == 1, res.stdout + res.stderr
    assert "cannot write the history record" in res.stderr
    assert "NOT recorded in the history" in res.stderr


_FILL = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    from compiler.history.store import append, HistoryWriteError
    path = Path(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = path.stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, size + 100))
    try:
        append(path, {"kind": "end", "run_id": "r1", "outcome": "success", "pad": "x" * 2000})
    except HistoryWriteError as exc:
        print(exc)
        sys.exit(7)
""")


def test_disk_full_leaves_no_truncated_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RLIMIT_FSIZE lets 100 bytes of a 2 kB record through: the file is cut back, the writer told."""
    from compiler.history import append

    monkeypatch.setenv("PROCC_HISTORY_KEY", KEY)
    path = history_path(tmp_path, "PROC-RUNNER-005")
    append(path, {"kind": "start", "run_id": "r1", "start": "2026-11-29T00:00:00Z"})
    before = path.read_bytes()
    res = subprocess.run([sys.executable, "-c", _FILL, str(path)], capture_output=True, text=True,
                         env=env(tmp_path), check=False)
    assert res.returncode == 7, res.stdout + res.stderr
    assert "cannot write the history record" in res.stdout
    assert path.read_bytes() == before
    runs, problems = read(path)
    assert problems == [] and [r.finished for r in runs] == [False]
    assert json.loads(before)["sig"]
