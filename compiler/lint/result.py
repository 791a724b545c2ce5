"""What a lint run found: findings and suppressions (light: no model, no rule imported).

Kept apart from :mod:`compiler.lint.engine` so that a lint served from the
cache (:mod:`compiler.lint.cached`) and its text report never import the
model or the rules: start-up is most of an unchanged catalog's lint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.errors import Diagnostic


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
