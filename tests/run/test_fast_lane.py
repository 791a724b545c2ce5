"""Real runs of the opt-in fast lane: ``procc run --fast`` (or PROCC_FAST=1) with Mitogen.

Each run is checked twice for the strategy: ansible-runner's record of the
child's environment (``artifacts/*/command``) says ANSIBLE_STRATEGY was
mitogen_linear, and the copy module of step 3 ran through Mitogen's action
plugin (its temporary source is ``ansible_mitogen_action_*``), which stock
Ansible never writes. The drill and the real failure must roll back the
started steps in reverse, exactly as without --fast. Without Mitogen (an
``ansible_mitogen`` package shadowed on PYTHONPATH, with no strategy
plugins) the run is stock Ansible with a one-line notice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.run.helpers import procc, project

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

MARKS = ("one", "two", "three", "four")
NOTICE = "procc: notice: --fast needs Mitogen"


def _artifacts(root: Path) -> Path:
    (run_dir,) = (root / ".procc" / "runs").iterdir()
    (art,) = (run_dir / "artifacts").iterdir()
    return art


def _strategy(root: Path) -> tuple[str | None, bool]:
    """The ANSIBLE_STRATEGY ansible-playbook got, and whether a module ran through Mitogen."""
    art = _artifacts(root)
    env = json.loads((art / "command").read_text(encoding="utf-8"))["env"]
    events = " ".join(p.read_text(encoding="utf-8") for p in (art / "job_events").glob("*.json"))
    return env.get("ANSIBLE_STRATEGY"), "ansible_mitogen_action" in events


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def _run(tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None) -> tuple[int, str, Path]:
    root = project(tmp_path, "PROC-TEST-001")
    res = procc(root, "run", "PROC-TEST-001", "-e", f"workdir={root / 'work'}", "--plain", "--no-record", *args,
                extra_env=extra_env, timeout=300)
    return res.returncode, res.stdout + res.stderr, root


def test_fast_run_goes_through_mitogen(tmp_path: Path) -> None:
    rc, out, root = _run(tmp_path, "--fast")
    assert rc == 0, out
    assert NOTICE not in out
    assert all((root / "work" / m).is_file() for m in MARKS)
    assert _strategy(root) == ("mitogen_linear", True)


def test_fast_drill_rolls_back_in_reverse(tmp_path: Path) -> None:
    # The setting instead of the option: PROCC_FAST=1 takes the same lane.
    rc, out, root = _run(tmp_path, "--fail-at", "4", extra_env={"PROCC_FAST": "1"})
    assert rc == 0, out
    assert "DRILL PASSED" in out, out
    assert _lines(root / "work" / "rollback.log") == ["four", "three", "two", "one"]
    assert not any((root / "work" / m).exists() for m in MARKS)
    assert _strategy(root) == ("mitogen_linear", True)


def test_fast_real_failure_rolls_back_started_steps(tmp_path: Path) -> None:
    rc, out, root = _run(tmp_path, "--fast", "-e", "fail_step=4")
    assert rc == 1, out
    assert "FAILED at step 4" in out, out
    assert _lines(root / "work" / "ran.log") == ["one", "two", "four"]  # step 3 is a module, not a command
    assert _lines(root / "work" / "rollback.log") == ["four", "three", "two", "one"]
    assert not any((root / "work" / m).exists() for m in MARKS)
    assert _strategy(root) == ("mitogen_linear", True)


def test_fast_without_mitogen_falls_back_with_a_notice(tmp_path: Path) -> None:
    # An ansible_mitogen package with no strategy plugins, first on the path:
    # to procc (and to Ansible) Mitogen is not installed.
    shadow = tmp_path / "shadow" / "ansible_mitogen"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('shadowed by the test')\n", encoding="utf-8")
    path = os.pathsep.join(p for p in (str(shadow.parent), os.environ.get("PYTHONPATH", "")) if p)
    rc, out, root = _run(tmp_path, "--fast", extra_env={"PYTHONPATH": path})
    assert rc == 0, out
    assert sum(NOTICE in line for line in out.splitlines()) == 1, out
    assert all((root / "work" / m).is_file() for m in MARKS)
    assert _strategy(root) == (None, False)
