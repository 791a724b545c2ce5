"""Direct tests of compiler.lint.engine: findings, suppressions, merging and order, with stand-in rules.

The rules here are minimal stand-ins (they report fixed diagnostics) so that
each test pins what the engine does with findings, whatever the real rules find.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.errors import Diagnostic, Position
from compiler.lint import engine
from compiler.lint.base import Rule
from compiler.lint.engine import LintResult, Suppressed, lint_file, lint_files, lint_source
from compiler.parse import Source, parse_file

CLEAN = Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml"


class _ToolVersion(Rule):
    id = "tool-version"
    severity = "warning"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        yield self.report(source, Position(3, 1), "tv one")
        yield self.report(source, Position(2, 1), "tv two")


class _Stale(Rule):
    id = "stale-procedure"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        yield self.report(source, Position(1, 2), "stale")


class _Quiet(Rule):
    id = "curl-pipe-shell"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        yield from ()


def fmt(diags: list[Diagnostic]) -> list[str]:
    return [d.format() for d in diags]


def write(tmp_path: Path, ignore: str = "", name: str = "p.yml") -> Path:
    path = tmp_path / name
    path.write_text(CLEAN.read_text(encoding="utf-8") + ignore, encoding="utf-8")
    return path


IGNORE = """lint:
  ignore:
    - rule: tool-version
      reason: versions are pinned elsewhere
    - rule: no-such-rule
      reason: typo
    - rule: curl-pipe-shell
      reason: nothing to suppress
    - rule: read-only-changes
      reason: not active here
"""


def test_lint_source_suppresses_and_reports_bad_ignores(tmp_path: Path) -> None:
    source = parse_file(write(tmp_path, IGNORE), "shown.yml")
    result = lint_source(source, [_ToolVersion(), _Stale(), _Quiet()])
    assert result.files == 1
    assert not hasattr(result, "sources")  # no parsed source is kept: lint memory stays flat
    assert fmt(result.findings) == [
        "shown.yml:1:2: error: stale [stale-procedure]",
        "shown.yml:55:13: error: lint.ignore names an unknown rule 'no-such-rule' [unknown-lint-rule]",
        "shown.yml:57:13: warning: lint.ignore of 'curl-pipe-shell' suppresses nothing; remove it [unused-suppression]",
    ]
    assert [(fmt([s.diagnostic])[0], s.reason) for s in result.suppressed] == [
        ("shown.yml:3:1: warning: tv one [tool-version]", "versions are pinned elsewhere"),
        ("shown.yml:2:1: warning: tv two [tool-version]", "versions are pinned elsewhere"),
    ]
    assert engine.UNKNOWN_RULE == "unknown-lint-rule"
    assert engine.UNUSED_SUPPRESSION == "unused-suppression"


def test_lint_source_without_ignores(tmp_path: Path) -> None:
    source = parse_file(write(tmp_path), "p.yml")
    result = lint_source(source, [_Stale(), _ToolVersion()])
    assert fmt(result.findings) == ["p.yml:1:2: error: stale [stale-procedure]",
                                    "p.yml:3:1: warning: tv one [tool-version]",
                                    "p.yml:2:1: warning: tv two [tool-version]"]
    assert result.suppressed == []


def test_lint_file_turns_parse_errors_into_findings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("a: 1\na: 2\n", encoding="utf-8")
    result = lint_file(bad, "shown.yml", [_Stale()])
    assert fmt(result.findings) == ["shown.yml:2:1: error: duplicate key 'a' (first defined at line 1) [duplicate-key]"]
    assert (result.files, result.suppressed) == (1, [])
    good = lint_file(write(tmp_path), "shown.yml", [_Stale()])
    assert fmt(good.findings) == ["shown.yml:1:2: error: stale [stale-procedure]"]


def test_lint_files_merges_sorts_and_filters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dt.date | None] = []

    def fake_rules(today: dt.date | None = None) -> list[Rule]:
        seen.append(today)
        return [_ToolVersion(today), _Stale(today), _Quiet(today)]

    monkeypatch.setattr(engine, "rules", fake_rules)
    a = write(tmp_path, IGNORE, "a.yml")
    b = write(tmp_path, "", "b.yml")
    day = dt.date(2026, 1, 2)
    result = lint_files([(b, "b.yml"), (a, "a.yml")], today=day)
    assert seen == [day]
    assert result.files == 2
    assert fmt(result.findings) == [
        "a.yml:1:2: error: stale [stale-procedure]",
        "a.yml:55:13: error: lint.ignore names an unknown rule 'no-such-rule' [unknown-lint-rule]",
        "a.yml:57:13: warning: lint.ignore of 'curl-pipe-shell' suppresses nothing; remove it [unused-suppression]",
        "b.yml:1:2: error: stale [stale-procedure]",
        "b.yml:2:1: warning: tv two [tool-version]",
        "b.yml:3:1: warning: tv one [tool-version]",
    ]
    assert fmt([s.diagnostic for s in result.suppressed]) == ["a.yml:2:1: warning: tv two [tool-version]",
                                                              "a.yml:3:1: warning: tv one [tool-version]"]
    only = lint_files([(b, "b.yml")], only=["stale-procedure", "nothing"])
    assert fmt(only.findings) == ["b.yml:1:2: error: stale [stale-procedure]"]
    assert fmt(lint_files([(b, "b.yml")], only=[]).findings) == []


def test_count_and_exit_code() -> None:
    warn = Diagnostic("p", Position(1, 1), "w", "x", "warning")
    err = Diagnostic("p", Position(1, 1), "e", "y", "error")
    assert LintResult().exit_code() == 0
    assert LintResult().exit_code(strict=True) == 0
    only_warn = LintResult(findings=[warn, warn])
    assert (only_warn.count("warning"), only_warn.count("error")) == (2, 0)
    assert (only_warn.exit_code(), only_warn.exit_code(strict=True)) == (0, 1)
    both = LintResult(findings=[warn, err])
    assert (both.exit_code(), both.exit_code(strict=False), both.exit_code(strict=True)) == (1, 1, 1)


def test_extend_and_sort(tmp_path: Path) -> None:
    d = [Diagnostic("b", Position(1, 1), "", "r"), Diagnostic("a", Position(2, 1), "", "r"),
         Diagnostic("a", Position(1, 5), "", "r"), Diagnostic("a", Position(1, 5), "", "q")]
    one = LintResult(findings=[d[0]], suppressed=[Suppressed(d[0], "x")], files=1)
    two = LintResult(findings=[d[1], d[2], d[3]], suppressed=[Suppressed(d[1], "y"), Suppressed(d[3], "z")], files=2)
    one.extend(two)
    assert one.files == 3
    one.sort()
    assert [(x.path, x.pos, x.code) for x in one.findings] == [
        ("a", Position(1, 5), "q"), ("a", Position(1, 5), "r"), ("a", Position(2, 1), "r"), ("b", Position(1, 1), "r")]
    assert [s.reason for s in one.suppressed] == ["z", "y", "x"]
