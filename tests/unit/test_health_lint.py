"""The lint rules that read health checks: a TCP or command check is a health check; no TLS check is flagged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from compiler.lint.engine import lint_files

CLEAN = Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml"
HEALTH = '    - {url: "http://localhost:8080/health", status: 200}\n'


def findings(tmp_path: Path, *checks: str) -> list[tuple[str, int, int]]:
    text = CLEAN.read_text(encoding="utf-8")
    assert HEALTH in text
    path = tmp_path / "p.yml"
    path.write_text(text.replace(HEALTH, "".join(f"    - {c}\n" for c in checks), 1), encoding="utf-8")
    result = lint_files([(path, "p.yml")], today=dt.date(2026, 11, 28))
    return [(d.code, d.pos.line, d.pos.col) for d in result.findings]


def test_a_service_without_http_passes_the_health_rule_with_tcp_or_a_command(tmp_path: Path) -> None:
    assert findings(tmp_path, '{tcp: "127.0.0.1:5432"}') == []
    assert findings(tmp_path, "{command: pg_isready -h 127.0.0.1, contains: accepting}") == []


def test_validate_certs_false_is_flagged_at_its_key(tmp_path: Path) -> None:
    got = findings(tmp_path, '{url: "https://api.internal/health", validate_certs: false}')
    assert got == [("tls-verify-disabled", 38, 44)]
    assert findings(tmp_path, '{url: "https://api.internal/health", ca_path: /etc/ssl/ca.pem}') == []


def test_a_command_check_is_a_command_for_the_shell_rules(tmp_path: Path) -> None:
    got = findings(tmp_path, "{command: curl -k https://api.internal/health}")
    assert ("tls-verify-disabled", 38, 17) in got
