"""health role against a real demo backend: passes when healthy, fails with the measured value."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from support.demo import demo_vars, free_port, http_get, stop_demo
from support.playbooks import dump, run_play
from support.postgres import PgServer
from support.webhook import send_json

pytestmark = [pytest.mark.slow, pytest.mark.ansible, pytest.mark.postgres]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, pg: PgServer) -> Iterator[str]:
    """A demo backend v1 installed by its role; yields its base URL."""
    tmp = tmp_path_factory.mktemp("health")
    base, port = tmp / "demo", free_port()
    try:
        result = run_play(
            tmp / "install",
            [{"name": "Install", "ansible.builtin.include_role": {"name": "demo_backend"}}],
            extravars=demo_vars(base, port, pg),
        )
        assert result.ok, dump(result)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_demo(base)


@pytest.fixture
def prometheus() -> Iterator[tuple[str, list[str]]]:
    """A local endpoint speaking the Prometheus HTTP API's /api/v1/query answer format."""
    queries: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            queries.append(parse_qs(url.query)["query"][0])
            body = {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1700000000, "0.002"]}]},
            }
            send_json(self, 200 if url.path == "/api/v1/query" else 404, body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", queries
    server.shutdown()
    server.server_close()


def health(**role_vars: object) -> list[dict[str, object]]:
    return [{"name": "Health", "ansible.builtin.include_role": {"name": "health"}, "vars": role_vars}]


ITEMS_ERROR_RATE = {
    "name": "items_error_rate",
    "ratio": {
        "numerator": 'demo_backend_http_errors_total{path="/items"}',
        "denominator": 'demo_backend_http_requests_total{path="/items"}',
    },
    "below": 0.01,
}


def test_health_passes_on_a_healthy_backend(tmp_path: Path, backend: str, prometheus: tuple[str, list[str]]) -> None:
    for _ in range(3):
        assert http_get(backend + "/items")[0] == 200
    prom_url, queries = prometheus
    result = run_play(
        tmp_path / "run",
        health(
            health_url=backend + "/health",
            health_checks=[{"url": backend + "/version", "status": 200}],
            health_metrics_url=backend + "/metrics",
            health_prometheus_url=prom_url,
            health_metrics=[
                ITEMS_ERROR_RATE,
                {
                    "name": "p99_latency_seconds",
                    "histogram": "demo_backend_http_request_duration_seconds",
                    "quantile": 0.99,
                    "below": 1.0,
                },
                {"name": "items_requests", "metric": 'demo_backend_http_requests_total{path="/items"}', "above": 0},
                {"name": "prom_error_rate", "query": "sum(rate(errors[5m])) / sum(rate(requests[5m]))", "below": 0.01},
            ],
        ),
    )
    assert result.ok, dump(result)
    measured = result.facts()["health_measured"]
    assert measured["items_error_rate"] == 0.0
    assert measured["items_requests"] >= 3
    assert 0 < measured["p99_latency_seconds"] < 1.0
    assert measured["prom_error_rate"] == 0.002
    assert queries == ["sum(rate(errors[5m])) / sum(rate(requests[5m]))"]


def test_health_fails_with_the_measured_error_rate(tmp_path: Path, backend: str) -> None:
    # Its own /items traffic: the items_error_rate series must exist whichever
    # test ran before on this backend (alone, or in another order under xdist).
    for _ in range(3):
        assert http_get(backend + "/items")[0] == 200
    for _ in range(4):
        assert http_get(backend + "/fail")[0] == 500
    assert http_get(backend + "/version")[0] == 200
    text = http_get(backend + "/metrics")[1]
    totals = {"errors": 0.0, "requests": 0.0}
    for line in text.splitlines():
        if line.startswith("demo_backend_http_errors_total"):
            totals["errors"] += float(line.split()[-1])
        elif line.startswith("demo_backend_http_requests_total"):
            totals["requests"] += float(line.split()[-1])
    expected = totals["errors"] / totals["requests"]
    assert expected > 0.01

    result = run_play(
        tmp_path / "run",
        health(
            health_metrics_url=backend + "/metrics",
            health_metrics=[
                {
                    "name": "error_rate",
                    "ratio": {
                        "numerator": "demo_backend_http_errors_total",
                        "denominator": "demo_backend_http_requests_total",
                    },
                    "below": 0.01,
                },
                ITEMS_ERROR_RATE,
            ],
        ),
    )
    assert not result.ok
    assert f"error_rate={expected:.6g} exceeds 0.01" in result.stdout
    assert "items_error_rate" not in result.task_results("Check the metric thresholds")[0]["msg"]


def test_health_fails_on_an_unhealthy_endpoint_after_retries(tmp_path: Path, backend: str) -> None:
    result = run_play(
        tmp_path / "run",
        health(
            health_url=backend + "/fail",
            health_retries=1,
            health_delay=0,
        ),
    )
    assert not result.ok
    assert "Status code was 500 and not [200]" in result.stdout
    attempts = [ev for ev in result.events if ev.get("event") == "runner_retry"]
    assert len(attempts) == 1
