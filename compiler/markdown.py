"""Markdown building blocks that keep the runbook valid whatever the text holds.

Safe by construction: every piece of free text goes through :func:`inline`,
:func:`cell` or :func:`paragraph`, which escape each character CommonMark (and
GitHub's tables and strikethrough) could read as syntax, so no text can open a
heading, a fence, a list, a quote, raw HTML, an entity, a link or emphasis,
whatever it holds. Code fences grow longer than any backtick run inside them,
inline code picks a safe delimiter and stays on one line, and links are made
only from http, https and mailto URLs (:func:`link`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_BACKTICKS = re.compile(r"`+")
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

# Escaped wherever they appear, with a backslash (CommonMark reads "\\<" as
# a plain "<", and the source stays readable: no "&lt;"): escapes themselves
# (\\), code (`), emphasis and strikethrough (* ~), links and images ([ ]),
# table cells (|), raw HTML and autolinks (<: every tag, comment and autolink
# opens with it, so an escaped "<" leaves a ">" nothing to close), a character
# reference (&name; &#123;), the closing "#" run of a heading (at the end of
# the text), and "_" unless it sits between two letters or digits (where it
# can neither open nor close emphasis). A ">" is syntax only where a line
# starts (a block quote): escaped there only.
_SYNTAX = re.compile(r"[\\`*~\[\]|<]|&(?=#|[A-Za-z0-9])|(?<![^\W_])_|_(?![^\W_])|#(?=#*$)")
# At the start of a line a text could open a block: a heading ("#"), a quote
# (">"), a list item ("-", "+", "1." or "1)"), a thematic break or setext
# underline ("---", "==="), or, with its leading spaces, indented code (the
# text is stripped before this; "*", "_", "<", "`", "~", "|" and "[" are
# escaped anywhere).
_LINE_START = re.compile(r"^([-+=#>])|^(\d{1,9})([.)])")

ALLOWED_SCHEMES = ("http", "https", "mailto")
# Characters a CommonMark autolink cannot hold, or that a reader would not
# expect in a link: whitespace, controls, angle brackets, quotes, backslash.
_URL_BAD = re.compile(r"[\s\x00-\x1f\x7f<>\"'`\\]")


def fence(body: str, lang: str = "bash") -> str:
    """A fenced code block around ``body``, longer than any backtick run in it."""
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(body)), default=0)
    ticks = "`" * max(3, longest + 1)
    text = body.rstrip("\n")
    return f"{ticks}{lang}\n{text}\n{ticks}"


def code(text: str) -> str:
    """Inline code span for ``text`` (handles backticks inside; always one line).

    A line break inside the span would let the next line start a block (a
    heading, a fence), so line breaks become spaces, as CommonMark renders
    them anyway.
    """
    text = re.sub(r"\r\n|\r|\n", " ", text)
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) \
        else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def escape(text: str, line_start: bool = True) -> str:
    """``text`` (one line, already flattened) with every Markdown construct escaped.

    ``line_start``: the text may begin a line (a list item, a paragraph), so
    what opens a block there is escaped too; a table cell never begins a line.
    """
    out = _SYNTAX.sub(lambda m: "\\" + m.group(0), text)
    if not line_start:
        return out
    return _LINE_START.sub(lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", out)


def flat(text: str) -> str:
    """``text`` on one line: every run of whitespace (line breaks included) is one space."""
    return " ".join(text.split())


# An http(s) URL inside free text: printable ASCII up to whitespace or a
# character no link should hold (a pipe too: it would split a table cell
# before any link). Non-ASCII ends it: a link's target is then exactly the
# text shown (no punycode host, no percent-encoding a reader cannot see).
_URL_IN_TEXT = re.compile(r"https?://(?:(?![<>\"'`\\|])[\x21-\x7e])+", re.IGNORECASE)
_URL_TAIL = ".,;:!?"


def _url_end(url: str) -> str:
    """``url`` without the sentence punctuation after it (a final ')' only when unbalanced)."""
    while url:
        if url[-1] in _URL_TAIL or (url[-1] in ")]}" and url.count(url[-1]) > url.count("([{"[")]}".index(url[-1])])):
            url = url[:-1]
        else:
            break
    return url


def linked(text: str, line_start: bool = True) -> str:
    """``text`` (flattened to one line) escaped as :func:`inline` does, each safe http(s) URL in it as an autolink.

    A bare URL is what Markdown linters reject (MD034) and what a reader
    wants to click; the rest of the text stays escaped, and a URL
    :func:`safe_url` refuses stays plain escaped text.
    """
    text = flat(text)
    out: list[str] = []
    pos = 0
    for m in _URL_IN_TEXT.finditer(text):
        url = _url_end(m.group(0))
        after = text[m.end():m.end() + 1]
        if m.start() < pos or safe_url(url) is None or (after and not after.isspace() and after > "~"):
            continue  # refused, or cut short by a non-ASCII character: left as text
        out.append(escape(text[pos:m.start()], line_start and pos == 0))
        out.append(f"<{url}>")
        pos = m.start() + len(url)
    out.append(escape(text[pos:], line_start and pos == 0))
    return "".join(out)


# Every free-text helper below goes through linked(): a bare http(s) URL in
# any field the runbook prints (a description, a step's expected result, a
# troubleshooting note) becomes an autolink, so pymarkdown's MD034 (bare URL)
# never fires on a runbook, while the rest of the text stays escaped.


def inline(text: str) -> str:
    """Free text on one line: no raw HTML, no line breaks, no Markdown syntax; safe URLs as links."""
    return linked(text)


def cell(text: str) -> str:
    """Free text inside a table cell (never at the start of a line; pipes escaped); safe URLs as links."""
    return linked(text, line_start=False)


def span(text: str) -> str:
    """Free text on one line, placed after other text on its line (a label, a dash); safe URLs as links."""
    return linked(text, line_start=False)


def paragraph(text: str) -> str:
    """Free text that may span lines; blank lines are kept as paragraph breaks; safe URLs as links."""
    paras = [flat(p) for p in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(linked(p) for p in paras if p)


def safe_url(url: str) -> str | None:
    """``url`` if it may become a link (http, https or mailto, nothing odd inside), else None."""
    if not url or _URL_BAD.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return None
    if parts.scheme.lower() in ("http", "https") and not parts.netloc:
        return None
    if parts.scheme.lower() == "mailto" and not parts.path:
        return None
    return url


def link(url: str) -> str:
    """``url`` as an autolink when :func:`safe_url` allows it, else as plain escaped text."""
    good = safe_url(url)
    # A refused URL is shown whole as text: no part of it becomes a link.
    return f"<{good}>" if good is not None else escape(flat(url))


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
