"""Failure causes, outcome labels and English playbooks, through real ``procc run`` on localhost.

One English procedure (so that an English playbook has no Spanish at all)
fails where ``fail_what`` says: ``async`` in an interruptible (async) step
whose rollback chain includes a failing rollback, ``step`` in a plain step,
``final`` in a metric of the final validation after an irreversible step ran.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compiler import playbook
from compiler.i18n import TABLES
from compiler.parse import parse_file
from tests.run.helpers import BIN, env, procc

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

PROC = """\
id: PROC-TEST-011
type: maintenance
title: Failure causes fixture
criticality: medium
frequency: on-demand
estimated_minutes: 4
version: 1.0.0
updated: 2026-11-29
author: Procc team
reviewers: [Reviewer One]
hosts: all
parameters:
  workdir:
    description: Working directory
    required: true
    pattern: '^/[A-Za-z0-9_./-]+$'
  fail_what:
    description: Where the run fails
    default: none
    choices: [none, async, step, final]
purpose:
  what: Four steps that fail where asked, to check the failure causes.
  when: [procc tests]
  when_not: [Never in production]
  impact: {users: None, systems: The working directory only, data: None, sla: None}
preflight:
  - title: Check the working directory
    run: test -d {{ workdir }}
steps:
  - title: Record the start
    minutes: 1
    run: echo one >> {{ workdir }}/ran.log
    validate:
      run: grep -q one {{ workdir }}/ran.log
    rollback:
      run: |
        echo one >> {{ workdir }}/rollback.log
        if [ "{{ fail_what }}" = async ]; then echo "rollback one broke: disk full" >&2; exit 3; fi
  - title: Copy the data
    minutes: 1
    interruptible: true
    run: |
      echo two >> {{ workdir }}/ran.log
      if [ "{{ fail_what }}" = async ]; then echo copying; cat {{ workdir }}/nonexistent; fi
    validate:
      run: grep -q two {{ workdir }}/ran.log
    rollback:
      run: echo two >> {{ workdir }}/rollback.log
  - title: Apply the change
    minutes: 1
    run: |
      echo three >> {{ workdir }}/ran.log
      if [ "{{ fail_what }}" = step ]; then cat {{ workdir }}/nonexistent; fi
    validate:
      run: grep -q three {{ workdir }}/ran.log
    rollback:
      run: echo three >> {{ workdir }}/rollback.log
  - title: Send the announcement
    minutes: 1
    run: echo four >> {{ workdir }}/ran.log
    validate:
      run: grep -q four {{ workdir }}/ran.log
    irreversible: A sent announcement cannot be recalled
final_validation:
  metrics:
    - name: error_rate
      run: if [ "{{ fail_what }}" = final ]; then echo 0.5; else echo 0.001; fi
      below: 0.01
rollback:
  triggers: [The final validation fails]
  steps:
    - title: Undo everything
      run: echo full >> {{ workdir }}/rollback.log
changelog:
  - {version: 1.0.0, date: 2026-11-29, author: Procc team, changes: First version}
