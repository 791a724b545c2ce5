"""Parallel compilation: the same files, the same messages in the same order as a serial compile.

Workers finish in any order; what procc prints and writes must not show it:
errors of every bad file in path order (``path:line:col: error: ...``),
then the same files written byte for byte.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler import build
from compiler.cli import main
from tests.conftest import FIXTURES, ROOT

BAD = ("bad-date.yml", "duplicate-key.yml", "bad-enum-type.yml")


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The catalog's good procedures and three bad ones between them, in path order."""
    procs = tmp_path / "procedures"
    procs.mkdir()
    for src in sorted((ROOT / "procedures").glob("*.yml")):
        shutil.copy(src, procs)
    for i, name in enumerate(BAD):
        shutil.copy(FIXTURES / "bad" / name, procs / f"PROC-BACKEND-00{i * 3}-zz-{name}")
    shutil.copytree(ROOT / "roles", tmp_path / "roles", ignore=shutil.ignore_patterns("molecule", "files"))
    shutil.copy(ROOT / "galaxy.yml", tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["compile", "--no-cache", *args])
    out, err = capsys.readouterr()
    return code, out, err


def files(where: Path) -> dict[str, bytes]:
    return {p.relative_to(where).as_posix(): p.read_bytes() for p in sorted(where.rglob("*")) if p.is_file()}


def test_parallel_compile_matches_the_serial_one(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    serial = run(capsys, "-j", "1", "--docs-dir", "s/docs", "--playbooks-dir", "s/pb")
    parallel = run(capsys, "-j", "2", "--docs-dir", "p/docs", "--playbooks-dir", "p/pb")
    assert serial[0] == parallel[0] == 1  # three sources do not compile
    assert parallel[1] == serial[1].replace("s/docs", "p/docs").replace("s/pb", "p/pb")
    assert parallel[2] == serial[2]
    assert files(catalog / "p") == files(catalog / "s")
    good = len(list((ROOT / "procedures").glob("*.yml")))
    assert len(files(catalog / "p")) == good * 2 + 1  # runbook and playbook of each good one, and the index
    # Every bad file reported, in path order, each message with its position.
    reported = [line.split(":")[0] for line in parallel[2].splitlines()]
    assert sorted(set(reported)) == sorted(f"procedures/{p.name}" for p in (catalog / "procedures").glob("*zz*"))
    assert reported == sorted(reported)
    assert all(line.split(":")[1].isdigit() and line.split(":")[2].isdigit() and ": error: " in line
               for line in parallel[2].splitlines())


def test_the_pool_returns_results_in_path_order(catalog: Path) -> None:
    sources = sorted((catalog / "procedures").glob("*.yml"))
    s = build.settings(catalog, catalog / "d", catalog / "p", "es", quick=False, write=False, cache=False)
    pooled = build._parallel(sources, s, 2)
    assert list(pooled) == sources
    serial = [build.build_one(f, s) for f in sources]
    assert list(pooled.values()) == serial
