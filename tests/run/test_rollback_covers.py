"""A rollback that covers an earlier step, through real ``procc run`` and ``procc rollback`` on localhost.

PROC-TEST-031: step 1 copies app.conf, step 2 appends a line, step 3
appends another and its rollback restores the copy, covering step 2.
Step 2's rollback deletes the last line: run after step 3's restore it
would delete a line of the original, so "undone twice" shows on disk.
Each rollback also writes its number to a journal outside the compared
directory: what ran is read there, and in the history's end record.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.run.helpers import procc

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

NAME = "PROC-TEST-031-rollback-covers.yml"
ORIGINAL = "name=app\nport=8080\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "procedures").mkdir(parents=True)
    shutil.copy(FIXTURES / "procedures" / NAME, root / "procedures" / NAME)
    (root / "work").mkdir()
    (root / "work" / "app.conf").write_text(ORIGINAL, encoding="utf-8")
    (root / "journal").mkdir()
    return root


def _state(work: Path) -> dict[str, str]:
    """Every file of the compared directory with its content."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(work.iterdir())}


def _run(root: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    res = procc(root, "run", "PROC-TEST-031", "-e", f"workdir={root / 'work'}", "-e",
                f"journal={root / 'journal'}", "--plain", *args)
    history = root / "procedures" / "history" / "PROC-TEST-031.jsonl"
    end = json.loads(history.read_text(encoding="utf-8").splitlines()[-1])
    assert end["kind"] == "end"
    (host,) = end["hosts"].values()
    return res.returncode, res.stdout + res.stderr, host


def _journal(root: Path) -> list[str]:
    path = root / "journal" / "rollbacks"
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def test_a_failure_at_the_covering_step_runs_its_rollback_not_the_covered_one(root: Path) -> None:
    before = _state(root / "work")
    (root / "journal" / "break-migrate").write_text("", encoding="utf-8")
    rc, out, host = _run(root)
    assert rc == 1, out
    assert _journal(root) == ["3", "1"]  # step 2's rollback did not run
    assert _state(root / "work") == before
    assert host["outcome"] == "rolled-back" and host["failed_step"] == 3
    assert [int(x) for x in host["rolled_back"]] == [3, 2, 1]
    assert host["covered"] == [[2, 3]]
    assert "step 2 undone by step 3's rollback" in out


@pytest.mark.parametrize(("k", "ran"), [(2, ["2", "1"]), (3, ["3", "1"])])
def test_a_drill_rolls_back_once_whether_the_covering_step_started_or_not(
        root: Path, k: int, ran: list[str]) -> None:
    before = _state(root / "work")
    rc, out, host = _run(root, "--fail-at", str(k))
    assert rc == 0 and "DRILL PASSED" in out, out
    assert _journal(root) == ran
    assert _state(root / "work") == before
    assert host["outcome"] == "rolled-back"
    assert [int(x) for x in host["rolled_back"]] == list(range(k, 0, -1))
    assert host["covered"] == ([[2, 3]] if k == 3 else [])


def test_procc_rollback_of_an_interrupted_run_skips_the_covered_step(root: Path) -> None:
    # The rollbacks fail (their journal is a directory), so the run leaves steps 1-3 to undo.
    (root / "journal" / "break-migrate").write_text("", encoding="utf-8")
    (root / "journal" / "rollbacks").mkdir()
    before = _state(root / "work")
    rc, out, host = _run(root)
    assert rc == 1 and host["rollback_failed"], out
    assert [int(x) for x in host["rollback_failed"]] == [3, 1]  # 2 is left to 3's rollback
    run_id = json.loads((root / "procedures" / "history" / "PROC-TEST-031.jsonl")
                        .read_text(encoding="utf-8").splitlines()[-1])["run_id"]
    (root / "journal" / "rollbacks").rmdir()
    res = procc(root, "rollback", "PROC-TEST-031", "--run", run_id, "-e", f"workdir={root / 'work'}",
                "-e", f"journal={root / 'journal'}")
    assert res.returncode == 0, res.stdout + res.stderr
    assert _journal(root) == ["3", "1"]
    assert _state(root / "work") == before


def test_check_mode_changes_nothing_and_claims_no_rollback(root: Path) -> None:
    before = _state(root / "work")
    rc, out, host = _run(root, "--check")
    assert rc == 0, out
    assert _journal(root) == [] and _state(root / "work") == before
    assert host["rolled_back"] == [] and host["covered"] == []


def test_the_fleet_rollback_of_a_host_that_succeeded_skips_the_covered_step_too(root: Path) -> None:
    # Two local hosts in batches of one, each with its own files: h1 completes, h2 fails at
    # step 3, so the fleet rolls h1 back (3's rollback covering 2, then 1) and h2 its own.
    path = root / "procedures" / NAME
    text = path.read_text(encoding="utf-8").replace("hosts: all\n", "hosts: all\nserial: 1\n")
    text = text.replace("{{ workdir }}/", "{{ workdir }}/{{ inventory_hostname }}/")
    text = text.replace("{{ journal }}/", "{{ journal }}/{{ inventory_hostname }}/")
    path.write_text(text, encoding="utf-8")
    for host in ("h1", "h2"):
        (root / "work" / host).mkdir()
        (root / "work" / host / "app.conf").write_text(ORIGINAL, encoding="utf-8")
        (root / "journal" / host).mkdir()
    (root / "journal" / "h2" / "break-migrate").write_text("", encoding="utf-8")
    before = {h: _state(root / "work" / h) for h in ("h1", "h2")}
    inv = root / "hosts.ini"
    inv.write_text("".join(f"{h} ansible_connection=local ansible_python_interpreter={sys.executable}\n"
                           for h in ("h1", "h2")), encoding="utf-8")
    res = procc(root, "run", "PROC-TEST-031", "-i", str(inv), "-e", f"workdir={root / 'work'}", "-e",
                f"journal={root / 'journal'}", "--plain", timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    end = json.loads((root / "procedures" / "history" / "PROC-TEST-031.jsonl")
                     .read_text(encoding="utf-8").splitlines()[-1])
    for host in ("h1", "h2"):
        journal = (root / "journal" / host / "rollbacks").read_text(encoding="utf-8").split()
        assert journal == ["3", "1"], (host, out)
        assert _state(root / "work" / host) == before[host]
        assert end["hosts"][host]["outcome"] == "rolled-back"
        assert end["hosts"][host]["covered"] == [[2, 3]]
