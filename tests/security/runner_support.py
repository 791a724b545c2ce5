"""Helpers for the runner, gate and lock security tests: a throw-away project, procc, greps."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

BIN = Path(sys.executable).parent
PROCC = str(BIN / "procc")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
KEY = "test-history-key-0123456789abcdef-0123456789abcdef"


def project(tmp: Path, *names: str) -> Path:
    """A project in ``tmp/proj`` with the named ``fixtures/runner-NAME.yml`` and the fixture roles."""
    root = tmp / "proj"
    (root / "procedures").mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / f"runner-{name}.yml", root / "procedures" / f"runner-{name}.yml")
    shutil.copytree(FIXTURES / "roles", root / "roles", dirs_exist_ok=True)
    (root / "work").mkdir(exist_ok=True)
    return root


def env(tmp: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no PROCC_* from outside, the history key and config dir in ``tmp``."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("PROCC_", "ANSIBLE_"))}
    e.update({"PROCC_EXECUTOR": "tester", "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
              "PROCC_HISTORY_KEY": KEY, "XDG_CONFIG_HOME": str(tmp / "config")})
    e.update(extra)
    return {k: v for k, v in e.items() if v is not None}


def procc(root: Path, *args: str, extra_env: dict[str, str] | None = None,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """procc in ``root``, stdin not a terminal."""
    return subprocess.run([PROCC, *args], cwd=root, env=env(root.parent, **(extra_env or {})), text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def start(root: Path, *args: str, out: Path) -> subprocess.Popen[bytes]:
    """procc in the background, output to ``out``."""
    with out.open("wb") as fh:
        return subprocess.Popen([PROCC, *args], cwd=root, env=env(root.parent), stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def inventory(root: Path, name: str) -> Path:
    """``inventories/<name>/hosts``: localhost with the local connection."""
    d = root / "inventories" / name
    d.mkdir(parents=True, exist_ok=True)
    hosts = d / "hosts"
    hosts.write_text(
        f"[all]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n",
        encoding="utf-8")
    return hosts


def forms(value: str) -> list[str]:
    """The value and its URL-quoted spellings (what a grep must not find)."""
    return sorted({value, quote(value, safe=""), quote(value), quote_plus(value)})


def grep(value: str, *dirs: Path) -> list[str]:
    """``grep -rlF`` of every spelling of ``value`` under ``dirs``: the files that hold it."""
    args = ["grep", "-rlF", "-D", "skip"]
    for f in forms(value):
        args += ["-e", f]
    res = subprocess.run([*args, *map(str, dirs)], capture_output=True, text=True, check=False)
    assert res.returncode in (0, 1), res.stderr
    return res.stdout.split()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@contextmanager
def web_server() -> Iterator[tuple[int, list[str]]]:
    """A local HTTP server answering 200 to everything; yields (port, requested paths)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # no log files, no stderr
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()
