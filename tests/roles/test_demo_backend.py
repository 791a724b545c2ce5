"""demo_backend role: a real service on localhost, versioned releases and the current link."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support.demo import demo_vars, free_port, http_get, stop_demo
from support.playbooks import dump, run_play
from support.postgres import PgServer

pytestmark = [pytest.mark.slow, pytest.mark.ansible, pytest.mark.postgres]

ROLE = [{"name": "Install the demo backend", "ansible.builtin.include_role": {"name": "demo_backend"}}]


def test_install_serve_switch_release_and_report_database_loss(tmp_path: Path, pg: PgServer) -> None:
    base, port = tmp_path / "demo", free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        first = run_play(tmp_path / "run1", ROLE, extravars=demo_vars(base, port, pg, "v1"))
        assert first.ok, dump(first)
        assert http_get(url + "/version") == (200, "v1\n")
        status, body = http_get(url + "/health")
        assert status == 200 and '"database": "ok"' in body
        assert http_get(url + "/items") == (200, '{"items": 10}\n')
        status, metrics = http_get(url + "/metrics")
        assert status == 200
        assert 'demo_backend_http_requests_total{path="/items",code="200"} 1' in metrics
        assert 'demo_backend_http_request_duration_seconds_bucket{le="+Inf"} 3' in metrics
        assert 'demo_backend_info{release="v1"} 1' in metrics
        pid_v1 = (base / "run" / "demo-backend.pid").read_text().strip()

        second = run_play(tmp_path / "run2", ROLE, extravars=demo_vars(base, port, pg, "v2"))
        assert second.ok, dump(second)
        assert http_get(url + "/version") == (200, "v2\n")
        assert os.readlink(base / "current") == "releases/v2"
        assert (base / "releases" / "v1" / "VERSION").read_text() == "v1\n"
        assert (base / "run" / "demo-backend.pid").read_text().strip() != pid_v1
        facts = second.facts()
        assert facts["demo_backend_previous_release"] == "v1"
        assert facts["demo_backend_active_release"] == "v2"
        status_out = subprocess.run(
            [str(base / "bin" / "demo-backend"), "status"], capture_output=True, text=True, check=True
        ).stdout
        assert "running" in status_out and "release v2" in status_out

        # Without its database the service stays up and says so: /health answers 503.
        env_file = base / "etc" / "demo-backend.env"
        env_file.write_text(env_file.read_text().replace(f"PGPORT={pg.port}", f"PGPORT={free_port()}"))
        subprocess.run([str(base / "bin" / "demo-backend"), "restart"], check=True, capture_output=True)
        status, body = http_get(url + "/health")
        assert status == 503 and '"status": "unavailable"' in body
        assert http_get(url + "/items")[0] == 500
        assert 'demo_backend_http_errors_total{path="/items"} 1' in http_get(url + "/metrics")[1]
    finally:
        stop_demo(base)
