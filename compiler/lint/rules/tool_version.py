"""dev: required tools say which version."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source


class ToolVersion(Rule):
    """A tool in ``prerequisites.tools`` has no ``version``.

    "kubectl version X.Y.Z o superior": flags and output formats change
    between versions; a new team member installs the wrong one otherwise.

    Bad::

        prerequisites:
          tools: [{name: psql}]

    Good::

        prerequisites:
          tools: [{name: psql, version: ">=15"}]
    """

    id = "tool-version"
    severity = "warning"
    perspectives = ("dev",)
    summary = "tools in prerequisites name versions"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for i, tool in enumerate(source.procedure.prerequisites.tools):
            if not tool.version:
                yield self.report(source, source.smap.value(("prerequisites", "tools", i)),
                                  f"tool '{tool.name}' has no version")
