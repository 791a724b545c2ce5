"""The history file: durable appends, two writers, corrupt lines, unfinished runs."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

from compiler.history import append, history_path, read


def _writer(path: str, who: int, n: int) -> None:
    for i in range(n):
        append(Path(path), {"kind": "start", "run_id": f"w{who}-{i}", "start": f"2026-01-01T00:00:{i:02d}Z",
                            "pad": "x" * 2000})


def test_two_writers_never_interleave(tmp_path: Path) -> None:
    # Whole lines from two real processes. On Linux a single O_APPEND write is
    # not interleaved even without the lock: the lock itself is proven by
    # test_an_append_waits_for_the_lock_holder below.
    path = history_path(tmp_path, "PROC-X-001")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(path), w, 40)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    runs, problems = read(path)
    assert problems == []
    assert len(runs) == 80


def _locked_writer(path: str, ready: str) -> None:
    Path(ready).write_text("about to append\n", encoding="utf-8")
    append(Path(path), {"kind": "start", "run_id": "late", "start": "2026-01-01T00:00:00Z"})


def test_an_append_waits_for_the_lock_holder(tmp_path: Path) -> None:
    """While another process holds the history lock, an append blocks; it lands once released."""
    from filelock import FileLock

    from compiler.history.store import _lock_path

    path = history_path(tmp_path, "PROC-X-001")
    path.parent.mkdir(parents=True)
    ready = tmp_path / "ready"
    holder = FileLock(str(_lock_path(path)))
    ctx = multiprocessing.get_context("spawn")  # no inherited lock state
    with holder:
        proc = ctx.Process(target=_locked_writer, args=(str(path), str(ready)))
        proc.start()
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the writer process never started"
        # Long enough for an unlocked append (a few ms) to land; a slow machine
        # can only make this pass without proving the wait, never fail wrongly.
        time.sleep(1.0)
        assert not path.exists() or path.read_text(encoding="utf-8") == ""
        assert proc.is_alive()
    proc.join(60)
    assert proc.exitcode == 0
    runs, problems = read(path)
    assert problems == [] and [r.run_id for r in runs] == ["late"]


def test_corrupt_line_is_reported_with_its_number_and_skipped(tmp_path: Path) -> None:
    path = history_path(tmp_path, "PROC-X-001")
    append(path, {"kind": "start", "run_id": "a", "start": "2026-01-01T00:00:00Z"})
    with path.open("ab") as fh:
        fh.write(b'{"kind": "end", "run_id": "a", "outc')  # a writer killed mid-line
    append(path, {"kind": "start", "run_id": "b", "start": "2026-01-02T00:00:00Z"})
    append(path, {"kind": "end", "run_id": "b", "outcome": "success", "duration": 60})
    runs, problems = read(path, "h.jsonl")
    assert [p.line for p in problems] == [2]
    assert problems[0].format().startswith("h.jsonl:2: warning: corrupt history record")
    assert [(r.run_id, r.finished, r.outcome) for r in runs] == [
        ("a", False, "unfinished"), ("b", True, "success")]


def test_history_command_json_and_table(tmp_path: Path) -> None:
    from tests.run.helpers import procc, project

    root = project(tmp_path, "PROC-TEST-001")
    path = history_path(root, "PROC-TEST-001")
    append(path, {"kind": "start", "run_id": "r1", "start": "2026-01-01T00:00:00Z", "version": "1.0.0"})
    path.open("a").write("garbage\n")
    res = procc(root, "history", "PROC-TEST-001", "--json")
    assert res.returncode == 0, res.stderr
    assert "PROC-TEST-001.jsonl:2: warning" in res.stderr
    rec = json.loads(res.stdout.splitlines()[0])
    assert rec["run_id"] == "r1" and rec["finished"] is False
    res = procc(root, "history", "PROC-TEST-001")
    assert "DID NOT FINISH" in res.stdout
