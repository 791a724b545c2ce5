"""Direct tests of compiler.markdown: the exact output of each escaping and building function.

Each case pins one rule of the module (which character is escaped where, how
long a fence grows, when inline code is padded, which URLs become links), so
that changing the rule fails a named case (tests/MUTATION.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from compiler import markdown as md


@pytest.mark.parametrize(("body", "expected"), [
    ("ls\n", "```bash\nls\n```"),
    ("a `b` c", "```bash\na `b` c\n```"),
    ("``` inside", "````bash\n``` inside\n````"),
    ("x ````` y", "``````bash\nx ````` y\n``````"),
    ("keep  \n\n", "```bash\nkeep  \n```"),  # only line breaks are trimmed, not spaces
    ("endsX", "```bash\nendsX\n```"),
])
def test_fence_grows_past_the_longest_backtick_run(body: str, expected: str) -> None:
    assert md.fence(body) == expected


def test_fence_language() -> None:
    assert md.fence("SELECT 1", lang="sql") == "```sql\nSELECT 1\n```"


@pytest.mark.parametrize(("text", "expected"), [
    ("ls -l", "`ls -l`"),
    ("a\nb\r\nc\rd", "`a b c d`"),
    ("a`b", "``a`b``"),
    ("x``y`", "``` x``y` ```"),
    ("`a", "`` `a ``"),
    ("a`", "`` a` ``"),
    (" a ", "`  a  `"),  # CommonMark strips one space each side: padded back
    (" a", "` a`"),
    ("a ", "`a `"),
    ("", "``"),
])
def test_code_span_delimiters_and_padding(text: str, expected: str) -> None:
    assert md.code(text) == expected


@pytest.mark.parametrize(("text", "start", "middle"), [
    ("plain words", "plain words", "plain words"),
    ("a*b_c", "a\\*b_c", "a\\*b_c"),
    ("snake_case", "snake_case", "snake_case"),
    ("_x_", "\\_x\\_", "\\_x\\_"),
    ("a _b", "a \\_b", "a \\_b"),
    ("b_ a", "b\\_ a", "b\\_ a"),
    ("# h", "\\# h", "# h"),
    ("## h ##", "\\## h \\#\\#", "## h \\#\\#"),
    ("x#", "x\\#", "x\\#"),
    ("x#y", "x#y", "x#y"),
    ("1. x", "1\\. x", "1. x"),
    ("2) y", "2\\) y", "2) y"),
    ("123456789. x", "123456789\\. x", "123456789. x"),
    ("1234567890. x", "1234567890. x", "1234567890. x"),
    ("- a", "\\- a", "- a"),
    ("+ b", "\\+ b", "+ b"),
    ("=== ", "\\=== ", "=== "),
    ("a - b", "a - b", "a - b"),
    ("a & b", "a & b", "a & b"),
    ("&amp;", "\\&amp;", "\\&amp;"),
    ("&#12;", "\\&#12;", "\\&#12;"),
    ("<b>", "\\<b>", "\\<b>"),
    ("> cita", "\\> cita", "> cita"),  # a quote only where a line starts
    (">=5.0 y a > b", "\\>=5.0 y a > b", ">=5.0 y a > b"),
    ("<!-- x -->", "\\<!-- x -->", "\\<!-- x -->"),
    ("a|b", "a\\|b", "a\\|b"),
    ("[l](u)", "\\[l\\](u)", "\\[l\\](u)"),
    ("a\\b", "a\\\\b", "a\\\\b"),
    ("~~s~~", "\\~\\~s\\~\\~", "\\~\\~s\\~\\~"),
    ("`x`", "\\`x\\`", "\\`x\\`"),
])
def test_escape_at_line_start_and_inside_a_line(text: str, start: str, middle: str) -> None:
    assert md.escape(text) == start
    assert md.escape(text, line_start=True) == start
    assert md.escape(text, line_start=False) == middle


def test_flat_joins_every_whitespace_run() -> None:
    assert md.flat("  a \n\t b\r\n\nc  ") == "a b c"
    assert md.flat("") == ""


def test_inline_cell_span() -> None:
    assert md.inline("# a\n|b|") == "\\# a \\|b\\|"
    assert md.cell("# a\n|b|") == "# a \\|b\\|"
    assert md.span("- a\n<b>") == "- a \\<b>"
    assert md.cell("1. x") == "1. x"
    assert md.span("+ x") == "+ x"


@pytest.mark.parametrize(("text", "expected"), [
    ("one\ntwo", "one two"),
    ("a\n\nb", "a\n\nb"),
    ("a\n  \n\n b", "a\n\nb"),
    ("\n\n# t\n\n\n- l\n\n", "\\# t\n\n\\- l"),
    ("", ""),
    ("   \n\n  ", ""),
])
def test_paragraph_keeps_blank_line_breaks_and_escapes_each(text: str, expected: str) -> None:
    assert md.paragraph(text) == expected


@pytest.mark.parametrize(("url", "ok"), [
    ("https://example.com/x?y=1", True),
    ("http://example.com", True),
    ("HTTPS://example.com", True),
    ("mailto:ops@example.com", True),
    ("MAILTO:ops@example.com", True),
    ("", False),
    ("javascript:alert(1)", False),
    ("ftp://example.com", False),
    ("http:foo", False),
    ("https:/path", False),
    ("mailto:", False),
    ("https://exa mple.com", False),
    ("https://example.com/<x>", False),
    ("https://example.com/\"", False),
    ("https://example.com/'", False),
    ("https://example.com/`", False),
    ("https://example.com/\\", False),
    ("https://example.com/\x00", False),
    ("https://example.com/\x7f", False),
    ("https://[::1", False),  # urlsplit raises ValueError
    ("example.com", False),
])
def test_safe_url(url: str, ok: bool) -> None:
    assert md.safe_url(url) == (url if ok else None)


def test_link_is_an_autolink_only_for_a_safe_url() -> None:
    assert md.link("https://example.com/a") == "<https://example.com/a>"
    assert md.link("mailto:a@b.c") == "<mailto:a@b.c>"
    assert md.link("javascript:alert(1)") == "javascript:alert(1)"
    assert md.link("[x](javascript:y)") == "\\[x\\](javascript:y)"
    assert md.link("# not <b>") == "\\# not \\<b>"


@pytest.mark.parametrize(("text", "expected"), [
    ("a\n\n\n\nb", "a\n\nb\n"),
    ("\n\na\n\n", "a\n"),
    ("  \nabc", "abc\n"),
    ("a  \n  b  ", "a\n  b\n"),
    ("Xa\nbX", "Xa\nbX\n"),
    ("x\n```\nkeep  \n\n\n\n  indented\n```\n\n\n\ny", "x\n```\nkeep  \n\n\n\n  indented\n```\n\ny\n"),
    ("~~~\n```\n\n\n~~~\nafter  \n\n\n", "~~~\n```\n\n\n~~~\nafter\n"),
    ("````\n```\n\n\n````\n\n\nz", "````\n```\n\n\n````\n\nz\n"),
    ("```\n``` not a close\n\n\n```", "```\n``` not a close\n\n\n```\n"),
    ("   ```sh\na  \n\n\n   ```", "   ```sh\na  \n\n\n   ```\n"),
    ("    ```\na  \n\n\nb", "    ```\na\n\nb\n"),  # four spaces: indented code, not a fence
    ("```\nopen fence  ", "```\nopen fence  \n"),
])
def test_tidy_collapses_blank_lines_outside_fences_only(text: str, expected: str) -> None:
    assert md.tidy(text) == expected


def test_tidy_after_a_closed_fence_counts_blank_lines_afresh() -> None:
    assert md.tidy("```\na\n```\n\n\nb\n\n\nc") == "```\na\n```\n\nb\n\nc\n"


@pytest.mark.parametrize(("text", "start", "expected"), [
    ("no url here", "no url here", "no url here"),
    ("see https://x.example/a_b. then", "see <https://x.example/a_b>. then", "see <https://x.example/a_b>. then"),
    # Escaped as a line start only before the first URL, and only when the text may start a line.
    ("# https://a.example/x and http://b.example/y", "\\# <https://a.example/x> and <http://b.example/y>",
     "# <https://a.example/x> and <http://b.example/y>"),
    ("- https://a.example", "\\- <https://a.example>", "- <https://a.example>"),
    ("1. https://a.example", "1\\. <https://a.example>", "1. <https://a.example>"),
    ("https://a.example # x *y*", "<https://a.example> # x \\*y\\*", "<https://a.example> # x \\*y\\*"),
    ("https://a.example\n- b", "<https://a.example> - b", "<https://a.example> - b"),
    # Sentence punctuation and an unbalanced bracket stay outside the link; a balanced one inside.
    ("go to https://a.example/p) now", "go to <https://a.example/p>) now", "go to <https://a.example/p>) now"),
    ("(see https://a.example/f(x))", "(see <https://a.example/f(x)>)", "(see <https://a.example/f(x)>)"),
    ("HTTPS://A.EXAMPLE/Z;", "<HTTPS://A.EXAMPLE/Z>;", "<HTTPS://A.EXAMPLE/Z>;"),
    ("https://a.example/#frag!", "<https://a.example/#frag>!", "<https://a.example/#frag>!"),
    ("https://a.example:8080/p?q=1&r=2, fin", "<https://a.example:8080/p?q=1&r=2>, fin",
     "<https://a.example:8080/p?q=1&r=2>, fin"),
    ("x https://a.example/_b_ *c*", "x <https://a.example/_b_> \\*c\\*", "x <https://a.example/_b_> \\*c\\*"),
    ("https://a.example https://a.example", "<https://a.example> <https://a.example>",
     "<https://a.example> <https://a.example>"),
    # Not a link: another scheme, or a URL without a host.
    ("javascript:alert(1) https://ok.example", "javascript:alert(1) <https://ok.example>",
     "javascript:alert(1) <https://ok.example>"),
    ("https:///nohost *x*", "https:///nohost \\*x\\*", "https:///nohost \\*x\\*"),
])
def test_linked_turns_safe_urls_into_autolinks_and_escapes_the_rest(text: str, start: str, expected: str) -> None:
    assert md.linked(text) == start
    assert md.linked(text, line_start=False) == expected


# Bare URLs in every free-text helper (issue 13 item 7): each goes through linked().
@pytest.mark.parametrize(("helper", "text", "out"), [
    (md.inline, "Ver https://a.example/x_y.", "Ver <https://a.example/x_y>."),
    (md.inline, "https://a.example/x *b*", "<https://a.example/x> \\*b\\*"),
    (md.inline, "# https://a.example", "\\# <https://a.example>"),
    (md.span, "# https://a.example", "# <https://a.example>"),  # never at a line start
    (md.cell, "a | https://a.example/p", "a \\| <https://a.example/p>"),
    (md.paragraph, "uno https://a.example/1\n\ndos\nhttps://b.example/2", "uno <https://a.example/1>\n\ndos <https://b.example/2>"),
    (md.inline, "javascript:alert(1) <https://a.example>", "javascript:alert(1) \\<<https://a.example>>"),
    (md.inline, "ftp://a.example/x", "ftp://a.example/x"),
    (md.inline, "https://bücher.example/x y", "https://bücher.example/x y"),  # never a link to 'https://b'
    (md.inline, "https://a.example/x ñ", "<https://a.example/x> ñ"),
])
def test_free_text_helpers_link_bare_urls(helper: Any, text: str, out: str) -> None:
    assert helper(text) == out


@pytest.mark.parametrize(("url", "out"), [
    ("https://a.example/x y", "https://a.example/x y"),  # refused whole: no part of it is a link
    ("http://a.example/x><b>", "http://a.example/x>\\<b>"),
    ("https://a.example/ok", "<https://a.example/ok>"),
])
def test_a_refused_url_is_text_with_no_link_inside(url: str, out: str) -> None:
    assert md.link(url) == out
