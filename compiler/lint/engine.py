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
from dataclasses import dataclass, field
from pathlib import Path

from compiler.errors import CompileError, Diagnostic
from compiler.lint.base import Rule
from compiler.lint.registry import by_id, rules
from compiler.parse import Source, parse_file

UNKNOWN_RULE = "unknown-lint-rule"
UNUSED_SUPPRESSION = "unused-suppression"


@dataclass(frozen=True)
class Suppressed:
    """A finding silenced by the procedure's ``lint.ignore``, with the reason given."""

    diagnostic: Diagnostic
    reason: str


@dataclass
class LintResult:
    """Everything one lint run found."""

    findings: list[Diagnostic] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    files: int = 0
    # No parsed sources kept: a run over 1000 procedures holds one at a time (memory flat in the catalog's size).

    def count(self, severity: str) -> int:
        """How many findings have ``severity``."""
        return sum(1 for d in self.findings if d.severity == severity)

    def exit_code(self, strict: bool = False) -> int:
        """0 when clean, 1 with errors (with ``strict``, with any finding)."""
        if strict:
            return 1 if self.findings else 0
        return 1 if self.count("error") else 0

    def extend(self, other: LintResult) -> None:
        """Merge ``other`` into this result."""
        self.findings.extend(other.findings)
        self.suppressed.extend(other.suppressed)
        self.files += other.files

    def sort(self) -> None:
        """Order findings by file, position and rule (deterministic output)."""
        self.findings.sort()
        self.suppressed.sort(key=lambda s: s.diagnostic)


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


def lint_files(files: Iterable[tuple[Path, str]], today: dt.date | None = None,
               only: Iterable[str] | None = None) -> LintResult:
    """Lint ``(path, display name)`` pairs with every rule (or the ids in ``only``)."""
    active = rules(today)
    if only is not None:
        wanted = set(only)
        active = [r for r in active if r.id in wanted]
    result = LintResult()
    for path, display in files:
        result.extend(lint_file(path, display, active))
    result.sort()
    return result
