"""Helpers for tests that drive the demo backend: ports, HTTP gets, role variables."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from support.postgres import PgServer


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """Status and body of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode("utf-8")


def demo_vars(base: Path, port: int, pg: PgServer, release: str = "v1") -> dict[str, object]:
    """Role variables of a demo backend instance under ``base`` on ``port``."""
    return {
        "demo_backend_base_dir": str(base),
        "demo_backend_port": port,
        "demo_backend_release": release,
        "demo_backend_python": sys.executable,
        "demo_backend_db_host": pg.host,
        "demo_backend_db_port": pg.port,
        "demo_backend_db_user": pg.user,
        "demo_backend_db_name": pg.dbname,
    }


def stop_demo(base: Path) -> None:
    """Stop a demo backend through its own service script (teardown)."""
    script = base / "bin" / "demo-backend"
    if script.exists():
        subprocess.run([str(script), "stop"], capture_output=True, check=False, timeout=30)
