"""What users install: the sdist and the wheel built from it, in a fresh venv outside the checkout.

The editable install of the dev venv hides missing package data (it reads
the checkout); these tests build from a clean copy, install the wheel alone
into a new venv and run every command from it in a new project.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist and wheel, the wheel built from the sdist (so the sdist is complete), from a clean copy."""
    tmp = tmp_path_factory.mktemp("dist")
    src = tmp / "src"
    # A build/ or egg-info left in the checkout would hide missing files.
    anywhere = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*_cache")

    def ignore(where: str, names: list[str]) -> set[str]:
        # collections/ holds the link that makes the root its own collection (ansible.cfg): not package data.
        top = ({".git", ".venv", ".procc", "build", "dist", "tests", "docs", "collections", "mutants"}
               if Path(where) == ROOT else set())
        return set(anywhere(where, names)) | (top & set(names))

    # symlinks=True: a link is copied as a link, never followed (a link back up would never end).
    shutil.copytree(ROOT, src, ignore=ignore, symlinks=True)
    subprocess.run([sys.executable, "-m", "build", "-o", str(tmp / "dist"), str(src)],
                   check=True, capture_output=True, timeout=600)
    return tmp / "dist"


def _data_files() -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / "compiler").rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}


def test_sdist_and_wheel_hold_every_data_file_of_the_package(dist: Path) -> None:
    data = _data_files()
    assert any(d.startswith("compiler/templates/project/") for d in data)
    wheel = next(dist.glob(f"procedure_compiler-{VERSION}-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        assert data - set(zf.namelist()) == set()
    sdist = next(dist.glob(f"procedure_compiler-{VERSION}.tar.gz"))
    prefix = f"procedure_compiler-{VERSION}/"
    with tarfile.open(sdist) as tar:
        names = {n.removeprefix(prefix) for n in tar.getnames()}
    assert data - names == set()
    assert {"pyproject.toml", "README.md"} <= names


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv, outside the checkout, with only the wheel (and its dependencies) installed."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    wheel = next(dist.glob("*.whl"))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=900)
    yield venv / "bin"


def _procc(bindir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # No trace of the checkout or the dev venv: PATH has the new venv's bin only.
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "NO_COLOR": "1",
           "LANG": "C.UTF-8"}
    return subprocess.run([str(bindir / "procc"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.ansible
def test_every_command_works_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run([str(installed / "python"), "-c", "import compiler; print(compiler.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert str(installed.parent) in where and str(ROOT) not in where
    res = _procc(installed, tmp_path, "--version")
    assert res.stdout.strip() == f"procc {VERSION}"
    res = _procc(installed, tmp_path, "template")
    assert res.returncode == 0 and "## Proposito" in res.stdout, res.stderr
    assert _procc(installed, tmp_path, "schema").returncode == 0
    res = _procc(installed, tmp_path, "init", "svc")
    assert res.returncode == 0, res.stderr
    root = tmp_path / "svc"
    for argv in (["compile"], ["check"], ["lint", "--strict"], ["explain", "step-missing-validation"],
                 ["explain", "yaml-syntax"], ["history", "PROC-APP-001"],
                 # Commands whose templates and data files only the wheel can prove are shipped.
                 ["new", "maintenance", "Purgar la cache"], ["compile", "--quick"], ["check"],
                 ["molecule", "PROC-APP-001", "--out", "molecule/app"]):
        res = _procc(installed, root, *argv)
        assert res.returncode == 0, (argv, res.stdout, res.stderr)
        assert "internal error" not in res.stderr
    assert list((root / "procedures").glob("PROC-APP-002-*.yml")), "procc new wrote no source"
    assert (root / "docs" / "backend" / "procedures" / "quick").is_dir()
    assert (root / "molecule" / "app" / "molecule.yml").is_file()
    site = tmp_path / "site"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        res = _procc(installed, root, "run", "PROC-APP-001", "-e", f"base_dir={site}", "-e", f"http_port={port}",
                     "--plain")
        assert res.returncode == 0, res.stdout + res.stderr
        assert "SUCCESS" in res.stdout
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=10) as resp:
            assert resp.read() == b"v1\n"
        res = _procc(installed, root, "history", "PROC-APP-001")
        assert "success" in res.stdout
    finally:
        pid = site / "server.pid"
        if pid.exists():
            os.kill(int(pid.read_text().strip()), signal.SIGTERM)
