"""PROC-BACKEND-008 for real: rotate the certificate of a local HTTPS service with its own CA.

The service (tests/support/edge.py) serves a certificate its CA signed with
20 days left. A run installs a new one (the served fingerprint changes, its
expiry is valid_days away); a drill at every step, and a real failure of the
final validation (min_valid_days above valid_days), leave every file of the
service (bytes and modes) and the served certificate as they were.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.catalog.cli_support import Edge, edge, last_outcome, project_with, run, state

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

__all__ = ["edge"]  # the fixture, used by name

PROC = "PROC-BACKEND-008"


def _params(e: Edge, **extra: str) -> dict[str, str]:
    return {"edge_dir": str(e.dir), "edge_port": str(e.port), **extra}


def _days_left(e: Edge) -> float:
    end = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(e.dir / "tls" / "server.crt")],
                         capture_output=True, text=True, check=True).stdout.strip().split("=", 1)[1]
    stamp = subprocess.run(["date", "-d", end, "+%s"], capture_output=True, text=True, check=True).stdout
    return (int(stamp) - time.time()) / 86400


def test_rotation_serves_a_new_certificate_valid_for_valid_days(tmp_path: Path, edge: Edge) -> None:
    old = edge.served_fingerprint()
    old_pair = {n: (edge.dir / "tls" / n).read_bytes() for n in ("server.crt", "server.key")}
    root = project_with(tmp_path, PROC)
    res = run(root, PROC, _params(edge, valid_days="120"))
    assert res.returncode == 0, res.stdout + res.stderr
    new = edge.served_fingerprint()
    assert new != old and new == edge.file_fingerprint()
    assert 119 < _days_left(edge) <= 120
    assert (edge.dir / "tls" / "server.key").stat().st_mode & 0o777 == 0o600
    # The previous pair is kept for a manual revert; the issuing directory is gone.
    (backup,) = (edge.dir / "tls-backup").iterdir()
    assert {n: (backup / n).read_bytes() for n in old_pair} == old_pair
    assert not (edge.dir / "tls-new").exists()
    assert '"status": "ok"' in edge.get("/health")
    assert last_outcome(root, PROC) == "success"


@pytest.mark.parametrize("k", [1, 2, 3])
def test_drill_at_each_step_leaves_the_service_as_it_was(tmp_path: Path, edge: Edge, k: int) -> None:
    before, served = state(edge.dir), edge.served_fingerprint()
    root = project_with(tmp_path, PROC)
    res = run(root, PROC, _params(edge), fail_at=k)
    assert res.returncode == 0 and "DRILL PASSED" in res.stdout, res.stdout + res.stderr
    assert state(edge.dir) == before
    assert edge.served_fingerprint() == served


def test_a_certificate_too_short_for_the_policy_is_rolled_back(tmp_path: Path, edge: Edge) -> None:
    # A real failure, not a drill: the new certificate is issued and served, then the
    # final validation's metric (days left above min_valid_days) fails and the full rollback runs.
    before, served = state(edge.dir), edge.served_fingerprint()
    root = project_with(tmp_path, PROC)
    res = run(root, PROC, _params(edge, valid_days="10", min_valid_days="30"))
    assert res.returncode != 0
    assert "dias_hasta_caducar" in res.stdout, res.stdout + res.stderr
    assert last_outcome(root, PROC) != "success"
    assert state(edge.dir) == before
    assert edge.served_fingerprint() == served
