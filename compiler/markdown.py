"""Markdown building blocks that keep the runbook valid whatever the text holds.

Code fences grow longer than any backtick run inside them, inline code picks
a safe delimiter, and free text is escaped just enough that a title can never
open HTML or break a table.
"""

from __future__ import annotations

import re

_BACKTICKS = re.compile(r"`+")
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def fence(body: str, lang: str = "bash") -> str:
    """A fenced code block around ``body``, longer than any backtick run in it."""
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(body)), default=0)
    ticks = "`" * max(3, longest + 1)
    text = body.rstrip("\n")
    return f"{ticks}{lang}\n{text}\n{ticks}"


def code(text: str) -> str:
    """Inline code span for ``text`` (handles backticks inside)."""
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def inline(text: str) -> str:
    """Free text on one line: no raw HTML, no line breaks, no stray emphasis."""
    flat = " ".join(text.split())
    return _escape(flat)


def _escape(text: str) -> str:
    # A lone "*" (a cron line, "5 * * * *") would open emphasis.
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*")


def cell(text: str) -> str:
    """Free text inside a table cell."""
    return inline(text).replace("|", "\\|")


def paragraph(text: str) -> str:
    """Free text that may span lines; blank lines are kept as paragraph breaks."""
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(_escape(p) for p in paras if p)


def tidy(text: str) -> str:
    """Collapse runs of blank lines outside code fences; end with one newline.

    Inside a fence every byte is kept, so commands stay copy-pasteable.
    """
    out: list[str] = []
    fence_open: str | None = None
    blank = 0
    for line in text.split("\n"):
        match = _FENCE_LINE.match(line)
        if fence_open is None:
            if match:
                fence_open = match.group(1)
            if not line.strip():
                blank += 1
                if blank > 1:
                    continue
            else:
                blank = 0
            out.append(line.rstrip())
        else:
            if match and match.group(1)[0] == fence_open[0] and len(match.group(1)) >= len(fence_open) \
                    and not line.strip()[len(match.group(1)):]:
                fence_open = None
                blank = 0
            out.append(line)
    return "\n".join(out).strip("\n") + "\n"
