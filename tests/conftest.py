"""Shared test helpers: the repository root, procc in-process, compiled fixtures, a real PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.postgres import PgServer, running_postgres

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FOUR_STEPS = FIXTURES / "procedures" / "PROC-TEST-001-four-steps.yml"
BIN = Path(sys.executable).parent


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def procc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Run ``procc`` in-process from the repository root; returns a Result."""
    from compiler.cli import main

    monkeypatch.chdir(ROOT)

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """A real PostgreSQL cluster (scripts/postgres.sh), started once per session."""
    with running_postgres() as server:
        yield server
