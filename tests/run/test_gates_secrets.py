"""Approvals, the staging-before-production gate, and secrets that never leak."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from compiler.history import history_path, read
from tests.run.helpers import procc, project
from tests.run.helpers import runner_inventory as inventory

SECRET = "s3cr3t-Zq8pWx-never-shown"


def test_critical_without_terminal_or_flag_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-003")
    res = procc(root, "run", "PROC-TEST-003", "-e", f"workdir={root / 'work'}",
                extra_env={"PROCC_TEST_TOKEN": SECRET})
    assert res.returncode == 2
    assert "approval required" in res.stderr and "--approved-by" in res.stderr
    assert not history_path(root, "PROC-TEST-003").exists()


def test_production_needs_staging_first(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-003")
    inventory(root, "production")
    res = procc(root, "run", "PROC-TEST-003", "--env", "production", "--approved-by", "Luis",
                "-e", f"workdir={root / 'work'}", extra_env={"PROCC_TEST_TOKEN": SECRET})
    assert res.returncode == 2
    assert "no successful run or drill in staging" in res.stderr


@pytest.mark.slow
@pytest.mark.ansible
def test_gate_allows_after_staging_and_secret_never_leaks(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-003")
    inventory(root, "staging")
    inventory(root, "production")
    work = root / "work"
    env = {"PROCC_TEST_TOKEN": SECRET}
    staging = procc(root, "run", "PROC-TEST-003", "--env", "staging", "--approved-by", "Ana",
                    "-e", f"workdir={work}", extra_env=env)
    assert staging.returncode == 0, staging.stdout + staging.stderr
    (work / "token.sha").unlink()
    prod = procc(root, "run", "PROC-TEST-003", "--env", "production", "--approved-by", "Luis",
                 "-e", f"workdir={work}", extra_env=env)
    assert prod.returncode == 0, prod.stdout + prod.stderr
    # The step really received the secret.
    digest = subprocess.run(["sha256sum"], input=SECRET, text=True, capture_output=True,
                            check=True).stdout.split()[0]
    assert (work / "token.sha").read_text().split()[0] == digest
    runs, _ = read(history_path(root, "PROC-TEST-003"))
    assert [r.get("approved_by") for r in runs] == ["Ana", "Luis"]
    assert [r.get("environment") for r in runs] == ["staging", "production"]
    assert procc(root, "compile", "-q").returncode == 0
    # Grep everything procc wrote or printed for the secret's value.
    leaks = [str(p) for p in root.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaks == []
    for res in (staging, prod):
        assert SECRET not in res.stdout + res.stderr


@pytest.mark.slow
@pytest.mark.ansible
def test_force_overrides_the_staging_gate_and_is_recorded(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-003")
    inventory(root, "production")
    res = procc(root, "run", "PROC-TEST-003", "--env", "production", "--approved-by", "Luis", "--force",
                "-e", f"workdir={root / 'work'}", extra_env={"PROCC_TEST_TOKEN": SECRET})
    assert res.returncode == 0, res.stdout + res.stderr
    assert "forced" in res.stderr
    runs, _ = read(history_path(root, "PROC-TEST-003"))
    assert len(runs) == 1
    record = runs[0]
    assert record.get("environment") == "production"
    assert "no successful run or drill in staging" in str(record.get("forced"))
