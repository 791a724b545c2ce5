"""A role that cannot be loaded never ends in a success.

ansible-core 2.19 counts a failed ``include_role``/``include_tasks`` as a
failed host even when a block rescues it, then ends the playbook after that
play with exit status 0: the outcome play (summary, fleet rollback, failing
the run) never runs. procc guards both routes:

* the compiled playbook imports every role it calls statically (a task that
  runs nothing), so a missing role or collection fails the playbook as it
  loads, before any step; plain ``ansible-playbook`` exits non-zero;
* ``procc run`` never calls a run without its per-host results a success,
  and says why (ansible-playbook's own error when the playbook did not load).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.history import history_path, read
from tests.run.helpers import BIN, procc, project

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

FINAL_ROLE = """  smoke:
    - title: Rol health
      role: health
      vars:
        health_url: http://127.0.0.1:1/version
"""

BROKEN_STEP = """steps:
  - id: broken
    title: Paso con un rol que incluye un fichero que no existe
    minutes: 1
    role: broken
    expected: Nunca
    rollback:
      run: echo broken >> {{ workdir }}/rollback.log
  - id: one
"""


def _source(root: Path, old: str, new: str) -> None:
    path = next((root / "procedures").glob("PROC-TEST-001*.yml"))
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_missing_collection_fails_the_playbook_before_any_step(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-001")
    _source(root, "  smoke:\n", FINAL_ROLE)
    assert procc(root, "compile", "-q").returncode == 0
    playbook = next((root / "playbooks").glob("PROC-TEST-001*.yml"))
    elsewhere = tmp_path / "elsewhere"  # no ansible.cfg: the collection is not installed anywhere
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PROCC_"))}
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "empty"), "ANSIBLE_ROLES_PATH": str(tmp_path / "empty"),
                "PATH": f"{BIN}:{env.get('PATH', '')}"})
    res = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
         "-e", "procc_hosts=localhost", "-e", f"ansible_python_interpreter={sys.executable}",
         "-e", f"workdir={root / 'work'}"],
        cwd=elsewhere, env=env, text=True, capture_output=True, timeout=300, check=False)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "the role 'procc.ops.health' was not found" in out
    # Nothing ran: not the pre-flight, not a step, not a rollback.
    assert sorted(p.name for p in (root / "work").iterdir()) == [], out


def test_procc_run_says_which_role_is_missing(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-001")
    _source(root, "  smoke:\n", FINAL_ROLE)
    (root / "ansible.cfg").write_text("[defaults]\ncollections_path = ./nowhere\n", encoding="utf-8")
    res = procc(root, "run", "PROC-TEST-001", "-e", f"workdir={root / 'work'}")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "FAILED before any task ran: [ERROR]: the role 'procc.ops.health' was not found" in res.stdout
    assert "SUCCESS" not in res.stdout
    runs, _ = read(history_path(root, "PROC-TEST-001"))
    assert [run.outcome for run in runs] == ["failed"]


def test_a_failed_include_inside_a_role_is_never_a_success(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-001")
    tasks = root / "roles" / "broken" / "tasks"
    tasks.mkdir(parents=True)
    # Loads fine; the include fails only when reached, as a role's
    # include of a file that a version of the role no longer ships would.
    (tasks / "main.yml").write_text(
        "---\n- name: Incluir un fichero que no existe\n"
        "  ansible.builtin.include_tasks: \"{{ 'gone' + '.yml' }}\"\n", encoding="utf-8")
    _source(root, "steps:\n  - id: one\n", BROKEN_STEP)
    res = procc(root, "run", "PROC-TEST-001", "-e", f"workdir={root / 'work'}")
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "SUCCESS" not in out
    assert "ended before the procedure's outcome play, so localhost has no result" in out
    assert "broken" in (root / "work" / "rollback.log").read_text(encoding="utf-8")
    runs, _ = read(history_path(root, "PROC-TEST-001"))
    assert [run.outcome for run in runs] == ["failed"]
