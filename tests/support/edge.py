#!/usr/bin/env python3
"""procc-edge: a tiny HTTPS service with its own CA, for the catalog's TLS and feature-flag procedures.

Standalone (standard library + the openssl command), so Molecule's hosts
and the tests install it the same way::

    edge.py install DIR PORT    CA (DIR/ca), a certificate it signs (DIR/tls), flags, DIR/bin/edge
    DIR/bin/edge start|stop|restart|reload|status

Layout of DIR: ``etc/edge.env`` (PORT=...), ``etc/flags.env`` (name=true|false,
read at start: a flag change needs a restart), ``tls/server.crt``,
``tls/server.key``, ``tls/ca.pem`` (what clients trust), ``ca/ca.key`` (the
internal CA's key, what PROC-BACKEND-008 signs with), ``log/``, ``run/``.
``reload`` (SIGHUP) re-reads the certificate and key without dropping the
listening socket, as nginx does. Endpoints: ``/health`` and ``/flags``.
Only the flags in KNOWN_FLAGS exist: any other name in flags.env is logged
and ignored (a typo shows as a flag the service does not report).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

KNOWN_FLAGS = ("checkout_v2", "search_beta", "maintenance_banner")
SAN = "DNS:localhost,IP:127.0.0.1"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def read_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (comments and blank lines skipped)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def issue(d: Path, days: int) -> None:
    """A server key and certificate for localhost/127.0.0.1 in d/tls, signed by the CA in d/ca."""
    tls = d / "tls"
    (d / "ca" / "ext.cnf").write_text(
        f"basicConstraints=CA:FALSE\nsubjectAltName={SAN}\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n", encoding="utf-8")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tls / "server.key"), "-out", "server.csr",
             "-subj", "/CN=localhost", cwd=d / "ca")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", str(tls / "server.crt"), "-days", str(days), "-extfile", "ext.cnf", cwd=d / "ca")
    (d / "ca" / "server.csr").unlink()
    os.chmod(tls / "server.key", 0o600)
    os.chmod(tls / "server.crt", 0o644)


def install(d: Path, port: int) -> None:
    """A new instance in d (not started). Re-running keeps an existing CA, certificate and flags."""
    for sub in ("bin", "etc", "tls", "ca", "log", "run"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(d / "ca", 0o700)
    if not (d / "ca" / "ca.key").exists():
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                 "-days", "3650", "-subj", "/CN=procc-edge internal CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 cwd=d / "ca")
        shutil.copyfile(d / "ca" / "ca.pem", d / "tls" / "ca.pem")
    if not (d / "tls" / "server.crt").exists():
        issue(d, days=20)  # about to expire: what PROC-BACKEND-008 rotates
    (d / "etc" / "edge.env").write_text(f"PORT={port}\n", encoding="utf-8")
    flags = d / "etc" / "flags.env"
    if not flags.exists():
        flags.write_text("".join(f"{name}=false\n" for name in KNOWN_FLAGS), encoding="utf-8")
        os.chmod(flags, 0o644)
    script = d / "bin" / "edge"
    shutil.copyfile(Path(__file__), script)
    os.chmod(script, 0o755)


class EdgeServer(ThreadingHTTPServer):
    """TLS on each accepted connection with the current context: SIGHUP swaps it."""

    daemon_threads = True

    def __init__(self, d: Path, port: int) -> None:
        self.dir = d
        self.context = self.load()
        self.flags = self.read_flags()
        super().__init__(("127.0.0.1", port), Handler)

    def load(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.dir / "tls" / "server.crt", self.dir / "tls" / "server.key")
        return ctx

    def read_flags(self) -> dict[str, bool]:
        flags = {}
        for name, value in read_env(self.dir / "etc" / "flags.env").items():
            if name not in KNOWN_FLAGS:
                print(f"edge: unknown flag {name!r} ignored", flush=True)
            elif value not in ("true", "false"):
                print(f"edge: flag {name} has value {value!r}, not true/false: ignored", flush=True)
            else:
                flags[name] = value == "true"
        return flags

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        # The handshake happens in the handler's thread (first read), not in the accept loop.
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


class Handler(BaseHTTPRequestHandler):
    server: EdgeServer

    def do_GET(self) -> None:
        if self.path == "/health":
            doc: dict[str, object] = {"status": "ok"}
        elif self.path == "/flags":
            doc = {"flags": self.server.flags}
        else:
            self.send_error(404)
            return
        data = json.dumps(doc, sort_keys=True).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(d: Path) -> None:
    server = EdgeServer(d, int(read_env(d / "etc" / "edge.env")["PORT"]))

    def reload(_sig: int, _frame: object) -> None:
        try:
            server.context = server.load()
            print("edge: certificate reloaded", flush=True)
        except (OSError, ssl.SSLError) as exc:  # keep serving the old one, as nginx -s reload does
            print(f"edge: reload failed, old certificate kept: {exc}", flush=True)

    signal.signal(signal.SIGHUP, reload)
    signal.signal(signal.SIGTERM, lambda _s, _f: sys.exit(0))
    print(f"edge: listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


def _pid(d: Path) -> int | None:
    try:
        pid = int((d / "run" / "edge.pid").read_text(encoding="utf-8"))
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def start(d: Path) -> str:
    if _pid(d) is not None:
        return "edge: running"
    port = int(read_env(d / "etc" / "edge.env")["PORT"])
    with open(d / "log" / "edge.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "serve", str(d)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    (d / "run" / "edge.pid").write_text(str(proc.pid), encoding="utf-8")
    for _ in range(100):
        if proc.poll() is not None:
            raise SystemExit(f"edge: exited with {proc.returncode} (see {d}/log/edge.log)")
        if _listening(port):
            return "edge: started"
        time.sleep(0.1)
    raise SystemExit(f"edge: not listening on {port} after 10 s")


def stop(d: Path) -> str:
    pid = _pid(d)
    if pid is None:
        return "edge: stopped"
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if _pid(d) is None:
            break
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    (d / "run" / "edge.pid").unlink(missing_ok=True)
    return "edge: stopped"


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "install":
        install(Path(argv[1]).resolve(), int(argv[2]))
        return 0
    if len(argv) == 2 and argv[0] == "serve":
        serve(Path(argv[1]))
        return 0
    # bin/edge ACTION: the instance is the directory above bin/.
    d = Path(__file__).resolve().parent.parent
    if len(argv) == 2:  # edge.py ACTION DIR (from the repository)
        d = Path(argv[1]).resolve()
    if not argv or argv[0] not in ("start", "stop", "restart", "reload", "status"):
        print("usage: edge.py install DIR PORT | DIR/bin/edge start|stop|restart|reload|status", file=sys.stderr)
        return 2
    action = argv[0]
    if action == "status":
        pid = _pid(d)
        print(f"edge: running pid {pid}" if pid else "edge: stopped")
        return 0 if pid else 3
    if action == "reload":
        pid = _pid(d)
        if pid is None:
            print("edge: not running", file=sys.stderr)
            return 1
        os.kill(pid, signal.SIGHUP)
        print("edge: reloaded")
        return 0
    if action in ("stop", "restart"):
        print(stop(d))
    if action in ("start", "restart"):
        print(start(d))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
