"""Gates hold on every route: the environment comes from the inventory too, no self-approval,
``--yes`` needs a terminal, and only records procc signed count for staging-before-production."""

from __future__ import annotations

import getpass
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from compiler.history import history_path, read
from compiler.parse import parse_text
from tests.security.runner_support import KEY, inventory, procc, project


def _work(root: Path) -> str:
    return f"workdir={root / 'work'}"


# -- the environment comes from the inventory ---------------------------------------------------

def test_production_inventory_without_env_is_production(tmp_path: Path) -> None:
    root = project(tmp_path, "slow")
    hosts = inventory(root, "production")
    res = procc(root, "run", "procedures/runner-slow.yml", "-i", str(hosts.relative_to(root)), "-e", _work(root))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "approval required (the target environment is production)" in res.stderr
    assert not history_path(root, "PROC-RUNNER-005").exists()
    assert not (root / "work" / "slow-started").exists()


@pytest.mark.parametrize("how", ["link-into-production", "production-links-out"])
def test_symlinks_do_not_hide_a_production_inventory(tmp_path: Path, how: str) -> None:
    root = project(tmp_path, "slow")
    hosts = inventory(root, "production")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if how == "link-into-production":
        given = elsewhere / "hosts"
        given.symlink_to(hosts)
    else:
        real = elsewhere / "real-hosts"
        real.write_text(hosts.read_text(encoding="utf-8"), encoding="utf-8")
        hosts.unlink()
        hosts.symlink_to(real)
        given = hosts
    res = procc(root, "run", "procedures/runner-slow.yml", "-i", str(given), "-e", _work(root))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "the target environment is production" in res.stderr


def test_env_and_a_production_inventory_together_are_a_usage_error(tmp_path: Path) -> None:
    root = project(tmp_path, "slow")
    inventory(root, "staging")
    hosts = inventory(root, "production")
    res = procc(root, "run", "procedures/runner-slow.yml", "--env", "staging", "-i", str(hosts), "-e", _work(root))
    assert res.returncode == 2
    assert "not allowed with" in res.stderr or "not both" in res.stderr
    assert not history_path(root, "PROC-RUNNER-005").exists()


@pytest.mark.slow
@pytest.mark.ansible
def test_production_inventory_run_is_recorded_as_production(tmp_path: Path) -> None:
    root = project(tmp_path, "slow")
    hosts = inventory(root, "production")
    res = procc(root, "run", "procedures/runner-slow.yml", "-i", str(hosts), "--approved-by", "Luis",
                "-e", _work(root), "-e", "seconds=0")
    assert res.returncode == 0, res.stdout + res.stderr
    runs, problems = read(history_path(root, "PROC-RUNNER-005"))
    assert problems == [] and len(runs) == 1
    assert runs[0].get("environment") == "production"
    assert runs[0].get("approved_by") == "Luis"


# -- approvals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("approver,extra", [
    (getpass.getuser(), {}),                   # --approved-by $(whoami)
    ("TESTER", {}),                            # the recorded executor (PROCC_EXECUTOR=tester), other case
    ("Alice", {"USER": "alice"}),
    ("bob", {"SUDO_USER": "bob"}),
])
def test_critical_procedure_is_not_approved_by_its_executor(tmp_path: Path, approver: str,
                                                            extra: dict[str, str]) -> None:
    root = project(tmp_path, "critical")
    inventory(root, "staging")
    res = procc(root, "run", "procedures/runner-critical.yml", "--env", "staging", "--approved-by", approver,
                "-e", _work(root), extra_env=extra)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "cannot be approved by the person running it" in res.stderr
    assert not history_path(root, "PROC-RUNNER-004").exists()
    assert not (root / "work" / "critical-ran").exists()


def test_yes_needs_a_terminal(tmp_path: Path) -> None:
    root = project(tmp_path, "critical")
    res = procc(root, "run", "procedures/runner-critical.yml", "--yes", "-e", _work(root))
    assert res.returncode == 2
    assert "--yes needs a terminal" in res.stderr
    assert not history_path(root, "PROC-RUNNER-004").exists()


# -- staging before production counts only what procc signed -------------------------------------

