"""Reading a runbook back with markdown-it-py: its heading tree, HTML and links.

The parser is configured to be *more* permissive than a renderer would be:
tables are on and every link destination is accepted (markdown-it rejects
``javascript:`` by default, GitHub may not), so a link the runbook's text
could open is seen whatever its scheme.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED = ("http://", "https://", "mailto:")


def parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter, body): the YAML between the first two ``---`` lines, as GitHub reads it."""
    assert text.startswith("---\n")
    end = text.index("\n---\n", 4)
    return text[4:end], text[end + 5:]


def inline_text(tok: Token) -> str:
    """What a reader sees of an inline token (entities and escapes resolved)."""
    out = []
    for c in tok.children or []:
        if c.type in ("text", "text_special", "code_inline", "html_inline"):
            out.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            out.append(" ")
    return "".join(out)


@dataclass
class Tree:
    headings: list[tuple[str, str]]  # (tag, text)
    html: list[str]
    links: list[str]
    images: list[str]
    tokens: list[Token]

    @property
    def shape(self) -> list[str]:
        return [tag for tag, _ in self.headings]


def read(body: str) -> Tree:
    """Parse a runbook body (front matter removed)."""
    tokens = parser().parse(body)
    headings: list[tuple[str, str]] = []
    html: list[str] = []
    links: list[str] = []
    images: list[str] = []
    for i, t in enumerate(tokens):
        if t.type == "heading_open":
            headings.append((t.tag, inline_text(tokens[i + 1])))
        if t.type == "html_block":
            html.append(t.content)
        for c in t.children or []:
            if c.type == "html_inline":
                html.append(c.content)
            if c.type == "link_open":
                links.append(str(c.attrGet("href")))
            if c.type == "image":
                images.append(str(c.attrGet("src")))
    return Tree(headings, html, links, images, tokens)
