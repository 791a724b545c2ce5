"""A host lost mid-step in a rolling (serial: 1) run over real SSH stops the whole run.

procc-h1 runs the three steps of PROC-TEST-010 (batch 1) and finishes; on
procc-h2 (batch 2), step 2 kills the sshd session process of its own
connection, so Ansible sees procc-h2 UNREACHABLE in the middle of the step.
The run must fail, procc-h1's steps must be rolled back (its files as before
the run), and the summary and the history record must name procc-h2 with the
exact ``procc rollback`` command to run once it is back.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.run.helpers import procc
from tests.support.sshhosts import Fleet

pytestmark = pytest.mark.slow

FLEET = FIXTURES / "procedures" / "PROC-TEST-010-fleet.yml"

# Step 2, on fail_host, kills the sshd process of its own connection.
_DROP = """\
        p=$$
        while [ "$p" -gt 1 ]; do
          case "$(tr '\\0' ' ' < /proc/$p/cmdline)" in "sshd: root"*) kill -9 "$p"; sleep 5;; esac
          p=$(awk '{print $4}' /proc/$p/stat)
        done
"""


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def _rolling_dropping_project(tmp_path: Path) -> Path:
    text = FLEET.read_text(encoding="utf-8")
    fail2 = '[ "{{ fail_step }}" = 2 ]; then exit 1; fi\n'
    assert text.count(fail2) == 1 and "\nhosts: all\n" in text
    text = text.replace(fail2, '[ "{{ fail_step }}" = 2 ]; then\n' + _DROP + "      fi\n")
    text = text.replace("\nhosts: all\n", "\nhosts: all\nserial: 1\n")
    root = tmp_path / "proj"
    (root / "procedures").mkdir(parents=True)
    (root / "procedures" / FLEET.name).write_text(text, encoding="utf-8")
    return root


def test_unreachable_host_in_a_rolling_run_rolls_back_the_other(ssh_fleet: Fleet, tmp_path: Path) -> None:
    root = _rolling_dropping_project(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    inventory = tmp_path / "inventory.ini"
    shutil.copy(ssh_fleet.inventory, inventory)
    res = procc(root, "run", f"procedures/{FLEET.name}", "-i", str(inventory), "--limit", "procc-h1:procc-h2",
                "-e", f"workdir={work}", "-e", "fail_host=procc-h2", "-e", "fail_step=2", "--plain",
                timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    first, lost = work / "procc-h1", work / "procc-h2"
    # procc-h1 had finished its batch; its steps were rolled back, newest first: its files as before.
    assert _lines(first / "ran.log") == ["one", "two", "three"], out
    assert _lines(first / "rollback.log") == ["three", "two", "one"], out
    assert not any((first / m).exists() for m in ("one", "two", "three")), out
    # procc-h2 dropped off in step 2: nothing more ran there, nothing claims it was rolled back.
    assert _lines(lost / "ran.log") == ["one", "two"], out
    assert not (lost / "rollback.log").exists(), out
    assert "FAILED" in out
    history = root / "procedures" / "history" / "PROC-TEST-010.jsonl"
    records = [json.loads(line) for line in history.read_text(encoding="utf-8").splitlines()]
    end = records[-1]
    run_id = end["run_id"]
    command = f"procc rollback PROC-TEST-010 --run {run_id} --limit procc-h2"
    assert command in out, out
    assert end["outcome"] == "failed"
    assert command in end["summary"]
    assert end["hosts"]["procc-h2"]["outcome"] == "unreachable", end["hosts"]
    assert end["hosts"]["procc-h2"]["failed_step"] == 2
    assert end["hosts"]["procc-h1"]["outcome"] == "rolled-back", end["hosts"]
    assert end["hosts"]["procc-h1"]["rolled_back"] == [3, 2, 1]
    # Once it is back (only its session was killed), the printed command finishes the job there.
    back = procc(root, "rollback", "PROC-TEST-010", "--run", run_id, "--limit", "procc-h2", "-i", str(inventory),
                 "-e", f"workdir={work}", timeout=300)
    assert back.returncode == 0, back.stdout + back.stderr
    assert _lines(lost / "rollback.log") == ["two", "one"]
    assert not any((lost / m).exists() for m in ("one", "two", "three"))
    assert _lines(first / "rollback.log") == ["three", "two", "one"]  # procc-h1 untouched by it
