"""benchmarks/reference/: the hand-written playbook is the procedure's honest twin.

The lean figure compares procc's playbook with it, so it must run the same
commands, validations and rollbacks as the procedure source (checked text
for text, fast), stay clean under ansible-lint's production profile, and
really roll back the started steps in reverse when a step fails (slow:
real ansible-playbook runs on localhost).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmarks.figures import REF_PLAYBOOK, REF_SOURCE, tasks_run
from compiler.lint.engine import lint_files
from compiler.parse import parse_file

BIN = Path(sys.executable).parent


def _plain(cmd: str) -> str:
    """A hand-written command with its quoting undone: the text the procedure source has."""
    cmd = cmd.replace("{{ release_dir | quote }}", "{{ workdir }}/releases/{{ release }}")
    return re.sub(r"\{\{ (\w+) \| quote \}\}", r"{{ \1 }}", cmd).strip()


def _hand_tasks() -> dict[str, str]:
    (play,) = yaml.safe_load(REF_PLAYBOOK.read_text(encoding="utf-8"))
    out = {}
    for task in play["tasks"][:-1] + play["tasks"][-1]["block"] + play["tasks"][-1]["rescue"]:
        for module in ("ansible.builtin.shell", "ansible.builtin.command"):
            if module in task and isinstance(task[module], str):
                out[task["name"]] = _plain(task[module])
    return out


def test_reference_source_is_valid_and_lint_clean() -> None:
    proc = parse_file(REF_SOURCE).procedure
    assert proc.id == "PROC-BENCH-010" and len(proc.steps) == 10
    assert lint_files([(REF_SOURCE, REF_SOURCE.name)]).findings == []


def test_hand_written_playbook_runs_the_sources_commands() -> None:
    proc = parse_file(REF_SOURCE).procedure
    hand = _hand_tasks()
    by_step = {int(name.split()[1]): cmd for name, cmd in hand.items()
               if name.startswith("Step ") and "|" in name and " | Validate | " not in name
               and " | Roll back | " not in name}
    validations = {int(n.split()[1]): c for n, c in hand.items() if " | Validate | " in n}
    rollbacks = {int(n.split()[1]): c for n, c in hand.items() if " | Roll back | " in n}
    for k, step in enumerate(proc.steps, 1):
        assert by_step[k] == (step.run or "").strip(), k
        assert validations[k] == (step.validate_.run or "").strip(), k  # type: ignore[union-attr]
        assert rollbacks[k] == (step.rollback.run or "").strip(), k  # type: ignore[union-attr]
    preflight = [c for n, c in hand.items() if n.startswith("Pre-flight")]
    assert preflight == [(p.run or "").strip() for p in proc.preflight]
    # Rollbacks in the rescue are in reverse order of the steps.
    order = [int(n.split()[1]) for n in hand if " | Roll back | " in n]
    assert order == list(range(10, 0, -1))


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "NO_COLOR": "1", "ANSIBLE_NOCOLOR": "1"}


@pytest.mark.slow
@pytest.mark.ansible
def test_hand_written_playbook_is_production_clean() -> None:
    proc = subprocess.run([str(BIN / "ansible-lint"), "--profile", "production", "--offline", "--nocolor",
                           str(REF_PLAYBOOK)], capture_output=True, text=True, env=_env(),
                          cwd=REF_PLAYBOOK.parents[2], check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 failure(s), 0 warning(s)" in proc.stdout + proc.stderr


def _play(work: Path) -> subprocess.CompletedProcess[str]:
    inv = work.parent / "hosts"
    inv.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n",
                   encoding="utf-8")
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inv), str(REF_PLAYBOOK), "-e", f"workdir={work}"],
                          capture_output=True, text=True, env=_env(), check=False, timeout=300)


@pytest.mark.slow
@pytest.mark.ansible
def test_hand_written_playbook_deploys_and_rolls_back_started_steps_in_reverse(tmp_path: Path) -> None:
    ok = tmp_path / "ok"
    ok.mkdir()
    res = _play(ok)
    assert res.returncode == 0, res.stdout
    assert (ok / "current" / "app.txt").read_text(encoding="utf-8") == "v2\n"
    assert not (ok / "deploy.lock").exists()
    assert tasks_run(res.stdout) == 3 + 20 + 1  # pre-flight, 10 x (step + validation), final; no rescue
    # Step 4 fails (app.conf is a dangling link: the redirection cannot create it).
    bad = tmp_path / "bad"
    (bad / "releases" / "v2").mkdir(parents=True)
    (bad / "releases" / "v2" / "app.conf").symlink_to(tmp_path / "nowhere" / "app.conf")
    res = _play(bad)
    assert res.returncode == 2, res.stdout
    ran = re.findall(r"TASK \[(Step \d+ \| Roll back[^\]]*)\]", res.stdout)
    assert [int(t.split()[1]) for t in ran] == list(range(10, 0, -1))  # every rollback task is visited
    changed = re.findall(r"TASK \[Step (\d+) \| Roll back[^\]]*\][^\n]*\n(changed|skipping)", res.stdout)
    assert [int(k) for k, what in changed if what == "changed"] == [4, 3, 2, 1]
    assert "Full rollback" in res.stdout and "Deploy failed at 'Step 4 | Write the configuration'" in res.stdout
    assert sorted(p.name for p in bad.iterdir()) == ["releases"]  # lock gone, the release dir removed
    assert list((bad / "releases").iterdir()) == []
