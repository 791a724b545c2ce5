"""Values captured between steps, on real runs of PROC-TEST-050 on localhost.

Step 1 captures a row count (stdout, int), step 2 a JSON field and a regex
group, step 3 a banner (stdout) that holds Jinja; step 4 uses them all and
appends a row. What is asserted is read on disk: the files the later steps,
the rollbacks, the full rollback and the post action wrote with the values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler.parse import Source, parse_file, parse_text
from compiler.runner import RunRequest, RunResult, execute
from tests.conftest import FIXTURES, ROOT
from tests.run.helpers import procc, project

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

CAPTURES = FIXTURES / "procedures" / "PROC-TEST-050-captures.yml"
META = '{"data": {"version": "v7"}, "note": "offset=42"}\n'
# Jinja a later step must print literally, never evaluate.
BANNER = "{{ 7*7 }} {% if true %}x{% endif %}"


def _run(tmp_path: Path, *, fail_at: int | None = None, meta: str = META, text: str | None = None) -> RunResult:
    work = tmp_path / "work"
    work.mkdir()
    (work / "rows").write_text("a\nb\nc\n", encoding="utf-8")
    (work / "meta.json").write_text(meta, encoding="utf-8")
    (work / "banner").write_text(BANNER + "\n", encoding="utf-8")
    src = parse_file(CAPTURES, CAPTURES.name)
    if text is not None:
        src = Source(CAPTURES, CAPTURES.name, parse_text(text), src.smap, "")
    return execute(RunRequest(source=src, root=ROOT, params={"workdir": str(work)}, fail_at=fail_at,
                              runs_dir=tmp_path / "runs"))


def _read(tmp_path: Path, name: str) -> str:
    return (tmp_path / "work" / name).read_text(encoding="utf-8")


def test_stdout_json_and_regex_captures_reach_a_later_step_a_validation_a_metric_and_post(tmp_path: Path) -> None:
    res = _run(tmp_path)
    assert res.rc == 0, res.summary
    # Step 4 printed every value: the count, the JSON field, the regex group, the banner as text.
    assert _read(tmp_path, "used") == f"3|v7|42|{BANNER}\n"
    assert "49" not in _read(tmp_path, "used")
    assert _read(tmp_path, "post") == "success:v7\n"
    # The metric compared the rows now (4) with the captured count (3): it passed.
    assert _read(tmp_path, "rows").count("\n") == 4
    assert not (tmp_path / "work" / "full").exists()


def test_a_drill_after_the_capturing_steps_rolls_back_with_the_captured_values(tmp_path: Path) -> None:
    res = _run(tmp_path, fail_at=4)
    assert res.rc == 0 and res.drill_passed, res.summary
    assert _read(tmp_path, "rolled4") == "v7 3\n"  # a later step's rollback
    assert _read(tmp_path, "rolled2") == "v7\n"  # the capturing step's own rollback
    assert _read(tmp_path, "rolled1") == "3\n"
    assert _read(tmp_path, "post") == "drill:v7\n"


def test_a_drill_before_a_capturing_step_reads_an_empty_value_and_rolls_back(tmp_path: Path) -> None:
    # Step 2 never ran: the post action reads its capture as '' instead of crashing the run.
    res = _run(tmp_path, fail_at=1)
    assert res.rc == 0 and res.drill_passed, res.summary
    assert _read(tmp_path, "rolled1") == "3\n"
    assert _read(tmp_path, "post") == "drill:\n"


def test_a_regex_that_does_not_match_fails_the_step_with_a_summary_naming_the_capture(tmp_path: Path) -> None:
    res = _run(tmp_path, meta='{"data": {"version": "v7"}, "note": "none"}\n')
    assert res.rc != 0
    assert "FAILED at step 2" in res.summary
    assert "capture 'offset' of step 2 found nothing: regex offset=(\\d+) on the output, as int" in res.summary
    assert not (tmp_path / "work" / "used").exists()
    assert _read(tmp_path, "rolled2") == "v7\n"


def test_a_json_field_that_is_missing_fails_the_step(tmp_path: Path) -> None:
    res = _run(tmp_path, meta='{"data": {}, "note": "offset=42"}\n')
    assert res.rc != 0
    assert "capture 'version' of step 2 found nothing: JSON field data.version" in res.summary
    assert not (tmp_path / "work" / "used").exists()


def test_a_captured_threshold_that_is_not_met_fails_final_validation(tmp_path: Path) -> None:
    # Without the appended row the rows now (3) are not above the captured count (3).
    text = CAPTURES.read_text(encoding="utf-8").replace("      echo nueva >> {{ workdir }}/rows\n", "")
    assert "nueva" not in text
    res = _run(tmp_path, text=text)
    assert res.rc != 0
    assert "metric filas = 3, required > 3" in res.summary, res.summary
    assert _read(tmp_path, "full") == "3\n"  # the full rollback read the capture too


def test_a_hostile_regex_is_data(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    hostile = "{{ lookup('pipe', 'touch " + str(marker) + "') }}"
    text = CAPTURES.read_text(encoding="utf-8").replace(
        "offset: {regex: 'offset=(\\d+)', type: int}",
        "offset: {regex: \"offset=(\\\\d+)|" + hostile + "\", type: int}")
    assert hostile in text
    res = _run(tmp_path, text=text)
    assert res.rc == 0, res.summary
    assert not marker.exists()
    assert _read(tmp_path, "used").startswith("3|v7|42|")


def test_procc_rollback_takes_the_captured_values_with_e(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-050")
    work = root / "work"
    (work / "rows").write_text("a\nb\nc\n", encoding="utf-8")
    (work / "meta.json").write_text(META, encoding="utf-8")
    (work / "banner").write_text(BANNER + "\n", encoding="utf-8")
    w = f"workdir={work}"
    first = procc(root, "run", "PROC-TEST-050", "-e", w, "--fail-at", "4", "--plain")
    assert first.returncode == 0, first.stdout + first.stderr
    m = re.search(r"\(run (\d{8}T\d{6}Z-[0-9a-f]{6})\)", first.stdout)
    assert m, first.stdout
    (work / "rolled4").unlink()
    # Outside the run the captures are unknown: without them step 4's rollback fails, never runs empty.
    bare = procc(root, "rollback", "PROC-TEST-050", "--run", m[1], "-e", w, "--force", "--plain")
    assert bare.returncode != 0 and "ROLLBACK FAILED" in bare.stdout, bare.stdout + bare.stderr
    assert not (work / "rolled4").exists()
    given = procc(root, "rollback", "PROC-TEST-050", "--run", m[1], "-e", w, "-e", "version=v9",
                  "-e", "rows_before=5", "--force", "--plain")
    assert given.returncode == 0, given.stdout + given.stderr
    assert _read(tmp_path / "proj", "rolled4") == "v9 5\n"
    refused = procc(root, "run", "PROC-TEST-050", "-e", w, "-e", "rows_before=5", "--plain")
    assert refused.returncode != 0 and "'rows_before' is captured by Paso 1 during the run" in refused.stderr
