"""Ctrl-C, a second Ctrl-C, SIGKILL and a concurrent run, for real (procc as a subprocess)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from compiler.history import history_path, read
from tests.run.helpers import kill_marker, pids, procc, project, start, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.ansible]


def _begin(tmp_path: Path, marker: str) -> tuple[Path, Path, object]:
    root = project(tmp_path, "PROC-TEST-002")
    work = root / "work"
    proc = start(root, "run", "PROC-TEST-002", "-e", f"workdir={work}", "-e", f"marker={marker}",
                 out=tmp_path / "out.txt")
    wait_for(lambda: (work / "slow-started").exists() and bool(pids(f"{marker} 60")), 90)
    return root, work, proc


def test_first_sigint_stops_the_step_and_rolls_back(tmp_path: Path) -> None:
    marker = f"procc-t-{os.getpid()}-graceful"
    root, work, proc = _begin(tmp_path, marker)
    try:
        proc.send_signal(signal.SIGINT)  # type: ignore[attr-defined]
        rc = proc.wait(90)  # type: ignore[attr-defined]
        out = (tmp_path / "out.txt").read_text()
        assert rc == 130, out
        assert "INTERRUPTED" in out and "rollbacks executed: 2, 1" in out
        assert sorted(p.name for p in work.iterdir()) == []  # the target as before the run
        assert pids(f"{marker} 60") == []
        (run,), _ = read(history_path(root, "PROC-TEST-002"))
        assert run.outcome == "interrupted" and run.get("rollbacks") == ["2", "1"]
        assert [s["status"] for s in run.get("steps")] == ["ok", "interrupted"]
    finally:
        kill_marker(f"{marker} 60")


def test_double_sigint_aborts_and_prints_rollback_commands(tmp_path: Path) -> None:
    marker = f"procc-t-{os.getpid()}-abort"
    root, work, proc = _begin(tmp_path, marker)
    try:
        proc.send_signal(signal.SIGINT)  # type: ignore[attr-defined]
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # type: ignore[attr-defined]
        rc = proc.wait(60)  # type: ignore[attr-defined]
        out = (tmp_path / "out.txt").read_text()
        assert rc == 130, out
        assert "ABORTED" in out
        assert f"rm -f {work}/slow-started" in out and f"rm -f {work}/quick" in out
        assert pids(f"{marker} 60") == []  # no step process left on the target
        (run,), _ = read(history_path(root, "PROC-TEST-002"))
        assert run.outcome == "interrupted" and run.get("aborted") and run.get("started") == [1, 2]
        # procc rollback --run undoes what the aborted run had started.
        rb = procc(root, "rollback", "PROC-TEST-002", "--run", run.run_id, "-e", f"workdir={work}")
        assert rb.returncode == 0, rb.stdout + rb.stderr
        assert sorted(p.name for p in work.iterdir()) == []
    finally:
        kill_marker(f"{marker} 60")


def test_concurrent_run_refused_and_sigkill_leaves_readable_history(tmp_path: Path) -> None:
    marker = f"procc-t-{os.getpid()}-kill"
    root, work, proc = _begin(tmp_path, marker)
    try:
        second = procc(root, "run", "PROC-TEST-002", "-e", f"workdir={work}")
        runs, _ = read(history_path(root, "PROC-TEST-002"))
        assert second.returncode == 2
        assert f"run {runs[0].run_id} of this procedure is in progress" in second.stderr
        os.killpg(proc.pid, signal.SIGKILL)  # type: ignore[attr-defined]
        proc.wait(10)  # type: ignore[attr-defined]
        # procc's watchdog stops the orphaned ansible-playbook of the killed run.
        wait_for(lambda: not [p for p in pids("ansible-playbook") if str(root) in _cmdline(p)], 30)
        runs, problems = read(history_path(root, "PROC-TEST-002"))
        assert problems == [] and len(runs) == 1 and not runs[0].finished
        hist = procc(root, "history", "PROC-TEST-002")
        assert "DID NOT FINISH" in hist.stdout
        # The lock died with the process: the procedure can run again.
        kill_marker(f"{marker} 60")
        again = procc(root, "run", "PROC-TEST-002", "-e", f"workdir={work}", "-e", "seconds=0")
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        kill_marker(f"{marker} 60")
        # ansible-playbook runs in a session of its own: SIGKILL to procc
        # orphans it, so end whatever still runs from this test's project.
        kill_marker(str(root))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


_THIRD = """\
  - id: after
    title: Paso posterior
    minutes: 1
    run: touch {{ workdir }}/after
    rollback:
      run: rm -f {{ workdir }}/after
final_validation:
"""


def test_sigint_in_a_non_interruptible_step_never_records_the_next_step_as_started(tmp_path: Path) -> None:
    # The step runs to its end; the stop check before step 3 fails, and step 3 never started:
    # neither the history nor `procc rollback --run` may count it.
    marker = f"procc-t-{os.getpid()}-nonint"
    root = project(tmp_path, "PROC-TEST-002")
    src = next((root / "procedures").glob("PROC-TEST-002*.yml"))
    text = src.read_text(encoding="utf-8")
    assert text.count("interruptible: true") == 1 and text.count("final_validation:\n") == 1
    src.write_text(text.replace("interruptible: true", "interruptible: false")
                   .replace("final_validation:\n", _THIRD), encoding="utf-8")
    work = root / "work"
    proc = start(root, "run", "PROC-TEST-002", "-e", f"workdir={work}", "-e", f"marker={marker}",
                 "-e", "seconds=6", out=tmp_path / "out.txt")
    try:
        wait_for(lambda: (work / "slow-started").exists() and bool(pids(f"{marker} 6")), 90)
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(90)
        out = (tmp_path / "out.txt").read_text()
        assert rc == 130, out
        assert not (work / "after").exists()
        (run,), _ = read(history_path(root, "PROC-TEST-002"))
        assert run.outcome == "interrupted", out
        assert run.get("started") == [1, 2], run.get("started")
        assert [s["status"] for s in run.get("steps")] == ["ok", "ok", "not-run"], run.get("steps")
        assert run.get("rollbacks") == ["2", "1"]
        assert sorted(p.name for p in work.iterdir()) == []
    finally:
        kill_marker(f"{marker} 6")
