"""A real PostgreSQL for tests, started and stopped through scripts/postgres.sh.

The cluster lives in a fresh directory under /tmp (every parent must be
searchable by the unprivileged server user when the tests run as root), on a
free port. Helpers run SQL through ``psql`` and checksum every table, so a
test can prove a restore left the data byte-identical in content.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "postgres.sh"


@dataclass(frozen=True)
class PgServer:
    """Connection facts of a running test cluster."""

    dir: Path
    host: str
    port: int
    user: str
    dbname: str

    @property
    def env(self) -> dict[str, str]:
        """libpq environment variables for the demo database."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": self.dbname,
        }

    def psql(self, sql: str, dbname: str | None = None) -> str:
        """Run SQL (stop at the first error) and return the unaligned, tuples-only output."""
        env = {**os.environ, **self.env, "PGDATABASE": dbname or self.dbname}
        proc = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"psql failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout.strip()

    def create_database(self, name: str) -> None:
        """Create an empty database owned by the demo user (dropping a previous one)."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', dbname="postgres")
        self.psql(f'CREATE DATABASE "{name}"', dbname="postgres")

    def table_checksums(self, dbname: str | None = None) -> dict[str, str]:
        """md5 of every table's rows (sorted text form), by schema-qualified name."""
        tables = self.psql(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
            dbname=dbname,
        ).splitlines()
        sums: dict[str, str] = {}
        for table in tables:
            sums[table] = self.psql(
                f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {table} AS t",
                dbname=dbname,
            )
        return sums


def _parse_exports(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("export "):
            for pair in line[len("export ") :].split():
                key, _, value = pair.partition("=")
                values[key] = value
    return values


def _script(*args: str) -> str:
    proc = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"postgres.sh {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


@contextmanager
def running_postgres() -> Iterator[PgServer]:
    """Start a fresh cluster in a temporary directory; stop and remove it afterwards."""
    if shutil.which("psql") is None:
        raise RuntimeError("psql not found: run scripts/system-deps.sh")
    base = Path(tempfile.mkdtemp(prefix="procc-pg-"))
    try:
        values = _parse_exports(_script("start", str(base)))
        yield PgServer(
            dir=base,
            host=values["PGHOST"],
            port=int(values["PGPORT"]),
            user=values["PGUSER"],
            dbname=values["PGDATABASE"],
        )
    finally:
        try:
            _script("stop", str(base))
        finally:
            shutil.rmtree(base, ignore_errors=True)
