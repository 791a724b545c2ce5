"""procc demo backend: a tiny HTTP service that reads from PostgreSQL.

Standard library only; the database is reached through the ``psql`` client,
configured by the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE,
PGPASSWORD). The release name is the content of the VERSION file next to this
script, so every release directory (``releases/<name>``) answers for itself.

Endpoints:
  /health   200 {"status": "ok"} when ``SELECT 1`` succeeds, 503 otherwise
  /version  the release name, as plain text
  /items    {"items": N} from ``SELECT count(*) FROM items`` (500 when it fails)
  /metrics  Prometheus text format: requests, errors (5xx), latency histogram
  /fail     always 500: fault injection for drills and threshold tests
  /sleep    ?seconds=S (max 5): a slow request, for latency thresholds

Usage: demo_backend.py [--host 127.0.0.1] [--port 8080]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
PSQL = os.environ.get("DEMO_BACKEND_PSQL", "psql")
PREFIX = "demo_backend"


def release() -> str:
    """The release this process runs: the VERSION file next to the script."""
    try:
        return (HERE / "VERSION").read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


RELEASE = release()


def query(sql: str, timeout: float = 3.0) -> str:
    """Run one SQL statement through psql and return its unaligned output."""
    proc = subprocess.run(
        [PSQL, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip() or f"psql exited {proc.returncode}")
    return proc.stdout.strip()


class Metrics:
    """Request counters and a latency histogram, safe across handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = {}
        self.errors: dict[str, int] = {}
        self.buckets = [0] * len(BUCKETS)
        self.count = 0
        self.total = 0.0

    def observe(self, path: str, status: int, seconds: float) -> None:
        with self.lock:
            self.requests[(path, status)] = self.requests.get((path, status), 0) + 1
            if status >= 500:
                self.errors[path] = self.errors.get(path, 0) + 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.buckets[i] += 1
            self.count += 1
            self.total += seconds

    def render(self) -> str:
        with self.lock:
            out = [
                f"# HELP {PREFIX}_info Release running in this process.",
                f"# TYPE {PREFIX}_info gauge",
                f'{PREFIX}_info{{release="{RELEASE}"}} 1',
                f"# HELP {PREFIX}_http_requests_total HTTP requests served (excluding /metrics).",
                f"# TYPE {PREFIX}_http_requests_total counter",
            ]
            for (path, status), n in sorted(self.requests.items()):
                out.append(f'{PREFIX}_http_requests_total{{path="{path}",code="{status}"}} {n}')
            out += [
                f"# HELP {PREFIX}_http_errors_total HTTP requests answered with a 5xx status.",
                f"# TYPE {PREFIX}_http_errors_total counter",
            ]
            for path, n in sorted(self.errors.items()):
                out.append(f'{PREFIX}_http_errors_total{{path="{path}"}} {n}')
            name = f"{PREFIX}_http_request_duration_seconds"
            out += [f"# HELP {name} Request latency.", f"# TYPE {name} histogram"]
            for bound, n in zip(BUCKETS, self.buckets, strict=True):
                out.append(f'{name}_bucket{{le="{bound}"}} {n}')
            out.append(f'{name}_bucket{{le="+Inf"}} {self.count}')
            out.append(f"{name}_sum {self.total:.6f}")
            out.append(f"{name}_count {self.count}")
        return "\n".join(out) + "\n"


METRICS = Metrics()
KNOWN = {"/health", "/version", "/items", "/fail", "/sleep"}


class Handler(BaseHTTPRequestHandler):
    """Routes GET requests; every response but /metrics is measured."""

    server_version = f"procc-demo-backend/{RELEASE}"

    def do_GET(self) -> None:
        start = time.monotonic()
        url = urlsplit(self.path)
        if url.path == "/metrics":
            self.reply(200, METRICS.render(), "text/plain; version=0.0.4")
            return
        try:
            status = self.route(url.path, parse_qs(url.query))
        except Exception as exc:  # any failure is a 500 the metrics must count
            status = 500
            self.reply(500, json.dumps({"error": str(exc)}) + "\n")
        label = url.path if url.path in KNOWN else "other"
        METRICS.observe(label, status, time.monotonic() - start)

    def route(self, path: str, params: dict[str, list[str]]) -> int:
        if path == "/version":
            return self.reply(200, RELEASE + "\n", "text/plain")
        if path == "/health":
            try:
                query("SELECT 1")
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                body = {"status": "unavailable", "release": RELEASE, "database": str(exc)}
                return self.reply(503, json.dumps(body) + "\n")
            return self.reply(
                200, json.dumps({"status": "ok", "release": RELEASE, "database": "ok"}) + "\n"
            )
        if path == "/items":
            return self.reply(
                200, json.dumps({"items": int(query("SELECT count(*) FROM items"))}) + "\n"
            )
        if path == "/fail":
            return self.reply(500, json.dumps({"error": "fault injected"}) + "\n")
        if path == "/sleep":
            time.sleep(min(float(params.get("seconds", ["0.1"])[0]), 5.0))
            return self.reply(200, "{}\n")
        return self.reply(404, json.dumps({"error": "not found"}) + "\n")

    def reply(self, status: int, body: str, ctype: str = "application/json") -> int:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return status

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.log_date_time_string()} {self.address_string()} {format % args}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("DEMO_BACKEND_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("DEMO_BACKEND_PORT", "8080"))
    )
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    # SIGTERM from the service script: finish cleanly, like a real service.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    sys.stderr.write(f"demo backend {RELEASE} listening on {args.host}:{args.port}\n")
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
