"""The health role against an HTTPS endpoint with its own CA and a bearer token (real ansible-runner runs).

The CA and the server certificate are made with openssl at test time
(tests/run/test_health_checks.py's server: it answers 200 only to the right
``Authorization: Bearer`` header). The token is read by a file lookup, never
passed as an extra var, so finding it anywhere in the run's private data
directory (events, artifacts, stdout) means no_log failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.playbooks import PlayResult, dump, run_play

from tests.run.test_health_checks import TOKEN, Https, https  # noqa: F401  (https: a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.ansible]


def _run(tmp_path: Path, server: Https, **role_vars: Any) -> PlayResult:
    token = tmp_path / "token"  # outside the run's directory
    token.write_text(TOKEN, encoding="utf-8")
    role_vars = {"health_url": f"https://127.0.0.1:{server.port}/health", "health_retries": 0,
                 "health_delay": 0, **role_vars}
    if role_vars.get("health_headers") == "token":
        lookup = "{{ lookup('ansible.builtin.file', '" + str(token) + "') }}"
        role_vars["health_headers"] = {"Authorization": f"Bearer {lookup}"}
    return run_play(tmp_path / "run", [{"name": "Health", "ansible.builtin.include_role": {"name": "health"},
                                        "vars": role_vars}])


def _leaked(tmp_path: Path) -> list[str]:
    run = tmp_path / "run"
    return [str(p) for p in run.rglob("*") if p.is_file() and TOKEN in p.read_text(encoding="utf-8", errors="replace")]


def test_https_with_the_internal_ca_and_a_secret_header_passes_and_hides_the_header(
        tmp_path: Path, https: Https) -> None:  # noqa: F811
    res = _run(tmp_path, https, health_ca_path=str(https.ca), health_headers="token")
    assert res.ok, dump(res)
    assert [r["headers"].get("Authorization") for r in https.seen.requests] == [f"Bearer {TOKEN}"]
    assert _leaked(tmp_path) == []


def test_without_the_ca_the_certificate_is_refused_and_the_failure_says_why(
        tmp_path: Path, https: Https) -> None:  # noqa: F811
    res = _run(tmp_path, https, health_headers="token")
    assert not res.ok
    assert "CERTIFICATE_VERIFY_FAILED" in res.stdout and f"127.0.0.1:{https.port}/health: HTTP -1" in res.stdout
    assert https.seen.requests == []
    assert _leaked(tmp_path) == []


def test_validate_certs_false_connects_without_the_ca(tmp_path: Path, https: Https) -> None:  # noqa: F811
    res = _run(tmp_path, https, health_validate_certs=False, health_headers="token")
    assert res.ok, dump(res)


def test_a_check_of_its_own_overrides_the_role_defaults(tmp_path: Path, https: Https) -> None:  # noqa: F811
    # The role-wide header is wrong; the check's own header and CA are right.
    res = _run(tmp_path, https, health_url="", health_headers={"Authorization": "Bearer wrong"},
               health_checks=[{"url": f"https://localhost:{https.port}/health", "ca_path": str(https.ca),
                               "headers": {"Authorization": f"Bearer {TOKEN}"}}])
    assert res.ok, dump(res)


def test_a_wrong_token_fails_with_the_status(tmp_path: Path, https: Https) -> None:  # noqa: F811
    res = _run(tmp_path, https, health_ca_path=str(https.ca), health_headers={"Authorization": "Bearer wrong"})
    assert not res.ok
    assert "HTTP 401, expected 200" in res.stdout


def test_the_argument_specs_refuse_headers_that_are_not_a_mapping(tmp_path: Path, https: Https) -> None:  # noqa: F811
    res = _run(tmp_path, https, health_headers=["Authorization: x"])
    assert not res.ok
    assert "health_headers" in res.stdout and "dict" in res.stdout
    assert https.seen.requests == []
