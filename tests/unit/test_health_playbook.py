"""The playbook tasks of health checks: every source value is data, a secret hides the request only."""

from __future__ import annotations

from compiler.parse import parse_text
from compiler.playbook import _Builder
from compiler.yamlout import Unsafe
from tests.unit.test_health_runbook import proc_text


def tasks() -> list[list[dict[str, object]]]:
    b = _Builder(parse_text(proc_text(), "p.yml"), "en")
    return [b._health("Final", h, ["final_validation"]) for h in b.proc.final_validation.health]


def test_http_check_is_a_request_then_a_verdict() -> None:
    [request, verdict], [insecure, _], [tcp], [command] = tasks()
    args = request["ansible.builtin.uri"]
    assert isinstance(args, dict)
    assert args["ca_path"] == "/etc/ssl/internal-ca.pem" and "validate_certs" not in args
    assert args["method"] == "POST" and args["body_format"] == "json" and args["timeout"] == 5
    assert args["headers"] == {"Authorization": "Bearer {{ api_token }}", "X-Note": "it's \"$(id)\" `id`"}
    # The request never fails by itself; the verdict says why.
    assert request["failed_when"] is False and request["until"] == "procc_health_ok"
    assert verdict["ansible.builtin.assert"]["that"] == ["procc_health_ok | bool"]  # type: ignore[index]
    assert insecure["ansible.builtin.uri"]["validate_certs"] is False  # type: ignore[index]
    assert tcp["ansible.builtin.wait_for"] == {"host": "db.internal", "port": 5432, "timeout": 3,
                                               "state": "started"}
    assert "ansible.builtin.shell" in command and command["delegate_to"] == "localhost"


def test_a_secret_header_hides_the_request_but_not_the_verdict() -> None:
    [request, verdict], *_ = tasks()
    assert request["no_log"] is True
    # The verdict holds no header: it stays visible, so a failure says why.
    assert "no_log" not in verdict


def test_json_paths_and_values_are_variables_never_expression_text() -> None:
    [request, _], *_ = tasks()
    hvars = request["vars"]
    assert isinstance(hvars, dict)
    assert hvars["procc_json_path1"] == ["checks", "db"]
    assert all(isinstance(p, Unsafe) for p in hvars["procc_json_path1"])
    assert hvars["procc_json_value2"] == 3
    assert "checks" not in hvars["procc_health_ok"] and "db" not in hvars["procc_health_ok"]
