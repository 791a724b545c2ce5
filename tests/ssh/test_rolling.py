"""Rolling runs on ten real SSH hosts: a failure in the third batch (issue 10, item 6).

PROC-TEST-010 with ``serial: [1, 2, '40%']`` gives the batches procc-h1 |
procc-h2, h3 | procc-h4..h7 (40% of 10) | procc-h8..h10 (the last size
repeats). On procc-h7 the validation of step 2 fails for real: a file
``broken`` in its directory, put there before the run, says so. Each host
writes its own directory WORKDIR/<host>/ (ran.log: steps run, rollback.log:
rollbacks run, in order; one marker file per step still applied).

- Default (all-or-nothing): procc-h7 rolls back its started steps 2, 1; the
  hosts of its batch and of the earlier batches are rolled back 3, 2, 1 by
  the outcome play; procc-h8..h10 are never touched. The summary and the
  history record give each host's outcome.
- ``max_fail_percentage: 24``: one failed host of four (25%) exceeds it: the same.
- ``max_fail_percentage: 25``: one failed host of four is tolerated (Ansible
  stops when the percentage is exceeded, not equalled):
  procc-h7 is rolled back, every other host keeps the change, the last batch
  runs; the run still fails (a host failed), as ansible-playbook's would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.run.helpers import procc
from tests.support.sshhosts import Fleet

FLEET = FIXTURES / "procedures" / "PROC-TEST-010-fleet.yml"
STEPS = ["one", "two", "three"]
BATCHES = [["procc-h1"], ["procc-h2", "procc-h3"], [f"procc-h{i}" for i in range(4, 8)],
           [f"procc-h{i}" for i in range(8, 11)]]
FAILING = "procc-h7"
# Step 2's validation fails on a host whose directory holds a file 'broken'.
_VALIDATE2 = "      run: cat {{ workdir }}/{{ inventory_hostname }}/ran.log\n"
_BROKEN2 = ("      run: |\n"
            "        cat {{ workdir }}/{{ inventory_hostname }}/ran.log\n"
            "        if [ -e {{ workdir }}/{{ inventory_hostname }}/broken ]; then echo 'host marked broken' >&2;"
            " exit 3; fi\n")


def _project(tmp_path: Path, fleet_keys: str) -> Path:
    text = FLEET.read_text(encoding="utf-8")
    assert text.count(_VALIDATE2) == 1 and "\nhosts: all\n" in text
    text = text.replace(_VALIDATE2, _BROKEN2).replace("\nhosts: all\n", f"\nhosts: all\n{fleet_keys}")
    root = tmp_path / "proj"
    (root / "procedures").mkdir(parents=True)
    (root / "procedures" / FLEET.name).write_text(text, encoding="utf-8")
    return root


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def _marks(hostdir: Path) -> list[str]:
    return [s for s in STEPS if (hostdir / s).exists()]


def _run(fleet: Fleet, tmp_path: Path, fleet_keys: str) -> tuple[Path, str, dict[str, Any], int]:
    assert fleet.hosts == [h for batch in BATCHES for h in batch]
    root = _project(tmp_path, fleet_keys)
    work = tmp_path / "work"
    (work / FAILING).mkdir(parents=True)
    (work / FAILING / "broken").write_text("validation of step 2 must fail here\n", encoding="utf-8")
    res = procc(root, "run", f"procedures/{FLEET.name}", "-i", str(fleet.inventory), "-e", f"workdir={work}",
                "--plain", timeout=600)
    out = res.stdout + res.stderr
    history = root / "procedures" / "history" / "PROC-TEST-010.jsonl"
    records = [json.loads(line) for line in history.read_text(encoding="utf-8").splitlines()]
    return work, out, records[-1], res.returncode


def _assert_failed_host_rolled_back(work: Path, record: dict[str, Any], out: str) -> None:
    failed = work / FAILING
    assert _lines(failed / "ran.log") == ["one", "two"], out
    assert _lines(failed / "rollback.log") == ["two", "one"], out  # its started steps, newest first
    assert _marks(failed) == [], out
    h7 = record["hosts"][FAILING]
    assert h7["outcome"] == "rolled-back" and h7["failed_step"] == 2 and h7["rolled_back"] == [2, 1], h7
    assert f"{FAILING}: FAILED at step 2" in record["summary"], record["summary"]
    assert "host marked broken" in record["summary"], record["summary"]


@pytest.mark.parametrize("tolerance", ["", "max_fail_percentage: 24\n"], ids=["default", "exceeded"])
def test_failure_in_the_third_batch_stops_the_rollout_and_rolls_back_every_host(
        ssh_fleet10: Fleet, tmp_path: Path, tolerance: str) -> None:
    # Default: no failed host tolerated. 24%: one failed host of four (25%) exceeds it.
    work, out, record, rc = _run(ssh_fleet10, tmp_path, f"serial: [1, 2, '40%']\n{tolerance}")
    assert rc == 1, out
    _assert_failed_host_rolled_back(work, record, out)
    # The earlier batches and procc-h7's batch mates had finished: the outcome
    # play rolled them back, newest first; their files are as before the run.
    for host in [*BATCHES[0], *BATCHES[1], "procc-h4", "procc-h5", "procc-h6"]:
        hostdir = work / host
        assert _lines(hostdir / "ran.log") == STEPS, (host, out)
        assert _lines(hostdir / "rollback.log") == ["three", "two", "one"], (host, out)
        assert _marks(hostdir) == [], (host, out)
        assert record["hosts"][host]["outcome"] == "rolled-back", record["hosts"][host]
        assert record["hosts"][host]["rolled_back"] == [3, 2, 1], record["hosts"][host]
        assert f"{host}: ROLLED BACK because {FAILING} failed; rolled back: 3, 2, 1" in record["summary"]
    # The rollout stopped: the fourth batch never started (nothing written, not even its directory).
    for host in BATCHES[3]:
        assert not (work / host).exists(), (host, out)
        assert record["hosts"][host]["outcome"] == "not-run", record["hosts"][host]
        assert f"{host}: NOT RUN: the run had stopped ({FAILING} failed)" in record["summary"]
    assert record["outcome"] == "rolled-back", record
    assert sorted(record["hosts"]) == sorted(ssh_fleet10.hosts)
    # What the operator saw is the recorded summary.
    assert f"{FAILING}: FAILED at step 2" in out and "procc-h10: NOT RUN" in out, out


def test_max_fail_percentage_tolerates_one_failed_host_of_four(ssh_fleet10: Fleet, tmp_path: Path) -> None:
    # 25%: one failed host of four equals it, and Ansible stops only when it is exceeded.
    work, out, record, rc = _run(ssh_fleet10, tmp_path, "serial: [1, 2, '40%']\nmax_fail_percentage: 25\n")
    # A host failed: the run fails (ansible-playbook's rc would be 2 too), but only that host was undone.
    assert rc == 1, out
    _assert_failed_host_rolled_back(work, record, out)
    others = [h for h in ssh_fleet10.hosts if h != FAILING]
    for host in others:
        hostdir = work / host
        assert _lines(hostdir / "ran.log") == STEPS, (host, out)
        assert not (hostdir / "rollback.log").exists(), (host, out)
        assert _marks(hostdir) == STEPS, (host, out)  # the change stays
        assert record["hosts"][host]["outcome"] == "success", record["hosts"][host]
        assert f"{host}: SUCCESS" in record["summary"], record["summary"]
    assert record["outcome"] == "failed", record


def test_a_drill_rehearses_the_rollback_on_every_batch(ssh_fleet10: Fleet, tmp_path: Path) -> None:
    # --fail-at 2 on ten hosts in four batches: a drill failure is not a host failure,
    # so every batch runs, and each host rolls back 2, 1 and passes.
    root = _project(tmp_path, "serial: [1, 2, '40%']\n")
    work = tmp_path / "work"
    work.mkdir()
    res = procc(root, "run", f"procedures/{FLEET.name}", "-i", str(ssh_fleet10.inventory), "-e", f"workdir={work}",
                "--fail-at", "2", "--plain", timeout=600)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "DRILL PASSED" in out, out
    for host in ssh_fleet10.hosts:
        assert _lines(work / host / "ran.log") == ["one", "two"], (host, out)
        assert _lines(work / host / "rollback.log") == ["two", "one"], (host, out)
        assert _marks(work / host) == [], (host, out)
