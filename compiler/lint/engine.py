"""Running the rules over sources: parse errors, findings, suppressions.

A file that does not parse yields its parse diagnostics as findings (never
a traceback). A finding whose rule the procedure ignores under
``lint.ignore`` (with its mandatory reason) moves to ``suppressed`` and is
still reported; an ignore naming an unknown rule, or one that suppressed
nothing, is itself reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from compiler.errors import CompileError, Diagnostic
from compiler.lint.base import Rule
from compiler.lint.registry import by_id, rules
from compiler.lint.result import LintResult, Suppressed
from compiler.parse import Source, parse_file

UNKNOWN_RULE = "unknown-lint-rule"
UNUSED_SUPPRESSION = "unused-suppression"


def lint_source(source: Source, active: Sequence[Rule]) -> LintResult:
    """Run ``active`` rules over one parsed source and apply its suppressions."""
    result = LintResult(files=1)
    ignores = source.procedure.lint.ignore
    reasons = {s.rule: s.reason for s in ignores}
    used: set[str] = set()
    for rule in active:
        for diag in rule.check(source):
            if diag.code in reasons:
                used.add(diag.code)
                result.suppressed.append(Suppressed(diag, reasons[diag.code]))
            else:
                result.findings.append(diag)
    known = by_id()
    active_ids = {r.id for r in active}
    for i, sup in enumerate(ignores):
        pos = source.smap.value(("lint", "ignore", i, "rule"))
        if sup.rule not in known:
            result.findings.append(Diagnostic(
                source.display, pos, f"lint.ignore names an unknown rule '{sup.rule}'",
                UNKNOWN_RULE, "error"))
        elif sup.rule in active_ids and sup.rule not in used:
            result.findings.append(Diagnostic(
                source.display, pos, f"lint.ignore of '{sup.rule}' suppresses nothing; remove it",
                UNUSED_SUPPRESSION, "warning"))
    return result


def lint_file(path: Path, display: str, active: Sequence[Rule]) -> LintResult:
    """Parse and lint one file; parse errors become findings."""
    try:
        source = parse_file(path, display)
    except CompileError as exc:
        return LintResult(findings=list(exc.diagnostics), files=1)
    return lint_source(source, active)


def selected(today: dt.date | None = None, only: tuple[str, ...] | None = None) -> tuple[Rule, ...]:
    """The active rules: every rule (or the ids in ``only``), dated ``today`` (made per call: cheap, and a
    test that swaps the registry gets its rules)."""
    active = rules(today)
    if only is not None:
        wanted = set(only)
        active = [r for r in active if r.id in wanted]
    return tuple(active)


def lint_files(files: Iterable[tuple[Path, str]], today: dt.date | None = None,
               only: Iterable[str] | None = None) -> LintResult:
    """Lint ``(path, display name)`` pairs with every rule (or the ids in ``only``); no cache."""
    active = selected(today, None if only is None else tuple(sorted(set(only))))
    result = LintResult()
    for path, display in files:
        result.extend(lint_file(path, display, active))
    result.sort()
    return result
