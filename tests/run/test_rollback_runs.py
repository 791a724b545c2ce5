"""``procc rollback --run``: on the original run's files, recorded, counted, and refused when already done.

The fixture PROC-TEST-013's step 1 creates ``WORKDIR/{{ procc_run_id }}``
and its rollback removes it; ``rb_fail=yes`` makes that rollback fail, so a
run can end with step 1 started and not rolled back. ran.log and
rollback.log say on disk what ran.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler.history import history_path, read
from tests.run.helpers import procc, project

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

PROC = "PROC-TEST-013"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def _run_id(out: str) -> str:
    m = re.search(r"\(run (\d{8}T\d{6}Z-[0-9a-f]{6})\)", out)
    assert m, out
    return m.group(1)


def test_rollback_of_a_run_works_on_its_files_is_recorded_and_refused_once_done(tmp_path: Path) -> None:
    root = project(tmp_path, PROC)
    work = root / "work"
    w = f"workdir={work}"
    first = procc(root, "run", PROC, "-e", w, "-e", "fail_step=2", "-e", "rb_fail=yes", "--plain")
    assert first.returncode == 1, first.stdout + first.stderr
    orig = _run_id(first.stdout)
    # Step 2 failed; its rollback ran, step 1's failed: the run's directory is still there.
    assert _lines(work / "rollback.log") == ["two", "one"]
    assert (work / orig).is_dir()

    rb = procc(root, "rollback", PROC, "--run", orig, "-e", w, "--plain")
    assert rb.returncode == 0, rb.stdout + rb.stderr
    rb_id = _run_id(rb.stdout)
    assert rb_id != orig
    # procc_run_id in the rollback run was the original run's id: its directory is gone.
    assert not (work / orig).exists()
    assert _lines(work / "rollback.log") == ["two", "one", "two", "one"]
    assert "rolled back: 2, 1" in rb.stdout and "SUCCESS" in rb.stdout

    again = procc(root, "rollback", PROC, "--run", orig, "-e", w, "--plain")
    assert again.returncode == 2, again.stdout + again.stderr
    assert f"procc: refused: run {orig} was already rolled back by run {rb_id}" in again.stderr
    assert "--force" in again.stderr
    assert _lines(work / "rollback.log") == ["two", "one", "two", "one"]  # nothing ran

    forced = procc(root, "rollback", PROC, "--run", orig, "-e", w, "--force", "--plain")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "WARNING forced:" in forced.stderr
    assert _lines(work / "rollback.log") == ["two", "one"] * 3

    runs, problems = read(history_path(root, PROC))
    assert problems == []
    by_id = {r.run_id: r for r in runs}
    assert [r.get("rollback_of") for r in runs] == [None, orig, orig]
    assert by_id[orig].outcome == "failed"
    assert by_id[rb_id].outcome == "success" and by_id[rb_id].get("rollbacks") == ["2", "1"]
    assert not by_id[rb_id].get("forced") and str(runs[2].get("forced")).startswith("forced: ")
    assert runs[2].outcome == "success"

    # The runbook (refreshed by each recorded run) counts the rollback runs, not as runs.
    md = next((root / "docs" / "backend" / "procedures").glob(f"{PROC}*.md"), None)
    if md is None:
        assert procc(root, "compile", "-q").returncode == 0
        md = next((root / "docs" / "backend" / "procedures").glob(f"{PROC}*.md"))
    text = md.read_text(encoding="utf-8")
    assert "- **Rollbacks Ejecutados:** 3 (2 con procc rollback)" in text
    assert "- **Ejecuciones Totales:** 1" in text
    assert "**Tasa de Exito:** 0% (basado en la ultima ejecucion)" in text


def test_a_run_that_rolled_back_cleanly_is_not_rolled_back_again(tmp_path: Path) -> None:
    root = project(tmp_path, PROC)
    work = root / "work"
    first = procc(root, "run", PROC, "-e", f"workdir={work}", "-e", "fail_step=2", "--plain")
    assert first.returncode == 1 and "ROLLED BACK" in first.stdout, first.stdout + first.stderr
    orig = _run_id(first.stdout)
    assert not (work / orig).exists()
    again = procc(root, "rollback", PROC, "--run", orig, "-e", f"workdir={work}")
    assert again.returncode == 2, again.stdout + again.stderr
    assert f"procc: refused: run {orig} already rolled back cleanly" in again.stderr
    assert "Pass --force" in again.stderr
    assert _lines(work / "rollback.log") == ["two", "one"]
    runs, _ = read(history_path(root, PROC))
    assert len(runs) == 1  # the refusal recorded nothing
