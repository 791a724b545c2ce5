"""Shared by the catalog tests of PROC-BACKEND-008..010: the edge service, ``procc run`` in a
throw-away project (history recorded), on-disk state and leak checks.

The runs go through the CLI, not ``execute()``, so that what an operator gets
(the history record, the artifacts, the printed summary) is what the tests
search for secrets.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from compiler.history import history_path, read
from tests.conftest import ROOT
from tests.run.helpers import procc
from tests.support.demo import free_port

EDGE = ROOT / "tests" / "support" / "edge.py"


@dataclass
class Edge:
    """A running procc-edge instance (tests/support/edge.py) in a temporary directory."""

    dir: Path
    port: int

    def ctl(self, action: str) -> str:
        proc = subprocess.run([str(self.dir / "bin" / "edge"), action], capture_output=True, text=True,
                              check=False, timeout=60)
        return proc.stdout + proc.stderr

    def served_fingerprint(self) -> str:
        """sha256 of the certificate the service presents, verified against its CA."""
        ctx = ssl.create_default_context(cafile=str(self.dir / "tls" / "ca.pem"))
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw, \
                ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        return hashlib.sha256(der).hexdigest()

    def file_fingerprint(self) -> str:
        """sha256 of tls/server.crt (DER), comparable with served_fingerprint()."""
        pem = (self.dir / "tls" / "server.crt").read_text(encoding="ascii")
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()

    def get(self, path: str) -> str:
        ctx = ssl.create_default_context(cafile=str(self.dir / "tls" / "ca.pem"))
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw, \
                ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
        return data.decode().split("\r\n\r\n", 1)[1]


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[Edge]:
    """A fresh edge service (own CA, a certificate with 20 days left, every flag false), started."""
    e = Edge(tmp_path / "edge", free_port())
    subprocess.run([sys.executable, str(EDGE), "install", str(e.dir), str(e.port)], check=True, timeout=60)
    try:
        assert "started" in e.ctl("start")
        yield e
    finally:
        e.ctl("stop")


def project_with(tmp_path: Path, proc_id: str) -> Path:
    """A project root holding only procedures/<proc_id>-*.yml of the catalog."""
    root = tmp_path / "proj"
    (root / "procedures").mkdir(parents=True)
    (src,) = (ROOT / "procedures").glob(f"{proc_id}-*.yml")
    shutil.copy(src, root / "procedures" / src.name)
    return root


def run(root: Path, proc_id: str, params: dict[str, str], fail_at: int | None = None,
        extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``procc run`` in ``root`` on localhost, recorded in the project's history."""
    args = ["run", proc_id, "--plain"]
    for name, value in params.items():
        args += ["-e", f"{name}={value}"]
    if fail_at is not None:
        args += ["--fail-at", str(fail_at)]
    # The roles by FQCN (procc.ops.notify) from this checkout, as from the repository root.
    env = {"ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"), **(extra_env or {})}
    return procc(root, *args, extra_env=env, timeout=600)


def last_outcome(root: Path, proc_id: str) -> str:
    runs, _ = read(history_path(root, proc_id))
    return runs[-1].outcome


def state(d: Path, skip: tuple[str, ...] = ("log", "run")) -> dict[str, tuple[int, str]]:
    """Every path under d: its mode and content checksum (or link target), log/ and run/ left out."""
    out: dict[str, tuple[int, str]] = {}
    for p in sorted(d.rglob("*")):
        rel = p.relative_to(d)
        if rel.parts[0] in skip or "__pycache__" in rel.parts:
            continue
        st = p.lstat()
        body = os.readlink(p) if p.is_symlink() else (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
        out[str(rel)] = (st.st_mode, body)
    return out


def leaks(secret: str, *places: Path, outputs: tuple[subprocess.CompletedProcess[str], ...] = ()) -> list[str]:
    """Every file under ``places`` or output that holds ``secret``."""
    found = [str(p) for d in places for p in d.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    return found + [f"output {i}" for i, res in enumerate(outputs) if secret in res.stdout + res.stderr]
