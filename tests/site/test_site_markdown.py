"""The site feeds MkDocs' Python-Markdown, which has no backslash escape for "<"."""

from __future__ import annotations

from compiler.site import for_mkdocs


def test_an_escaped_lt_outside_code_becomes_an_entity() -> None:
    assert for_mkdocs("a \\<script>x \\<img src=x>") == "a &lt;script>x &lt;img src=x>"


def test_code_spans_and_fences_keep_their_text() -> None:
    text = "y `\\<code>` and ``a ` \\<b`` z\n```bash\necho \\<x\n```\n~~~~\n\\<y\n~~~~\nafter \\<z"
    assert for_mkdocs(text) == ("y `\\<code>` and ``a ` \\<b`` z\n```bash\necho \\<x\n```\n~~~~\n\\<y\n~~~~\n"
                                "after &lt;z")
