"""Real runs on localhost recorded in the history, with the right per-step figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.history import history_path, read
from tests.run.helpers import procc, project

pytestmark = [pytest.mark.slow, pytest.mark.ansible]


def test_success_and_drill_are_recorded(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-001")
    work = root / "work"
    ok = procc(root, "run", "PROC-TEST-001", "-e", f"workdir={work}")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "SUCCESS" in ok.stdout and "artifacts: .procc/runs/" in ok.stdout
    for f in ("one", "two", "three", "four"):
        (work / f).unlink()
    drill = procc(root, "run", "PROC-TEST-001", "-e", f"workdir={work}", "--fail-at", "3")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "DRILL PASSED" in drill.stdout

    runs, problems = read(history_path(root, "PROC-TEST-001"))
    assert problems == [] and len(runs) == 2
    success, rehearsal = runs
    assert success.outcome == "success" and not success.drill and success.finished
    assert success.get("executor") == "tester" and success.get("environment") == "local"
    assert success.get("version") == "1.0.0" and len(success.get("source_sha256")) == 64
    steps = success.get("steps")
    assert [s["status"] for s in steps] == ["ok"] * 4
    assert all(0 < s["duration"] < 30 for s in steps)
    assert sum(s["duration"] for s in steps) < success.duration
    assert rehearsal.drill and rehearsal.get("drill_passed") and rehearsal.outcome == "rolled-back"
    assert rehearsal.get("rollbacks") == ["3", "2", "1"]
    assert [s["status"] for s in rehearsal.get("steps")] == ["ok", "ok", "failed", "not-run"]
    assert [s["rollback"] for s in rehearsal.get("steps")] == ["ok", "ok", "ok", None]
    assert rehearsal.get("failed_step") == 3

    # The runbook learns: compile renders the statistics from this history.
    res = procc(root, "compile", "-q")
    assert res.returncode == 0, res.stderr
    md = next((root / "docs" / "backend" / "procedures").glob("PROC-TEST-001*.md")).read_text()
    assert "**Tasa de Exito:** 100% (basado en la ultima ejecucion)" in md
    assert "simulacro (procc_fail_at=3)" in md
    assert procc(root, "check").returncode == 0
    hist = procc(root, "history", "PROC-TEST-001", "--json")
    assert [json.loads(x)["outcome"] for x in hist.stdout.splitlines()] == ["success", "rolled-back"]


def test_real_failure_rolls_back_and_is_recorded(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-001")
    work = root / "work"
    res = procc(root, "run", "PROC-TEST-001", "-e", f"workdir={work}", "-e", "fail_step=2")
    assert res.returncode == 1
    assert "ROLLED BACK" in res.stdout and "failed step: Paso 2" in res.stdout
    (run,), _ = read(history_path(root, "PROC-TEST-001"))
    assert run.outcome == "rolled-back" and run.get("failed_step") == 2
    assert run.get("rollbacks") == ["2", "1"]
