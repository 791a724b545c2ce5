"""Item 9 of issue 8: the runbook's Markdown is safe by construction.

Observed with markdown-it-py: hostile text in every free-text field, in
resource URLs and in the run history leaves the heading tree of the runbook
as it is with plain text, and yields no raw HTML, no image and no link other
than http, https and mailto.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import markdown as md
from compiler import runbook
from compiler.cli import main
from compiler.parse import parse_file
from tests.security import mdtree

FIXTURES = Path(__file__).parent / "fixtures"
PLAIN = FIXTURES / "md-plain.yml"
MARK = "Texto plano"  # every free-text field of md-plain.yml holds exactly this

HOSTILE = "\n".join([
    "```",
    "# Encabezado inyectado",
    "Titulo setext",
    "===",
    "---",
    "    codigo indentado",
    "> cita",
    "- lista",
    "+ lista",
    "1. numerada",
    "2) numerada",
    "<script>alert(1)</script>",
    "<div onclick=x>",
    "&lt;&amp;&#60;&#x3C;",
    "[enlace](javascript:alert(1)) ![img](http://x.example/y.png) <http://evil.example>",
    "<javascript:alert(1)> <a@b.example> [ref] [ref][] *em* _em_ __b__ ~~tachado~~ `codigo`",
    "| a | b |",
    "|---|---|",
    "[ref]: http://evil.example",
    "<!-- comentario",
    "- [ ] tarea \\",
    "~~~",
    "***",
    "#",
])


def _swap(data: Any, new: str) -> Any:
    if isinstance(data, dict):
        return {k: _swap(v, new) for k, v in data.items()}
    if isinstance(data, list):
        return [_swap(v, new) for v in data]
    return new if data == MARK else data


def _procedure(tmp_path: Path, text: str, name: str = "hostile", **fields: Any) -> Path:
    data = _swap(yaml.safe_load(PLAIN.read_text(encoding="utf-8")), text)
    for dotted, value in fields.items():
        here = data
        *path, last = dotted.split("__")
        for key in path:
            here = here[int(key)] if isinstance(here, list) else here[key]
        here[last] = value
    out = tmp_path / name / "PROC-SEC-001-x.yml"  # the same name: "Generado desde" is equal
    out.parent.mkdir(exist_ok=True)
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def _render(path: Path, lang: str = "es") -> tuple[str, mdtree.Tree]:
    src = parse_file(path, path.name)
    text = runbook.render(src.procedure, lang, source=src.display)  # type: ignore[arg-type]
    front, body = mdtree.split_front_matter(text)
    yaml.safe_load(front)  # the front matter is still one YAML document
    return front, mdtree.read(body)


def _clean(tree: mdtree.Tree) -> None:
    assert tree.html == []
    assert tree.images == []
    # Besides http(s)/mailto, only the runbook's own quick card (relative, quoted: compiler/quickcard.py).
    assert all(link.startswith(mdtree.ALLOWED) or re.fullmatch(r"quick/[A-Za-z0-9._%-]+\.md", link)
               for link in tree.links), tree.links


@pytest.mark.parametrize("lang", ["es", "en"])
def test_hostile_text_in_every_field_keeps_the_heading_tree(tmp_path: Path, lang: str) -> None:
    _, plain = _render(_procedure(tmp_path, MARK, "plain"), lang)
    front, hostile = _render(_procedure(tmp_path, HOSTILE), lang)
    assert hostile.shape == plain.shape
    assert len(plain.shape) > 40  # the whole template: sections, steps, problems, annexes
    _clean(hostile)
    # What a reader sees is the text itself, on one line, in every heading that holds it.
    flat = md.flat(HOSTILE)
    held = [text for (_, text), (_, was) in zip(hostile.headings, plain.headings, strict=True) if MARK in was]
    assert len(held) >= 7  # title, P1, two steps, R1, a problem, an annex
    for (_, text), (_, was) in zip(hostile.headings, plain.headings, strict=True):
        assert text == was.replace(MARK, flat)
    assert yaml.safe_load(front)["titulo"] == flat


def test_text_of_every_field_is_shown_verbatim(tmp_path: Path) -> None:
    _, plain = _render(_procedure(tmp_path, MARK, "plain"))
    _, hostile = _render(_procedure(tmp_path, HOSTILE))
    seen = [mdtree.inline_text(t) for t in plain.tokens if t.type == "inline"]
    shown = [mdtree.inline_text(t) for t in hostile.tokens if t.type == "inline"]
    assert len(seen) == len(shown)  # no paragraph, item or cell more or less
    flat = md.flat(HOSTILE)
    for was, now in zip(seen, shown, strict=True):
        assert now == was.replace(MARK, flat)


def test_unclosed_fence_in_purpose_cannot_swallow_sections(tmp_path: Path) -> None:
    _, plain = _render(_procedure(tmp_path, MARK, "plain"))
    path = _procedure(tmp_path, MARK, purpose__what="Antes\n```\n# no es un titulo\n~~~\ndespues")
    _, tree = _render(path)
    assert tree.shape == plain.shape
    assert not [t for t in tree.tokens if t.type in ("fence", "code_block")
                and "no es un titulo" in t.content]


def test_code_spans_stay_on_one_line(tmp_path: Path) -> None:
    """Values shown as inline code (a tool, an expected output, a default, a URL) hold line breaks."""
    _, plain = _render(_procedure(tmp_path, MARK, "plain"))
    evil = "x\n# no es un titulo\n```\n<b>"
    path = _procedure(tmp_path, MARK, prerequisites__tools__0__name=evil,
                      steps__0__validate__expect__stdout_contains=evil,
                      final_validation__health__0__url="http://x/" + evil,
                      parameters__workdir__default=evil,
                      # a default must match its own pattern: widen it for this one
                      parameters__workdir__pattern="(?s:.*)")
    _, tree = _render(path)
    assert tree.shape == plain.shape
    _clean(tree)


@pytest.mark.parametrize("url, link", [
    ("https://example.com/docs?a=1&b=2#x", "https://example.com/docs?a=1&b=2#x"),
    ("http://127.0.0.1:8080/health", "http://127.0.0.1:8080/health"),
    ("mailto:sre@example.com", "mailto:sre@example.com"),
    ("javascript:alert(1)", None),
    ("JaVaScRiPt:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("file:///etc/passwd", None),
    ("http://a.example/x><script>alert(1)</script>", None),
    ("https://a.example/x y", None),
    ("<script>alert(1)</script>", None),
    ("vbscript:msgbox(1)", None),
])
def test_resource_urls_become_links_only_for_http_https_mailto(tmp_path: Path, url: str, link: str | None) -> None:
    path = _procedure(tmp_path, MARK, references__resources__0__url=url)
    _, tree = _render(path)
    _clean(tree)
    assert [x for x in tree.links if not x.startswith("quick/")] == ([link] if link else [])
    shown = " ".join(mdtree.inline_text(t) for t in tree.tokens if t.type == "inline")
    assert f"{MARK}: {url}" in shown or f"{MARK}: {md.flat(url)}" in shown


LINES = [line for line in HOSTILE.split("\n")] + ["=", "-", "10.", "+", "  # x", "\\# x", "&copy;", "a_b_c", "_a", "a_"]


@pytest.mark.parametrize("line", LINES)
def test_one_line_of_text_stays_one_paragraph_item_and_heading(line: str) -> None:
    text = md.inline(line)
    for wrap, expect in ((f"{text}\n", ["paragraph_open", "inline", "paragraph_close"]),
                         (f"- {text}\n", ["bullet_list_open", "list_item_open", "paragraph_open", "inline",
                                          "paragraph_close", "list_item_close", "bullet_list_close"]),
                         (f"### Paso 1: {text}\n", ["heading_open", "inline", "heading_close"]),
                         (f"**Causa:** {text}\n", ["paragraph_open", "inline", "paragraph_close"])):
        tree = mdtree.read(wrap)
        if not line.strip():
            continue
        assert [t.type for t in tree.tokens] == expect, wrap
        inline = next(t for t in tree.tokens if t.type == "inline")
        shown = mdtree.inline_text(inline)
        assert shown.endswith(md.flat(line)), (wrap, shown)
        # Nothing but text, except a bare http(s) URL of the line, which is an autolink (MD034).
        children = inline.children or []
        assert [c.type for c in children if c.type not in ("text", "text_special", "strong_open", "strong_close",
                                                           "link_open", "link_close")] == []
        for c in children:
            if c.type == "link_open":
                href = str(c.attrs["href"])
                assert href.startswith(("http://", "https://")) and href in line, (line, href)


def test_table_cells_hold_pipes_and_markup() -> None:
    cells = [md.cell(x) for x in ("a | b", "<b>x</b>", "`c`", "[l](javascript:x)", "1. x")]
    tree = mdtree.read("| 1 | 2 | 3 | 4 | 5 |\n|---|---|---|---|---|\n| " + " | ".join(cells) + " |\n")
    _clean(tree)
    got = [mdtree.inline_text(t) for t in tree.tokens if t.type == "inline"][5:]
    assert got == ["a | b", "<b>x</b>", "`c`", "[l](javascript:x)", "1. x"]


def _history(project: Path, proc_id: str, **start: Any) -> Path:
    hist = project / "procedures" / "history" / f"{proc_id}.jsonl"
    hist.parent.mkdir(parents=True, exist_ok=True)
    base = {"schema": 1, "kind": "start", "run_id": "20260101T100000Z-aaaaaa", "procedure": proc_id,
            "version": "1.0.0", "start": "2026-01-01T10:00:00Z", "environment": "staging",
            "executor": "Ana", "approved_by": None, "drill": False, "check": False}
    end = {"schema": 1, "kind": "end", "run_id": "20260101T100000Z-aaaaaa", "end": "2026-01-01T10:10:00Z",
           "duration": 600, "outcome": "success", "rollbacks": [], "steps": []}
    hist.write_text(json.dumps({**base, **start}) + "\n" + json.dumps(end) + "\n", encoding="utf-8")
    return hist


def test_approved_by_script_from_history_is_text_not_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: ``--approved-by '<script>...'`` recorded, then ``procc compile``."""
    (tmp_path / "procedures").mkdir()
    shutil.copy(PLAIN, tmp_path / "procedures" / "PROC-SEC-001-plain.yml")
    evil = {"approved_by": "<script>alert('aprobado')</script>",
            "executor": "<img src=x onerror=alert(1)> | x | y",
            "environment": "[prod](javascript:alert(1))\n# titulo",
            "version": "1.0.0<b>"}
    _history(tmp_path, "PROC-SEC-001", **evil)
    monkeypatch.chdir(tmp_path)
    assert main(["compile", "-q"]) == 0
    text = (tmp_path / "docs" / "backend" / "procedures" / "PROC-SEC-001-plain.md").read_text(encoding="utf-8")
    _, body = mdtree.split_front_matter(text)
    tree = mdtree.read(body)
    _clean(tree)
    assert [x for x in tree.links if not x.startswith("quick/")] == ["https://example.com/docs"]
    _, plain = _render(PLAIN)
    assert tree.shape == plain.shape
    # The history table keeps its five columns, and the values are shown as typed.
    rows = []
    cells: list[str] = []
    for i, t in enumerate(tree.tokens):
        if t.type == "tr_open":
            cells = []
        if t.type in ("td_open", "th_open"):
            cells.append(mdtree.inline_text(tree.tokens[i + 1]))
        if t.type == "tr_close":
            rows.append(cells)
    run_row = next(r for r in rows if "Ana" in "".join(r) or "img" in "".join(r))
    assert len(run_row) == 5
    assert run_row[1] == evil["executor"]
    assert evil["approved_by"] in run_row[4]
    assert md.flat(evil["environment"]) in run_row[4]
