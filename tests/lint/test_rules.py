"""Every rule: its bad fixture fails at exactly these positions, its good fixture is clean.

Fixtures live in tests/lint/fixtures/<rule-id>/{bad,good}.yml. A good
fixture must be clean for every rule at --strict, so it shows the fix, not
just the absence of one problem.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from compiler.lint.engine import lint_files
from compiler.lint.registry import RULES, by_id

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2026, 11, 28)

# rule id -> the (line, col) of every finding of that rule in its bad.yml
EXPECTED: dict[str, list[tuple[int, int]]] = {
    "step-missing-validation": [(27, 5)],
    "step-missing-rollback": [(29, 10)],
    "full-rollback-missing": [(26, 1)],
    "template-placeholder": [(11, 9), (31, 7)],
    "interactive-command": [(34, 9), (35, 40)],
    "command-substitution-argument": [(33, 30), (34, 54), (40, 38)],
    "read-only-changes": [(38, 34)],
    "drill-never-passes": [(34, 5), (51, 5)],
    "capture-unused": [(31, 7), (32, 7)],
    "troubleshooting-missing": [(46, 1)],
    "success-metrics-numeric": [(38, 1), (42, 7)],
    "rollback-trigger-measurable": [(44, 7)],
    "steps-exceed-estimate": [(8, 20)],
    "final-validation-empty": [(36, 1)],
    "final-validation-health": [(36, 1)],
    "step-missing-if-fails": [(27, 5)],
    "escalation-contacts": [(6, 14)],
    "hardcoded-default": [(49, 22), (52, 22)],
    "tool-version": [(21, 7)],
    "parameter-description": [(18, 3)],
    "step-expected-result": [(27, 5)],
    "db-backup-preflight": [(29, 10)],
    "db-restore-rollback": [(31, 10)],
    "db-integrity-validation": [(31, 10)],
    "literal-secret": [(20, 14), (56, 27)],
    "secret-parameter": [(18, 3)],
    "curl-pipe-shell": [(49, 15)],
    "tls-verify-disabled": [(41, 12)],
    "critical-approval": [(6, 14), (6, 14)],
    "version-in-changelog": [(9, 10), (51, 15)],
    "stale-procedure": [(10, 10)],
    "untested-approval": [(50, 3)],
}


def _lint(path: Path) -> list[tuple[str, int, int, str]]:
    result = lint_files([(path, path.name)], today=TODAY)
    return [(d.code, d.pos.line, d.pos.col, d.severity) for d in result.findings]


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_bad_fixture_fails_at_exact_positions(rule_id: str) -> None:
    findings = _lint(FIXTURES / rule_id / "bad.yml")
    assert not [f for f in findings if f[0].startswith(("yaml-", "unknown-key", "missing-key"))]
    got = sorted((line, col) for code, line, col, _ in findings if code == rule_id)
    assert got == sorted(EXPECTED[rule_id])
    severity = by_id()[rule_id].severity
    assert {sev for code, *_, sev in findings if code == rule_id} == {severity}


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_good_fixture_is_clean(rule_id: str) -> None:
    assert _lint(FIXTURES / rule_id / "good.yml") == []


def test_clean_base_fixture() -> None:
    assert _lint(FIXTURES / "clean.yml") == []


def test_every_registered_rule_is_complete() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)), "duplicate rule ids"
    for rule in RULES:
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", rule.id), rule.id
        assert rule.severity in ("error", "warning", "info")
        assert rule.perspectives, f"{rule.id} has no perspective"
        assert set(rule.perspectives) <= {"devops", "sre", "dev", "dba", "security", "governance"}
        assert rule.summary
        doc = rule.doc()
        assert "Bad::" in doc and "Good::" in doc, f"{rule.id} doc lacks bad/good examples"
        assert (FIXTURES / rule.id / "bad.yml").is_file(), f"{rule.id} has no bad fixture"
        assert (FIXTURES / rule.id / "good.yml").is_file(), f"{rule.id} has no good fixture"
        assert rule.id in EXPECTED, f"{rule.id} has no expected positions"


def test_every_perspective_has_rules() -> None:
    covered = {p for r in RULES for p in r.perspectives}
    assert covered == {"devops", "sre", "dev", "dba", "security", "governance"}


def test_no_fixture_without_a_rule() -> None:
    dirs = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert dirs == {r.id for r in RULES}
