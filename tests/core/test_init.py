"""``procc init``: a new project that compiles, checks, lints and runs at once, and never overwrites."""

from __future__ import annotations

import configparser
import os
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN

PROC = "PROC-APP-001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return int(resp.status), resp.read().decode()


def procc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "procc"), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "NO_COLOR": "1"})


@pytest.mark.slow  # four procc processes, one of them the full lint
def test_a_new_project_compiles_checks_and_lints_clean(tmp_path: Path) -> None:
    res = procc(tmp_path, "init", "svc")
    assert res.returncode == 0, res.stderr
    root = tmp_path / "svc"
    for rel in ("procedures/PROC-APP-001-publish-release.yml", "inventories/local/hosts.yml",
                "inventories/staging/group_vars/app.yml", "inventories/production/hosts.yml",
                "ansible.cfg", "requirements.yml", ".pre-commit-config.yaml", ".gitignore",
                "docs/backend/procedures/plantilla-procedimiento-backend.md",
                "docs/backend/procedures/README.md", "docs/procedure.schema.json"):
        assert (root / rel).is_file(), rel
        assert f"created svc/{rel}" in res.stdout
    cfg = configparser.ConfigParser()
    cfg.read(root / "ansible.cfg")
    assert cfg["defaults"]["inventory"] == "inventories/local"
    # The collection whose roles procedures name short (role: health -> procc.ops.health).
    assert yaml.safe_load((root / "requirements.yml").read_text()) == {
        "collections": [{"name": "procc.ops", "version": ">=0.1.0"}], "roles": []}
    hooks = yaml.safe_load((root / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert [h["entry"] for h in hooks] == ["procc check", "procc lint --strict"]
    assert procc(root, "check").returncode == 1  # nothing compiled yet
    res = procc(root, "compile")
    assert res.returncode == 0, res.stderr
    assert (root / "playbooks" / "PROC-APP-001-publish-release.yml").is_file()
    res = procc(root, "check")
    assert res.returncode == 0, res.stderr
    res = procc(root, "lint", "--strict")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 error(s), 0 warning(s)" in res.stdout


def test_init_never_overwrites_and_writes_nothing_on_a_clash(tmp_path: Path) -> None:
    (tmp_path / "ansible.cfg").write_text("[defaults]\nmine = yes\n")
    res = procc(tmp_path, "init")
    assert res.returncode == 2
    assert "already has ansible.cfg" in res.stderr and "nothing was written" in res.stderr
    assert (tmp_path / "ansible.cfg").read_text() == "[defaults]\nmine = yes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ansible.cfg"]


@pytest.mark.slow
@pytest.mark.ansible
def test_the_first_procedure_runs_drills_and_rolls_back(tmp_path: Path) -> None:
    assert procc(tmp_path, "init", "svc").returncode == 0
    root, site, port = tmp_path / "svc", tmp_path / "site", free_port()
    common = ["-e", f"base_dir={site}", "-e", f"http_port={port}", "--plain"]
    assert procc(root, "compile").returncode == 0
    try:
        res = procc(root, "run", PROC, *common)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "SUCCESS" in res.stdout
        assert http_get(f"http://127.0.0.1:{port}/version") == (200, "v1\n")
        # A drill of the last step of release v2: everything it did is undone.
        res = procc(root, "run", PROC, *common, "-e", "release=v2", "--fail-at", "3")
        assert res.returncode == 0, res.stdout + res.stderr
        assert "DRILL PASSED" in res.stdout and "rollbacks executed: 3, 2, 1" in res.stdout
        assert os.readlink(site / "current") == "releases/v1"
        assert sorted(p.name for p in (site / "releases").iterdir()) == ["v1"]
        assert http_get(f"http://127.0.0.1:{port}/version") == (200, "v1\n")
        # The shipped local inventory works too (-e still beats its group_vars).
        res = procc(root, "run", PROC, "--env", "local", *common, "-e", "release=v3")
        assert res.returncode == 0, res.stdout + res.stderr
        assert http_get(f"http://127.0.0.1:{port}/version") == (200, "v3\n")
        assert "runbook updated with this run" in res.stdout
        runbook = (root / "docs/backend/procedures/PROC-APP-001-publish-release.md").read_text()
        assert "**Tasa de Exito:** 100% (basado en ultimas 2 ejecuciones)" in runbook
    finally:
        pid = (site / "server.pid").read_text().strip() if (site / "server.pid").exists() else ""
        if pid:
            os.kill(int(pid), signal.SIGTERM)
