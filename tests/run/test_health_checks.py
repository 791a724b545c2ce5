"""Health checks against real services: an HTTPS server with its own CA, a TCP port, a command.

The CA and the server certificate are made with openssl at test time; the
server (python http.server + ssl, in a thread) checks the bearer token and
the POSTed body itself, so a pass means the request really carried them.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from compiler.history import history_path, read
from tests.run.helpers import procc, project
from tests.support.webhook import send_json

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

TOKEN = "tok-Hq7Zr2-never-shown"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(d: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for localhost/127.0.0.1 it signs: (ca.pem, server.pem, server.key)."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=procc test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=localhost", cwd=d)
    (d / "ext.cnf").write_text("basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
                               "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                               "authorityKeyIdentifier=keyid,issuer\nsubjectKeyIdentifier=hash\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    return d / "ca.pem", d / "server.pem", d / "server.key"


@dataclass
class Seen:
    """What the server received: one entry per request."""

    requests: list[dict[str, object]] = field(default_factory=list)


def _handler(seen: Seen) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            seen.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                  "body": raw.decode("utf-8", "replace")})
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._json(401, {"status": "unauthorized"})
            if self.path == "/slow":
                time.sleep(6)
            if self.command == "POST":
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._json(400, {"status": "bad body"})
                if not isinstance(body, dict) or body.get("probe") != "hola":
                    return self._json(400, {"status": "bad probe"})
            status = "down" if self.path == "/down" else "ok"
            self._json(200, {"status": status, "checks": {"db": "up"}})

        do_GET = do_POST = _answer

        def _json(self, code: int, doc: dict[str, object]) -> None:
            send_json(self, code, doc)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@dataclass
class Https:
    port: int
    ca: Path
    seen: Seen


@pytest.fixture
def https(tmp_path: Path) -> Iterator[Https]:
    certs = tmp_path / "certs"
    certs.mkdir()
    ca, cert, key = make_certs(certs)
    seen = Seen()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(seen))
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Https(server.server_address[1], ca, seen)
    finally:
        server.shutdown()
        server.server_close()


def _run(root: Path, proc: str, *params: str) -> subprocess.CompletedProcess[str]:
    args = ["run", proc, "-e", f"workdir={root / 'work'}"]
    for p in params:
        args += ["-e", p]
    return procc(root, *args, extra_env={"PROCC_TEST_API_TOKEN": TOKEN})


def _leaks(root: Path, *outputs: subprocess.CompletedProcess[str]) -> list[str]:
    """Every file procc wrote (runbooks, playbooks, history, artifacts) or output holding the token."""
    found = [str(p) for p in root.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    return found + [f"output {i}" for i, res in enumerate(outputs) if TOKEN in res.stdout + res.stderr]


def _last(root: Path, proc: str) -> tuple[str, str]:
    """The outcome of the last recorded run, and its end record as text."""
    runs, _ = read(history_path(root, proc))
    return runs[-1].outcome, json.dumps(runs[-1].end)


def test_https_with_internal_ca_token_body_and_json(tmp_path: Path, https: Https) -> None:
    root = project(tmp_path, "PROC-TEST-130")
    res = _run(root, "PROC-TEST-130", f"health_port={https.port}", f"ca_file={https.ca}")
    assert res.returncode == 0, res.stdout + res.stderr
    posts = [r for r in https.seen.requests if r["path"] == "/health"]
    assert len(posts) == 1
    req = posts[0]
    assert req["method"] == "POST"
    headers = req["headers"]
    assert isinstance(headers, dict)
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    # A hostile header value and body text arrive as they were written: never templated, never run.
    assert headers["X-Procc-Check"] == "{% raw %}{{ x $(id) `id` ' \\ end"
    assert json.loads(str(req["body"])) == {"probe": "hola", "note": "{% if true %}$(id){% endif %}"}
    assert (root / "work" / "changed").exists()
    assert procc(root, "compile", "-q").returncode == 0
    assert _leaks(root, res) == []


def test_json_field_mismatch_fails_and_rolls_back(tmp_path: Path, https: Https) -> None:
    root = project(tmp_path, "PROC-TEST-130")
    res = _run(root, "PROC-TEST-130", f"health_port={https.port}", f"ca_file={https.ca}", "endpoint=down")
    assert res.returncode != 0
    assert [r["path"] for r in https.seen.requests] == ["/down"]
    outcome, record = _last(root, "PROC-TEST-130")
    assert outcome != "success"
    assert "JSON checks.db" in record  # what was expected
    # The full rollback ran: the step's change is gone.
    assert not (root / "work" / "changed").exists()
    assert _leaks(root, res) == []


def test_timeout_fails(tmp_path: Path, https: Https) -> None:
    root = project(tmp_path, "PROC-TEST-130")
    res = _run(root, "PROC-TEST-130", f"health_port={https.port}", f"ca_file={https.ca}", "endpoint=slow")
    assert res.returncode != 0
    outcome, record = _last(root, "PROC-TEST-130")
    assert outcome != "success"
    assert "timed out" in record, record


def test_without_the_ca_the_certificate_is_refused(tmp_path: Path, https: Https) -> None:
    root = project(tmp_path, "PROC-TEST-131")
    res = _run(root, "PROC-TEST-131", f"health_port={https.port}")
    assert res.returncode != 0
    # The summary says why.
    assert "CERTIFICATE_VERIFY_FAILED" in res.stdout + res.stderr
    outcome, record = _last(root, "PROC-TEST-131")
    assert outcome != "success"
    assert "CERTIFICATE_VERIFY_FAILED" in record
    assert https.seen.requests == []  # the handshake failed: no request reached the handler


def test_validate_certs_false_connects_without_the_ca(tmp_path: Path, https: Https) -> None:
    root = project(tmp_path, "PROC-TEST-132")
    res = _run(root, "PROC-TEST-132", f"health_port={https.port}")
    assert res.returncode == 0, res.stdout + res.stderr
    assert [r["path"] for r in https.seen.requests] == ["/health"]
    assert _leaks(root, res) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tcp_and_command_checks(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-133")
    state = tmp_path / "state"
    state.write_text("ready\n")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        res = _run(root, "PROC-TEST-133", f"tcp_port={port}", f"state_file={state}")
        assert res.returncode == 0, res.stdout + res.stderr
        # The command check fails when its output lacks the word.
        state.write_text("starting\n")
        res = _run(root, "PROC-TEST-133", f"tcp_port={port}", f"state_file={state}")
        assert res.returncode != 0
        assert "Estado del servicio" in _last(root, "PROC-TEST-133")[1]
    # Nothing listens any more: the TCP check fails.
    state.write_text("ready\n")
    res = _run(root, "PROC-TEST-133", f"tcp_port={_free_port()}", f"state_file={state}")
    assert res.returncode != 0
    assert "Puerto del servicio" in _last(root, "PROC-TEST-133")[1]