"""

NAME = "PROC-TEST-011-causes.yml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "procedures").mkdir(parents=True)
    (root / "procedures" / NAME).write_text(PROC, encoding="utf-8")
    (root / "work").mkdir()
    return root


def _run(root: Path, fail_what: str, *args: str) -> tuple[str, dict[str, Any]]:
    res = procc(root, "run", "PROC-TEST-011", "-e", f"workdir={root / 'work'}", "-e", f"fail_what={fail_what}",
                "--plain", *args)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    history = root / "procedures" / "history" / "PROC-TEST-011.jsonl"
    end = json.loads(history.read_text(encoding="utf-8").splitlines()[-1])
    assert end["kind"] == "end"
    return out, end


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def test_async_step_failure_names_its_step_and_stderr_and_the_failed_rollbacks_cause(root: Path) -> None:
    out, end = _run(root, "async")
    # The step ran asynchronously (async_status polled it) and its failure is the step's, with its stderr.
    assert "FAILED at step 2" in out, out
    assert "No such file or directory" in out and "rc 1" in out, out
    assert "copying" in out  # the stdout tail too
    host = end["hosts"]["localhost"]
    assert host["failed_step"] == 2 and host["rc"] == 1, host
    assert any("No such file or directory" in line for line in host["stderr"]), host
    assert end["failed_step"] == 2
    # Step 1's rollback failed: named, with its own cause; the others still ran (newest first).
    assert "ROLLBACK FAILED for: 1" in out and "rollback one broke: disk full" in out and "(rc 3)" in out, out
    assert host["rollback_errors"][0]["ref"] == 1 and host["rollback_errors"][0]["rc"] == 3, host
    assert _lines(root / "work" / "rollback.log") == ["two", "one"]
    assert end["outcome"] == "failed" and end["rollbacks_failed"] == ["1"]
    assert "No such file or directory" in end["summary"]


def test_english_playbook_has_no_spanish_and_runs_through_procc_run(root: Path, tmp_path: Path) -> None:
    text = playbook.render(parse_file(root / "procedures" / NAME, NAME).procedure, "en")
    # Every word procc itself writes into a Spanish playbook, where it differs from the English one.
    es, en = TABLES["es"], TABLES["en"]
    spanish = {es[k] for k in es if es[k] != en[k]}
    english = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", " ".join(en.values()))}
    words = {w for phrase in spanish for w in re.findall(r"[A-Za-zÀ-ÿ]{4,}", phrase) if w.lower() not in english}
    found = sorted(w for w in words if re.search(rf"\b{re.escape(w)}\b", text, re.IGNORECASE))
    assert found == [], found
    assert "Paso" not in text and "Resumen del fallo" not in text and "FALLIDO" not in text

    out, end = _run(root, "step", "--lang", "en")
    assert "Step 3 | Apply the change" in out
    assert "ROLLED BACK" in out, out
    assert "FAILED at step 3 (Step 3 | Apply the change)" in out, out
    assert "No such file or directory" in out, out
    assert "failed step: Step 3 (Apply the change)" in out, out
    assert end["outcome"] == "rolled-back" and end["failed_step"] == 3
    assert end["started"] == [1, 2, 3] and end["rollbacks"] == ["3", "2", "1"]
    assert end["irreversible"] == []
    assert [s["status"] for s in end["steps"]] == ["ok", "ok", "failed", "not-run"]
    assert "No such file or directory" in end["summary"]
    assert _lines(root / "work" / "rollback.log") == ["three", "two", "one"]


def test_final_validation_failure_with_full_rollback_is_rolled_back_and_lists_irreversible(root: Path) -> None:
    out, end = _run(root, "final")
    assert "metric error_rate = 0.5, required < 0.01" in out, out
    assert "FAILED in final validation" in out and "full rollback ran: R1" in out, out
    assert "failed at:" not in out, out
    assert end["outcome"] == "rolled-back", end
    assert end["irreversible"] == [4], end
    assert end["rollbacks"] == ["R1"]
    assert _lines(root / "work" / "rollback.log") == ["full"]
    assert "metric error_rate = 0.5" in end["hosts"]["localhost"]["message"]


def test_preflight_failure_names_the_check_and_nothing_after_it(root: Path) -> None:
    res = procc(root, "run", "PROC-TEST-011", "-e", f"workdir={root / 'missing'}", "--plain")
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "FAILED in pre-flight (Paso P1 | Check the working directory)" in out, out
    assert "no step was run" in out
    # Not a spurious "failed at: Post-Ejecucion | ..." line (post ran and succeeded or was empty).
    assert "failed at:" not in out and "Post-Ejecucion" not in out.split("==", 2)[-1], out
    assert "rc 1" in out


SECRET_PROC = """\
id: PROC-TEST-012
type: maintenance
title: Hidden failure fixture
criticality: low
frequency: on-demand
estimated_minutes: 1
version: 1.0.0
updated: 2026-11-29
author: Procc team
reviewers: [Reviewer One]
hosts: all
parameters:
  token:
    description: An API token
    required: true
    secret: true
    env: PROCC_T012_TOKEN
purpose:
  what: One module step that sees a secret and fails.
  when: [procc tests]
  when_not: [Never in production]
  impact: {users: None, systems: None, data: None, sla: None}
steps:
  - title: Call the API
    minutes: 1
    task:
      ansible.builtin.command:
        argv: [sh, -c, "echo derived-from-the-token >&2; exit 4", "{{ token }}"]
    rollback:
      run: "true"
changelog:
  - {version: 1.0.0, date: 2026-11-29, author: Procc team, changes: First version}
"""


def test_failed_no_log_step_keeps_its_rc_and_hides_its_output(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "procedures").mkdir(parents=True)
    (root / "procedures" / "PROC-TEST-012-hidden.yml").write_text(SECRET_PROC, encoding="utf-8")
    res = procc(root, "run", "PROC-TEST-012", "--plain", extra_env={"PROCC_T012_TOKEN": "s3cr3t-T0ken"})
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "FAILED at step 1" in out and "rc 4" in out and "output hidden by no_log" in out, out
    # What a module's output may derive from a secret never reaches the summary or the history.
    assert "derived-from-the-token" not in out and "s3cr3t-T0ken" not in out
    history = (root / "procedures" / "history" / "PROC-TEST-012.jsonl").read_text(encoding="utf-8")
    assert "derived-from-the-token" not in history and "output hidden by no_log" in history


def test_plain_ansible_playbook_gets_the_same_summary_as_its_fail_message(root: Path, tmp_path: Path) -> None:
    # The AWX / ansible-playbook route: no procc on the controller, the result is the playbook's own.
    pb = tmp_path / "playbook.yml"
    pb.write_text(playbook.render(parse_file(root / "procedures" / NAME, NAME).procedure, "en"), encoding="utf-8")
    res = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(pb),
         "-e", f"workdir={root / 'work'}", "-e", "fail_what=step", "-e", f"ansible_python_interpreter={sys.executable}"],
        capture_output=True, text=True, env=env(), timeout=300, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == 2, out
    assert "PROC-TEST-011 localhost: FAILED at step 3 (Step 3 | Apply the change)" in out, out
    assert "No such file or directory" in out and "rolled back: 3, 2, 1" in out, out
