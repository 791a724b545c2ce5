"""Measured reasons (benchmarks/phases.py, benchmarks/reasons.py): taken from real runs, printed beside a verdict.

No time is asserted (issue 14): these check that the phase probe runs the
real compile and lint in a fresh process and reports every phase, that the
reasons are arithmetic on the numbers given (not constants), and that
RESULTS.md prints them, with "what would meet it", for a goal not met.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import catalog, reasons, report
from benchmarks.figures import ROOT, Row


def _probe(mode: str, project: Path) -> dict[str, object]:
    res = subprocess.run([sys.executable, "-m", "benchmarks.phases", mode, str(project)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    out = json.loads(res.stdout)
    assert isinstance(out, dict)
    return out


@pytest.mark.parametrize(("mode", "phases"), [
    ("compile", {"import_model", "import_rest", "parse", "history", "runbook", "playbook_build", "playbook_dump",
                 "write"}),
    ("lint", {"import_model", "import_rest", "parse", "rules"}),
])
def test_the_probe_times_every_phase_of_a_real_run(tmp_path: Path, mode: str, phases: set[str]) -> None:
    project = catalog.write(tmp_path / "cat", 2, 3)
    out = _probe(mode, project)
    assert out["files"] == 2
    sec = out["seconds"]
    assert isinstance(sec, dict) and set(sec) == phases | {"total"}
    # The work phases really ran (CPU spent), and the total covers them.
    assert all(sec[k] > 0 for k in ("import_model", "parse"))
    assert sec["total"] >= sum(v for k, v in sec.items() if k != "total") * 0.99
    if mode == "compile":  # it wrote what procc compile writes
        assert sorted(p.name for p in (project / "phase-playbooks").iterdir()) == \
            sorted(p.with_suffix(".yml").name for p in (project / "procedures").glob("*.yml"))
    line = reasons.phases(out, per_file=True)
    assert line.startswith("CPU by phase, per file (mean of 2): ") and "compiler.model" in line


def test_the_pool_probe_reports_parent_and_worker_memory(tmp_path: Path) -> None:
    project = catalog.write(tmp_path / "cat", 9, 2)  # >= build.PARALLEL_MIN misses: the pool runs
    out = _probe("pool", project)
    assert out["files"] == 9 and float(out["parent_mib"]) > 10  # type: ignore[arg-type]
    if int(out["workers"]) > 1:  # type: ignore[call-overload]
        assert float(out["worker_mib"]) > 10  # type: ignore[arg-type]
    assert "parent peak" in reasons.pool_memory(40, 45, 1.25, out)[0][0]


def test_tasks_per_play_reads_ansible_playbooks_output() -> None:
    out = ("PLAY [A | run] ****\n\nTASK [one] ****\nok: [h]\n\nTASK [two] ****\nskipping: [h]\n"
           "PLAY [A | fleet] ****\n\nTASK [leave] ****\n\nPLAY [A | outcome] ****\nTASK [r] ***\n"
           "PLAY RECAP ****\nh : ok=3 changed=0 unreachable=0 failed=0 skipped=1\n")
    assert reasons.tasks_per_play(out) == [("A | run", 2), ("A | fleet", 1), ("A | outcome", 1)]


def test_reasons_are_computed_from_the_numbers() -> None:
    why, meet = reasons.lean(11.0, 10.0, 1.05, 44, 24, [("run", 40)])
    assert "1.00 s more for 20 more task results: 50 ms each" in why[1]
    assert meet.startswith("<= 1.05x allows 10 task results more")
    _, meet2 = reasons.lean(12.0, 10.0, 1.05, 44, 24, [])
    assert "allows 5 task results" in meet2
    probe = {"files": 200, "seconds": {"import_model": 0.2, "import_rest": 0.1, "parse": 4.0, "playbook_dump": 8.0,
                                        "total": 12.3}}
    why, meet = reasons.catalog_compile(5.0, 9.0, 200, 2, 3.0, 0.4, probe)
    assert "1.80 cores busy" in why[0] and "43 ms of CPU per procedure" in why[0]
    assert "<= 28 ms of CPU per procedure" in meet and "playbook YAML dump, is 40 ms" in meet
    _, meet = reasons.compile_one(1.0, 0.5, 0.4, 0.45, probe)
    assert "even zero work is 0.45x" in meet
    why, meet = reasons.check_unchanged(1.5, 200, 1.0, 0.5)
    assert "1.00 s, is reading and hashing 200 sources and their outputs (5.0 ms each)" in why[0]
    assert meet == "<= 1 s needs 0.50 s less; start-up alone is 50 % of the budget"


def test_report_prints_the_reasons_and_what_would_meet_it_for_a_goal_not_met() -> None:
    rows = [Row("3000-step procedure compile", "none", "5 s", "5 s", "<= 2 s", "NOT MET", "32 s", ["d"],
                ["CPU by phase: dump 3 ms"], "cut 3 s"),
            Row("`procc check` of x", "none", "0.2 s", "0.2 s", "<= 1 s", "met", "38 s", ["d"], ["r"], "m")]
    text = report.render(rows, command="python -m benchmarks all", repeat=1, sizes="s", load_before=(0.0,),
                         seconds=1.0)
    assert "- measured: CPU by phase: dump 3 ms\n- not met; what would meet it (from the numbers above): cut 3 s" in text
    assert "- measured: r\n" in text and "what would meet it (from the numbers above): m" not in text
