"""final_validation.health: HTTP, TCP and command checks, and every error they give, with its position."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.errors import CompileError
from compiler.parse import parse_text

CLEAN = (Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")
HEALTH = '    - {url: "http://localhost:8080/health", status: 200}\n'
TOKEN = "  token: {description: Token, secret: true, env: TOKEN}\n"


def source(*checks: str, params: str = "") -> str:
    assert HEALTH in CLEAN
    text = CLEAN.replace(HEALTH, "".join(f"    - {c}\n" for c in checks), 1)
    return text.replace("parameters:\n", "parameters:\n" + params, 1) if params else text


def diags(text: str) -> list[str]:
    with pytest.raises(CompileError) as exc:
        parse_text(text, "p.yml")
    return [d.format() for d in exc.value.diagnostics]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_three_kinds_parse() -> None:
    text = source('{url: "https://api:8443/health", ca_path: /etc/ca.pem, method: POST, body: {a: 1}, '
                  'headers: {Authorization: "Bearer {{ token }}"}, json: {status: ok, checks.db: up}, timeout: 5}',
                  '{tcp: "db.internal:5432"}', '{tcp: "[::1]:443"}', '{command: "systemctl is-active api", contains: active}',
                  params=TOKEN)
    http, tcp, tcp6, cmd = parse_text(text, "p.yml").final_validation.health
    assert (http.kind, tcp.kind, cmd.kind) == ("url", "tcp", "command")
    assert http.json_ == {"status": "ok", "checks.db": "up"} and http.validate_certs is True
    assert tcp.host_port == ("db.internal", "5432") and tcp6.host_port == ("::1", "443")
    assert http.title == "POST https://api:8443/health" and tcp.title == "TCP db.internal:5432"


def test_a_typo_gets_did_you_mean_and_an_unknown_key_the_list() -> None:
    text = source('{url: "https://api/health", validate_cert: false}')
    [msg] = diags(text)
    assert msg == (f"p.yml:{line_of(text, 'validate_cert')}:35: error: unknown key 'validate_cert' "
                   "(did you mean 'validate_certs'?) [unknown-key]")
    [msg] = diags(source('{url: "https://api/health", insecure: true}'))
    assert "unknown key 'insecure'; allowed here: url, tcp, command, name, status" in msg
    assert "ca_path, validate_certs, timeout" in msg


@pytest.mark.parametrize(("check", "expected"), [
    ("{name: x}", "exactly one of 'url' (HTTP), 'tcp' (host:port) or 'command'"),
    ('{url: "http://a/", tcp: "a:1"}', "(found url, tcp)"),
    ('{tcp: "db:5432", status: 200}', "status: only for HTTP checks ('url')"),
    ('{command: "true", ca_path: /x, validate_certs: false}', "ca_path, validate_certs: only for HTTP checks"),
    ('{tcp: "db:5432", contains: x}', "'contains' is for HTTP and command checks"),
    ('{tcp: "db"}', "tcp must be host:port"),
    ('{tcp: "db:70000"}', "tcp port 70000 is not 1..65535"),
    ('{tcp: "db:5432; rm -rf /"}', "tcp must be host:port"),
    ('{url: "http://a/", body: x}', "a GET request has no body: use method: POST"),
    ('{url: "http://a/", method: FETCH}', "Input should be 'GET', 'HEAD', 'POST'"),
    ('{url: "http://a/", headers: {"Bad Name": x}}', "header name 'Bad Name' is not an HTTP header name"),
    ('{url: "http://a/", headers: {"X-{{a}}": x}}', "is not an HTTP header name"),
    ('{url: "http://a/", headers: {X-A: "a\\r\\nX-Injected: 1"}}', "cannot contain a line break"),
    ('{url: "http://a/", json: {"a..b": 1}}', "JSON field 'a..b' must be a dotted path"),
    ('{url: "http://a/", method: POST, body: {"{{ k }}": 1}}', "body key '{{ k }}' must be text without"),
    ('{url: "http://a/", timeout: 0}', "greater than or equal to 1"),
])
def test_bad_checks_are_refused_at_their_position(check: str, expected: str) -> None:
    text = source(check)
    found = diags(text)
    assert any(expected in d for d in found), found
    assert all(d.startswith(f"p.yml:{line_of(text, check[:12])}:") for d in found), found


def test_an_undeclared_parameter_in_a_header_or_body_gets_did_you_mean() -> None:
    text = source('{url: "http://a/", method: POST, headers: {Authorization: "Bearer {{ tokn }}"}, '
                  'body: {v: "{{ tokn }}"}}', params=TOKEN)
    found = diags(text)
    assert len(found) == 2
    assert all("'{{ tokn }}' is not a declared parameter (did you mean '{{ token }}'?)" in d for d in found)


def test_a_command_check_is_shell_checked_like_run() -> None:
    text = source("{command: 'echo {{ workdir }}x'}")
    parse_text(text, "p.yml")  # a parameter as a whole word is fine
    found = diags(source("{command: 'echo {{ workdir | upper }}'}"))
    assert any("[unsafe-shell-use]" in d for d in found), found


def test_jinja_in_a_value_is_refused_and_literal_braces_are_text() -> None:
    found = diags(source("{url: \"http://a/\", headers: {X-A: \"{{ lookup('pipe', 'id') }}\"}}"))
    assert any("[template-expression]" in d for d in found), found
    # Not Jinja at all: plain text, passed on literally.
    parse_text(source('{url: "http://a/", headers: {X-A: "{% raw %} $(id) `id`"}}'), "p.yml")
