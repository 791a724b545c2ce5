"""``rollback: {none-needed: <reason>}``: a step with nothing to undo counts as rolled back.

Real drills of PROC-TEST-030 (mark one, purge a cache with nothing to
undo, mark three) on localhost: a drill after the none-needed step ends in
a full rollback (the drill passes), where the same step declared
``irreversible`` makes the drill fail. What is asserted is read on disk
(the marks, the cache) and in the run's result.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.parse import Source, parse_file, parse_text
from compiler.runner import RunRequest, RunResult, execute
from tests.conftest import FIXTURES, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

NONE_NEEDED = FIXTURES / "procedures" / "PROC-TEST-030-nothing-to-undo.yml"


def _run(tmp_path: Path, src: Source, fail_at: int | None) -> RunResult:
    work = tmp_path / "work"
    work.mkdir()
    (work / "cache").mkdir()
    (work / "cache" / "entry").write_text("cached", encoding="utf-8")
    req = RunRequest(source=src, root=ROOT, params={"workdir": str(work)}, fail_at=fail_at,
                     runs_dir=tmp_path / "runs")
    return execute(req)


@pytest.mark.parametrize("k", [2, 3])
def test_a_drill_after_a_none_needed_step_is_a_full_rollback(tmp_path: Path, k: int) -> None:
    res = _run(tmp_path, parse_file(NONE_NEEDED, NONE_NEEDED.name), fail_at=k)
    work = tmp_path / "work"
    assert res.rc == 0 and res.drill_passed, res.summary
    assert "DRILL PASSED" in res.summary
    (result,) = res.results.values()
    assert result["outcome"] == "rolled-back"
    assert [int(x) for x in result["rolled_back"]] == list(range(k, 0, -1))  # step 2 included
    assert result["irreversible"] == []
    assert not (work / "one").exists() and not (work / "three").exists()
    assert list((work / "cache").iterdir()) == []  # purged, and nothing to undo


def test_the_same_step_declared_irreversible_fails_the_drill(tmp_path: Path) -> None:
    text = NONE_NEEDED.read_text(encoding="utf-8").replace(
        "    rollback:\n      none-needed: la cache", "    irreversible: la cache")
    assert "irreversible: la cache" in text
    src = Source(NONE_NEEDED, "irreversible.yml", parse_text(text), parse_file(NONE_NEEDED).smap, "")
    res = _run(tmp_path, src, fail_at=3)
    assert not res.drill_passed, res.summary
    (result,) = res.results.values()
    assert result["outcome"] == "failed"
    assert [int(x) for x in result["irreversible"]] == [2]
