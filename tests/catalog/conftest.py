"""Fixtures for the catalog tests: one real PostgreSQL and one demo backend v1 per session.

The demo backend is installed with its own role (through ansible-runner) in a
temporary directory, on a free port, against a database of its own in the
session's PostgreSQL. Each test starts from the same clean state: release v1
active and serving, no release bookkeeping, and (for the database tests) the
seed schema. Every demo backend process is stopped at teardown.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.demo import free_port, http_get, stop_demo
from support.playbooks import dump, run_play

from compiler.parse import parse_file
from compiler.runner import RunRequest, RunResult, execute
from tests.conftest import ROOT
from tests.support.postgres import PgServer

SCHEMA = ROOT / "roles" / "demo_backend" / "files" / "schema.sql"
DB = "catalog"


@dataclass
class Demo:
    """The session's demo backend and its database."""

    base: Path
    port: int
    pg: PgServer
    work: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> tuple[int, str]:
        status, body = http_get(self.url(path))
        return status, body.strip()

    @property
    def params(self) -> dict[str, str]:
        """The parameters every catalog procedure takes for this instance."""
        return {
            "base_dir": str(self.base),
            "service_port": str(self.port),
            "db_host": self.pg.host,
            "db_port": str(self.pg.port),
            "db_user": self.pg.user,
            "db_name": DB,
        }

    def service(self, action: str) -> str:
        proc = subprocess.run([str(self.base / "bin" / "demo-backend"), action],
                              capture_output=True, text=True, check=False, timeout=60)
        return proc.stdout + proc.stderr

    def reset(self) -> None:
        """Release v1 active and serving, nothing else installed, no bookkeeping files."""
        current = self.base / "current"
        changed = current.resolve().name != "v1"
        if changed:
            current.unlink()
            current.symlink_to("releases/v1")
        for rel in (self.base / "releases").iterdir():
            if rel.name != "v1":
                shutil.rmtree(rel)
        for name in ("previous-release", "previous-release.bak", "retired-release", "upstreams"):
            (self.base / "etc" / name).unlink(missing_ok=True)
        self.service("restart" if changed else "start")

    def reset_db(self) -> None:
        """The seed schema and rows only (the demo backend reconnects per request)."""
        self.pg.create_database(DB)
        self.pg.psql(SCHEMA.read_text(encoding="utf-8"), dbname=DB)

    def checksums(self) -> dict[str, str]:
        return self.pg.table_checksums(DB)


@pytest.fixture(scope="session")
def demo_session(pg: PgServer) -> Iterator[Demo]:
    work = Path(tempfile.mkdtemp(prefix="procc-catalog-"))
    demo = Demo(base=work / "demo", port=free_port(), pg=pg, work=work)
    try:
        demo.reset_db()
        role_vars = {"demo_backend_" + k: v for k, v in {
            "base_dir": str(demo.base), "port": demo.port, "release": "v1",
            "db_host": pg.host, "db_port": pg.port, "db_user": pg.user, "db_name": DB}.items()}
        res = run_play(work / "setup", [{"name": "Demo backend v1",
                                         "ansible.builtin.include_role": {"name": "demo_backend"}}],
                       play_vars=role_vars)
        assert res.ok, dump(res)
        yield demo
    finally:
        stop_demo(demo.base)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def demo(demo_session: Demo) -> Demo:
    """The demo backend, reset to release v1 serving, and its database to the seed rows."""
    demo_session.reset_db()
    demo_session.reset()
    return demo_session


def backup_demo_db(demo: Demo, tmp_path: Path) -> Path:
    """A backup of the demo database made with the backup role (what PROC-BACKEND-007 restores)."""
    root = tmp_path / "backups"
    res = run_play(tmp_path / "backup-play", [{"name": "Backup", "ansible.builtin.include_role": {"name": "backup"}}],
                   play_vars={"backup_root": str(root), "backup_label": "nightly", "backup_db_name": DB,
                              "backup_db_host": demo.pg.host, "backup_db_port": str(demo.pg.port),
                              "backup_db_user": demo.pg.user})
    assert res.ok, dump(res)
    return root


def source_of(proc_id: str) -> Path:
    """procedures/<proc_id>-*.yml"""
    found = sorted((ROOT / "procedures").glob(f"{proc_id}-*.yml"))
    assert len(found) == 1, found
    return found[0]


def run_procedure(proc_id: str, tmp_path: Path, params: dict[str, str], fail_at: int | None = None) -> RunResult:
    """Execute a catalog procedure through ansible-runner on localhost."""
    path = source_of(proc_id)
    req = RunRequest(source=parse_file(path, f"procedures/{path.name}"), root=ROOT, params=params,
                     fail_at=fail_at, runs_dir=tmp_path / "runs")
    return execute(req)


def explain(res: RunResult) -> str:
    """A failure message with the summary and the tail of the run's stdout."""
    out = ""
    for path in sorted(res.data_dir.glob("artifacts/*/stdout")):
        out = path.read_text(encoding="utf-8", errors="replace")[-5000:]
    return f"rc={res.rc} status={res.status} summary={res.summary}\nfailed={res.failed_tasks}\n{out}"