def _staging_records(version: str = "1.0.0", outcome: str = "success") -> list[dict[str, object]]:
    base = {"run_id": "20261129T000000Z-forged", "procedure": "PROC-RUNNER-004", "version": version,
            "environment": "staging", "executor": "mallory", "approved_by": "Ana", "drill": False,
            "check": False}
    return [{"schema": 1, "kind": "start", **base, "start": "2026-11-29T00:00:00Z"},
            {"schema": 1, "kind": "end", "run_id": base["run_id"], "outcome": outcome, "rc": 0,
             "end": "2026-11-29T00:01:00Z", "duration": 60}]


def _production(root: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    inventory(root, "production")
    return procc(root, "run", "procedures/runner-critical.yml", "--env", "production", "--approved-by", "Luis",
                 "-e", _work(root), extra_env=extra or None)


def test_hand_written_staging_record_does_not_count(tmp_path: Path) -> None:
    root = project(tmp_path, "critical")
    path = history_path(root, "PROC-RUNNER-004")
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in _staging_records()), encoding="utf-8")
    res = _production(root)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "no successful run or drill in staging" in res.stderr
    assert "1 staging record(s) in the history are not signed by procc" in res.stderr
    assert not (root / "work" / "critical-ran").exists()


def test_edited_signed_record_does_not_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.history import append

    root = project(tmp_path, "critical")
    path = history_path(root, "PROC-RUNNER-004")
    monkeypatch.setenv("PROCC_HISTORY_KEY", KEY)
    for rec in _staging_records(outcome="failed"):
        rec.pop("schema")
        append(path, rec)
    text = path.read_text(encoding="utf-8")
    assert '"outcome": "failed"' in text and '"sig": ' in text
    path.write_text(text.replace('"outcome": "failed"', '"outcome": "success"'), encoding="utf-8")
    res = _production(root)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "not signed by procc" in res.stderr


@pytest.mark.slow
@pytest.mark.ansible
def test_signed_staging_run_counts_only_under_the_same_key(tmp_path: Path) -> None:
    root = project(tmp_path, "critical")
    inventory(root, "staging")
    staging = procc(root, "run", "procedures/runner-critical.yml", "--env", "staging", "--approved-by", "Ana",
                    "-e", _work(root))
    assert staging.returncode == 0, staging.stdout + staging.stderr
    (root / "work" / "critical-ran").unlink()
    other_key = _production(root, PROCC_HISTORY_KEY="another-key-" + "9" * 40)
    assert other_key.returncode == 2
    assert "not signed by procc" in other_key.stderr
    prod = _production(root)
    assert prod.returncode == 0, prod.stdout + prod.stderr
    runs, _ = read(history_path(root, "PROC-RUNNER-004"))
    assert [r.get("environment") for r in runs] == ["staging", "production"]


def test_per_user_key_is_created_private_outside_the_repository(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.history import append
    from compiler.history.trust import key_file

    monkeypatch.delenv("PROCC_HISTORY_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    root = project(tmp_path, "critical")
    append(history_path(root, "PROC-RUNNER-004"), {"kind": "start", "run_id": "r1"})
    kf = key_file()
    assert kf.is_file() and not kf.is_relative_to(root)
    assert stat.S_IMODE(kf.stat().st_mode) == 0o600
    # A key others can read is refused, before anything runs.
    os.chmod(kf, 0o644)
    inventory(root, "staging")
    res = procc(root, "run", "procedures/runner-critical.yml", "--env", "staging", "--approved-by", "Ana",
                "-e", _work(root), extra_env={"PROCC_HISTORY_KEY": ""})
    assert res.returncode == 1, res.stdout + res.stderr
    assert "must be yours and mode 0600" in res.stderr
    assert not (root / "work" / "critical-ran").exists()


def _critical() -> object:
    from tests.security.support import source

    return parse_text(source("steps:\n  - title: Paso\n    minutes: 1\n    run: 'true'\n    irreversible: x\n")
                      .replace("criticality: low", "criticality: critical"))


def test_yes_cannot_approve_a_critical_procedure_even_on_a_terminal() -> None:
    from compiler.gates import GateError, approve

    with pytest.raises(GateError, match="--yes cannot approve it"):
        approve(_critical(), None, None, True, True, lambda _: "", "ana", {"ana"})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["Eve\nforged line", "Eve\x1b[2J", "x" * 201, "  "])
def test_an_approver_name_is_one_printable_line(name: str) -> None:
    from compiler.gates import GateError, approve

    with pytest.raises(GateError, match=r"--approved-by (needs a name|must be a printable name)"):
        approve(_critical(), None, name, False, False, lambda _: "", "ana", {"ana"})  # type: ignore[arg-type]
