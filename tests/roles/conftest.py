"""Fixtures for the role tests: one real PostgreSQL per session (helpers live in tests/support)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.postgres import PgServer, running_postgres


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """A real PostgreSQL cluster (scripts/postgres.sh), started once per session."""
    with running_postgres() as server:
        yield server
