"""The blank template (``procc template``): the team's plantilla, placeholders in brackets.

It is the seed plantilla with only blank lines added so that a Markdown
linter accepts it; its heading tree and frontmatter keys are the seed's.
"""

from __future__ import annotations

from importlib.resources import files


def template() -> str:
    """The blank procedure template as Markdown text."""
    return files("compiler").joinpath("templates/plantilla.md").read_text(encoding="utf-8")
