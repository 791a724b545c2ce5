"""governance: the version history explains the current version."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.model import SEMVER
from compiler.parse import Source


def _key(version: str) -> tuple[int, ...]:
    core = version.split("-", 1)[0].split("+", 1)[0]
    return tuple(int(p) for p in core.split("."))


class VersionInChangelog(Rule):
    """The ``changelog`` has no entry for ``version``, or an entry is not semver or newer.

    The runbook's "Historial de Versiones" is generated from ``changelog``;
    a version bump without an entry leaves readers guessing what changed.
    ``version`` itself is checked as semver by the compiler.

    Bad::

        version: 1.1.0
        changelog:
          - {version: 1.0.0, date: 2026-10-01, author: Ana, changes: Version inicial}

    Good::

        version: 1.1.0
        changelog:
          - {version: 1.0.0, date: 2026-10-01, author: Ana, changes: Version inicial}
          - {version: 1.1.0, date: 2026-11-20, author: Ana, changes: Paso de backup}
    """

    id = "version-in-changelog"
    severity = "error"
    perspectives = ("governance",)
    summary = "version is semver and the version history has an entry for it"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        current = _key(proc.version)
        for i, change in enumerate(proc.changelog):
            loc = ("changelog", i, "version")
            if not SEMVER.match(change.version):
                yield self.report(source, source.smap.value(loc),
                                  f"changelog version '{change.version}' is not semantic (MAJOR.MINOR.PATCH)")
            elif _key(change.version) > current:
                yield self.report(source, source.smap.value(loc),
                                  f"changelog version {change.version} is newer than version {proc.version}")
        if not any(c.version == proc.version for c in proc.changelog):
            yield self.report(source, source.smap.value(("version",)),
                              f"version {proc.version} has no entry in 'changelog'")
