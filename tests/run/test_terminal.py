"""procc on a real terminal (a pty): the interactive approval and the live display."""

from __future__ import annotations

from pathlib import Path

import pexpect
import pytest

from compiler.history import history_path, read
from tests.run.helpers import PROCC, env, project

pytestmark = [pytest.mark.slow, pytest.mark.ansible]
SECRET = "pty-s3cr3t-never-shown-77"


def _spawn(root: Path, *args: str) -> pexpect.spawn:  # type: ignore[type-arg]
    child = pexpect.spawn(PROCC, list(args), cwd=str(root), env=env(PROCC_TEST_TOKEN=SECRET),
                          encoding="utf-8", timeout=120, dimensions=(50, 140))
    return child


def test_interactive_approval_shows_the_impact_and_records_the_approver(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-003")
    child = _spawn(root, "run", "PROC-TEST-003", "-e", f"workdir={root / 'work'}")
    child.expect("Sistemas: Solo el directorio de trabajo")
    child.expect(r"Type the procedure id \(PROC-TEST-003\) to confirm")
    child.sendline("PROC-TEST-003")
    # A critical procedure is approved by someone else: the prompt asks who.
    child.expect("Approved by")
    child.sendline("Lead Backend")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    runs, _ = read(history_path(root, "PROC-TEST-003"))
    assert len(runs) == 1 and runs[0].get("approved_by") == "Lead Backend" and runs[0].succeeded
    assert (root / "work" / "token.sha").is_file()
    assert SECRET not in (child.before or "")


def test_the_executor_cannot_approve_a_critical_procedure_at_the_prompt(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-003")
    child = _spawn(root, "run", "PROC-TEST-003", "-e", f"workdir={root / 'work'}")
    child.expect("to confirm")
    child.sendline("PROC-TEST-003")
    child.expect("Approved by")
    child.sendline("TESTER")  # PROCC_EXECUTOR=tester, in other case
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "cannot be approved by the person running it" in (child.before or "")
    assert not history_path(root, "PROC-TEST-003").exists()
    assert not (root / "work" / "token.sha").exists()


def test_a_wrong_answer_runs_nothing(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-003")
    child = _spawn(root, "run", "PROC-TEST-003", "-e", f"workdir={root / 'work'}")
    child.expect("to confirm")
    child.sendline("no")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "not approved" in (child.before or "")
    assert not history_path(root, "PROC-TEST-003").exists()
    assert not (root / "work" / "token.sha").exists()


def test_live_display_on_a_terminal(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-001")
    child = _spawn(root, "run", "PROC-TEST-001", "-e", f"workdir={root / 'work'}", "--fail-at", "2")
    child.expect(pexpect.EOF)
    child.close()
    out = child.before or ""
    assert child.exitstatus == 0, out
    # The live display names the steps and the rollbacks, then the one summary.
    assert "Crear marca dos" in out
    assert "DRILL PASSED" in out
    assert "rollbacks executed: 2, 1" in out
    # A terminal gets the live display (ANSI control sequences), not only plain lines.
    assert "\x1b[" in out


def test_full_rollback_alone(tmp_path: Path) -> None:
    from tests.run.helpers import procc

    root = project(tmp_path, "PROC-TEST-001")
    work = root / "work"
    ok = procc(root, "run", "PROC-TEST-001", "-e", f"workdir={work}")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert {"one", "two", "three", "four"} <= {p.name for p in work.iterdir()}
    rb = procc(root, "rollback", "PROC-TEST-001", "-e", f"workdir={work}")
    assert rb.returncode == 0, rb.stdout + rb.stderr
    assert (work / "rollback.log").read_text(encoding="utf-8").split() == ["full"]
    assert not {"one", "two", "three", "four"} & {p.name for p in work.iterdir()}


def test_runs_dir_is_configurable(tmp_path: Path) -> None:
    from tests.run.helpers import procc

    root = project(tmp_path, "PROC-TEST-001")
    runs = tmp_path / "elsewhere"
    res = procc(root, "run", "PROC-TEST-001", "-e", f"workdir={root / 'work'}", "--runs-dir", str(runs))
    assert res.returncode == 0, res.stdout + res.stderr
    (run_dir,) = list(runs.iterdir())
    assert (run_dir / "artifacts").is_dir() and (run_dir / "project" / "playbook.yml").is_file()
    assert not (root / ".procc" / "runs").exists()
