"""Direct tests of compiler.params: command-line assignments and parameter resolution, exact messages."""

from __future__ import annotations

import pytest

from compiler.errors import UsageError
from compiler.model import Procedure
from compiler.params import parse_assignments, resolve
from compiler.parse import parse_text
from tests.security.support import source

PARAMS = """parameters:
  release: {description: Release, required: true, pattern: 'v[0-9]+', env: PROCC_RELEASE}
  app_port: {description: Port, type: port, default: 8080}
  token: {description: Token, secret: true, env: PROCC_TOKEN, pattern: '[a-z]+'}
  mode: {description: Mode, choices: [fast, safe]}
steps:
  - title: Paso
    minutes: 1
    run: echo {{ release }} {{ app_port }} {{ token }} {{ mode }}
    irreversible: prueba
"""


@pytest.fixture(scope="module")
def proc() -> Procedure:
    return parse_text(source(PARAMS), "p.yml")


def test_parse_assignments_splits_at_the_first_equals_and_strips_the_name() -> None:
    assert parse_assignments([]) == {}
    assert parse_assignments(["a=1", " b =x=y", "c=", "a=2"]) == {"a": "2", "b": "x=y", "c": ""}


@pytest.mark.parametrize("item", ["novalue", "=value", ""])
def test_parse_assignments_refuses_what_is_not_name_equals_value(item: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_assignments(["ok=1", item])
    assert str(exc.value) == f"procc: -e expects NAME=VALUE, got '{item}'"


def test_resolve_returns_given_values_and_secret_names(proc: Procedure) -> None:
    values, secrets = resolve(proc, {"release": "v1", "token": "abc", "mode": "safe"}, environ={})
    assert values == {"release": "v1", "token": "abc", "mode": "safe"}
    assert secrets == {"token"}


def test_resolve_reads_the_environment_after_the_command_line(proc: Procedure) -> None:
    env = {"PROCC_RELEASE": "v9", "PROCC_TOKEN": "zz"}
    assert resolve(proc, {}, environ=env) == ({"release": "v9", "token": "zz"}, {"token"})
    assert resolve(proc, {"release": "v1"}, environ=env)[0] == {"release": "v1", "token": "zz"}


def test_resolve_defaults_to_os_environ(proc: Procedure, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCC_RELEASE", "v7")
    monkeypatch.delenv("PROCC_TOKEN", raising=False)
    assert resolve(proc, {}) == ({"release": "v7"}, {"token"})


def test_defaults_are_never_resolved_values(proc: Procedure) -> None:
    assert resolve(proc, {"release": "v1"}, environ={})[0] == {"release": "v1"}


def test_missing_required_parameter_names_the_flag_and_the_variable(proc: Procedure) -> None:
    with pytest.raises(UsageError) as exc:
        resolve(proc, {}, environ={})
    assert str(exc.value) == "procc: missing required parameter 'release': pass -e release=VALUE or set $PROCC_RELEASE"


def test_missing_required_parameter_without_env_has_no_hint() -> None:
    proc = parse_text(source(PARAMS.replace(", env: PROCC_RELEASE", "")), "p.yml")
    with pytest.raises(UsageError) as exc:
        resolve(proc, {}, environ={"PROCC_RELEASE": "v1"})
    assert str(exc.value) == "procc: missing required parameter 'release': pass -e release=VALUE"


def test_missing_required_parameter_is_left_to_the_inventory_when_it_may_supply(proc: Procedure) -> None:
    assert resolve(proc, {}, environ={}, inventory_may_supply=True) == ({}, {"token"})


def test_required_parameter_with_a_default_is_not_missing() -> None:
    proc = parse_text(source(PARAMS.replace("required: true,", "required: true, default: v0,")), "p.yml")
    assert resolve(proc, {}, environ={}) == ({}, {"token"})


def test_every_problem_is_listed_and_a_secret_value_is_never_shown(proc: Procedure) -> None:
    with pytest.raises(UsageError) as exc:
        resolve(proc, {"zeta": "1", "alpha": "2", "app_port": "70000", "token": "S3CRET", "mode": "x"}, environ={})
    assert str(exc.value).split("\n") == [
        "procc: unknown parameter 'alpha' (declared: app_port, mode, release, token)",
        "procc: unknown parameter 'zeta' (declared: app_port, mode, release, token)",
        "procc: parameter 'app_port' (port) = '70000' is not a port number (1-65535)",
        "procc: parameter 'mode' (string) = 'x' is not one of fast, safe",
        "procc: missing required parameter 'release': pass -e release=VALUE or set $PROCC_RELEASE",
        "procc: parameter 'token' (string) = *** does not match [a-z]+",
    ]
    assert "S3CRET" not in str(exc.value)


def test_unknown_parameter_when_none_is_declared() -> None:
    proc = parse_text(source("steps:\n  - title: Paso\n    minutes: 1\n    run: echo\n    irreversible: prueba\n"), "p.yml")
    with pytest.raises(UsageError) as exc:
        resolve(proc, {"x": "1"}, environ={})
    assert str(exc.value) == "procc: unknown parameter 'x' (declared: none)"
    assert resolve(proc, {}, environ={}) == ({}, set())
