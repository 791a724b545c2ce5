"""PROC-BACKEND-000, -001 and -002 for real: health check, rolling deployment and rollback.

Each run goes through ansible-runner against localhost and the session's demo
backend; what is asserted is what the service answers afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalog.conftest import Demo, explain, run_procedure

pytestmark = [pytest.mark.slow, pytest.mark.ansible, pytest.mark.postgres]


def test_health_check_succeeds(demo: Demo, tmp_path: Path) -> None:
    res = run_procedure("PROC-BACKEND-000", tmp_path, {**demo.params, "report_dir": str(tmp_path)})
    assert res.rc == 0, explain(res)
    report = (tmp_path / f"procc-health-{demo.port}.txt").read_text(encoding="utf-8")
    assert "release: v1" in report and "health: 200" in report and "items: 10" in report


def test_health_check_fails_on_a_breached_threshold(demo: Demo, tmp_path: Path) -> None:
    for _ in range(3):
        assert demo.get("/fail")[0] == 500
    res = run_procedure("PROC-BACKEND-000", tmp_path, {**demo.params, "report_dir": str(tmp_path)})
    assert res.rc != 0
    assert "FAILED in final validation" in res.summary, explain(res)
    # The full rollback removed the report of the failed check.
    assert not (tmp_path / f"procc-health-{demo.port}.txt").exists()


def test_deploy_then_rollback(demo: Demo, tmp_path: Path) -> None:
    res = run_procedure("PROC-BACKEND-001", tmp_path / "deploy", {**demo.params, "release": "v2"})
    assert res.rc == 0, explain(res)
    assert demo.get("/version") == (200, "v2")
    assert (demo.base / "etc" / "previous-release").read_text(encoding="utf-8").strip() == "v1"
    assert (demo.base / "releases" / "v1").is_dir()

    res = run_procedure("PROC-BACKEND-002", tmp_path / "rollback", demo.params)
    assert res.rc == 0, explain(res)
    assert demo.get("/version") == (200, "v1")
    assert (demo.base / "etc" / "retired-release").read_text(encoding="utf-8").strip() == "v2"


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_deploy_drill_at_each_step_leaves_v1_serving(demo: Demo, tmp_path: Path, k: int) -> None:
    res = run_procedure("PROC-BACKEND-001", tmp_path, {**demo.params, "release": "v2"}, fail_at=k)
    assert res.rc == 0 and res.drill_passed, explain(res)
    assert demo.get("/version") == (200, "v1")
    assert demo.get("/health")[0] == 200
    assert not (demo.base / "releases" / "v2").exists()
    assert not (demo.base / "etc" / "previous-release").exists()

