"""Diagnostics and the user-facing error hierarchy.

Every problem found in a source file becomes a :class:`Diagnostic` with its
position; a :class:`CompileError` carries all of them at once so the CLI can
print them like a compiler (``path:line:col: error: message [code]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column in a source file."""

    line: int = 1
    col: int = 1


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at one place in one file."""

    path: str
    pos: Position
    message: str = field(compare=False)
    code: str = field(compare=True)
    severity: Severity = field(default="error", compare=False)

    def format(self) -> str:
        """Render as ``path:line:col: severity: message [code]``."""
        return (
            f"{self.path}:{self.pos.line}:{self.pos.col}: "
            f"{self.severity}: {self.message} [{self.code}]"
        )


class ProccError(Exception):
    """Base class of every error procc reports to the user (never a traceback)."""

    exit_code = 1


class UsageError(ProccError):
    """The command line itself is wrong (unknown procedure, bad flag value)."""

    exit_code = 2


class CompileError(ProccError):
    """A source file has one or more problems; all of them are in ``diagnostics``."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def step_ref(index: int, section: str = "steps") -> str:
    """A step as the runbook names it, with its place in the source: ``Paso 3 (steps[2])``.

    ``section``: ``steps``, ``preflight`` (``Paso P1``) or ``rollback.steps``
    (``Paso R1``). The runbook counts from 1, the source's list from 0: a
    diagnostic gives both, so it can be found in either.
    """
    prefix = {"steps": "", "preflight": "P", "rollback.steps": "R"}[section]
    return f"Paso {prefix}{index + 1} ({section}[{index}])"
