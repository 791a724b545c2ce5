"""No hosts is an error: a missing inventory, an unmatched --limit or hosts pattern exit 2, never a success.

A missing inventory is refused before anything runs or is recorded; an
unmatched pattern or --limit is found by ansible-playbook (the
``playbook_on_no_hosts_matched`` event, its "no hosts to target" error) and
recorded as ``no-hosts``, which the runbook's statistics never count.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from compiler.history import history_path, read
from tests.run.helpers import procc, project

WEB = f"[web]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"


def _runbook(root: Path) -> str:
    res = procc(root, "compile", "-q")
    assert res.returncode == 0, res.stderr
    return next((root / "docs" / "backend" / "procedures").glob("PROC-TEST-001*.md")).read_text(encoding="utf-8")


def _last_run(md: str) -> str:
    return next(line for line in md.splitlines() if line.startswith("**Ultima Ejecucion:**"))


def test_a_missing_inventory_is_refused_before_anything_runs(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-001")
    missing = tmp_path / "nonexistent.ini"
    res = procc(root, "run", "PROC-TEST-001", "-i", str(missing), "-e", f"workdir={root / 'work'}")
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"procc: no hosts matched 'all' in {missing}: the inventory does not exist" in res.stderr
    assert "SUCCESS" not in res.stdout
    assert not history_path(root, "PROC-TEST-001").exists()
    assert not (root / ".procc" / "runs").exists()
    res = procc(root, "run", "PROC-TEST-001", "-i", str(missing), "--limit", "web1",
                "-e", f"workdir={root / 'work'}")
    assert res.returncode == 2 and f"no hosts matched 'web1' in {missing}" in res.stderr
    assert _last_run(_runbook(root)) == "**Ultima Ejecucion:** Sin ejecuciones registradas"


@pytest.mark.slow
@pytest.mark.ansible
def test_an_unmatched_limit_or_hosts_pattern_exits_2_and_is_never_a_success(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-001")
    work = root / "work"
    inv = tmp_path / "hosts.ini"
    inv.write_text(WEB, encoding="utf-8")
    # --limit matching no host of the inventory: ansible-playbook's own error.
    res = procc(root, "run", "PROC-TEST-001", "-i", str(inv), "--limit", "nosuchhost", "-e", f"workdir={work}")
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"procc: no hosts matched 'nosuchhost' in {inv}" in res.stderr
    assert "SUCCESS" not in res.stdout and "NO HOSTS MATCHED" in res.stdout
    # A hosts pattern matching no host (the play is skipped, ansible-playbook exits 0).
    src = next((root / "procedures").glob("PROC-TEST-001*.yml"))
    src.write_text(src.read_text(encoding="utf-8").replace("\nhosts: all\n", "\nhosts: backend\n"),
                   encoding="utf-8")
    res = procc(root, "run", "PROC-TEST-001", "-i", str(inv), "-e", f"workdir={work}")
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"procc: no hosts matched 'backend' in {inv}" in res.stderr
    # Within a --limit that does match: named as Ansible's intersection.
    res = procc(root, "run", "PROC-TEST-001", "-i", str(inv), "--limit", "localhost", "-e", f"workdir={work}")
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"procc: no hosts matched 'backend:&localhost' in {inv}" in res.stderr
    assert not (work / "ran.log").exists()  # nothing ran

    runs, problems = read(history_path(root, "PROC-TEST-001"))
    assert problems == [] and len(runs) == 3
    assert [r.outcome for r in runs] == ["no-hosts"] * 3
    assert not any(r.succeeded for r in runs)
    md = _runbook(root)
    assert _last_run(md) == "**Ultima Ejecucion:** Sin ejecuciones registradas"
    assert "Ejecuciones Totales:**" not in md
    assert "**Tasa de Exito:** Sin ejecuciones registradas" in md


def test_a_run_that_matched_no_host_has_nothing_to_roll_back(tmp_path: Path) -> None:
    import json

    root = project(tmp_path, "PROC-TEST-001")
    hist = history_path(root, "PROC-TEST-001")
    hist.parent.mkdir(parents=True)
    rid = "20260101T000000Z-abcdef"
    hist.write_text(json.dumps({"kind": "start", "run_id": rid, "start": "2026-01-01T00:00:00Z"}) + "\n"
                    + json.dumps({"kind": "end", "run_id": rid, "outcome": "no-hosts", "started": []}) + "\n",
                    encoding="utf-8")
    res = procc(root, "rollback", "PROC-TEST-001", "--run", rid, "-e", f"workdir={root / 'work'}")
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"procc: run {rid} started no step: nothing to roll back" in res.stderr
    assert not (root / ".procc" / "runs").exists()
