"""Properties of the pure functions where safety lives (Hypothesis; fast layer).

- Markdown escaping (compiler/markdown.py): any text, once escaped, reads
  back through markdown-it-py as exactly that text, in one paragraph, list
  item, heading or table cell, with no heading, fence, HTML, link or image.
- YAML output (compiler/yamlout.py) reads back through procc's own loader
  (compiler/loader.py) as the same data.
- Parameter validation (compiler/model.py ``Parameter.problem``, used by
  compiler/params.py) agrees with ``re.fullmatch`` for patterns and with the
  documented type rules, and the compiled playbook's checks (Ansible's
  ``match`` test is ``re.match``) agree with it.
- Templating (compiler/templating.py) accepts exactly the declared names.

Example counts are bounded so the fast layer stays fast; CI loads the
derandomized ``ci`` profile (tests/conftest.py), so a failure there is
reproducible; locally Hypothesis explores and shrinks.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from compiler import markdown as md
from compiler import playbook, templating, yamlout
from compiler.loader import load_text
from compiler.model import Parameter
from compiler.parse import parse_text
from tests.security import mdtree
from tests.security.support import source

# -- Markdown -----------------------------------------------------------------------------------

# Whatever CommonMark (with GitHub's tables and strikethrough) reads as syntax,
# mixed into any unicode text (no NUL or lone surrogates: no runbook holds them).
MD_META = ["#", "# ", "## ", "```", "~~~", "    ", "\t", "\n", "\n\n", "<", ">", "<b>", "</b>", "<!--", "-->",
           "<script>", "[", "]", "](", "(", ")", "![", "](http://e.x)", "<http://e.x>", "http://e.x", "www.e.x",
           "*", "**", "_", "__", "~", "~~", "`", "``", "|", "&", "&amp;", "&#123;", "&#x41;", "&copy;", "\\",
           "-", "- ", "+ ", "* ", "1.", "1)", "123456789.", "=", "===", "---", "***", "> ", ":", "!", "[x]: /u"]
MD_TEXT = st.lists(st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                             st.sampled_from(MD_META)), max_size=16).map("".join)
PLAIN_INLINE = {"text", "text_special"}
# A bare http(s) URL of the text becomes an autolink (MD034): the only construct allowed in.
LINKED_INLINE = PLAIN_INLINE | {"link_open", "link_close"}


def _links_from(links: list[str], text: str) -> None:
    """Every link is an http(s) URL written in ``text`` (flattened): nothing else links."""
    for href in links:
        # The parser percent-encodes what a URL cannot hold raw.
        assert href.lower().startswith(("http://", "https://")) and unquote(href) in md.flat(text), (href, text)


def _only_text(inline: Any, allowed: set[str] = PLAIN_INLINE) -> None:
    kinds = [c.type for c in inline.children or [] if c.type not in allowed]
    assert kinds == [], kinds


@given(MD_TEXT)
@settings(max_examples=200)
def test_escaped_text_reads_back_as_itself_in_every_block(text: str) -> None:
    shown = md.flat(text)
    assume(shown)
    esc = md.inline(text)
    for wrap, shape in ((f"{esc}\n", ["paragraph_open", "inline", "paragraph_close"]),
                        (f"- {esc}\n", ["bullet_list_open", "list_item_open", "paragraph_open", "inline",
                                        "paragraph_close", "list_item_close", "bullet_list_close"]),
                        (f"### Paso 1: {md.span(text)}\n", ["heading_open", "inline", "heading_close"])):
        tree = mdtree.read(wrap)
        assert [t.type for t in tree.tokens] == shape, (wrap, [t.type for t in tree.tokens])
        assert tree.html == [] and tree.images == []
        _links_from(tree.links, text)
        inline = next(t for t in tree.tokens if t.type == "inline")
        _only_text(inline, LINKED_INLINE)
        assert mdtree.inline_text(inline).removeprefix("Paso 1: ") == shown, wrap


@given(MD_TEXT, MD_TEXT)
@settings(max_examples=150)
def test_escaped_cells_stay_in_their_column(left: str, right: str) -> None:
    tree = mdtree.read(f"| a | b |\n|---|---|\n| {md.cell(left)} | {md.cell(right)} |\n")
    assert tree.html == [] and tree.images == [] and tree.headings == []
    _links_from(tree.links, left + " " + right)
    cells = [t for t in tree.tokens if t.type == "inline"][2:]
    assert [mdtree.inline_text(c) for c in cells] == [md.flat(left), md.flat(right)]
    for c in cells:
        _only_text(c, LINKED_INLINE)


@given(MD_TEXT)
@settings(max_examples=150)
def test_paragraphs_keep_their_text_and_open_no_block(text: str) -> None:
    paras = [md.flat(p) for p in re.split(r"\n\s*\n", text.strip())]
    paras = [p for p in paras if p]
    tree = mdtree.read(md.paragraph(text) + "\n")
    assert [t.type for t in tree.tokens] == ["paragraph_open", "inline", "paragraph_close"] * len(paras)
    assert tree.html == [] and tree.images == []
    _links_from(tree.links, text)
    inlines = [t for t in tree.tokens if t.type == "inline"]
    assert [mdtree.inline_text(t) for t in inlines] == paras
    for t in inlines:
        _only_text(t, LINKED_INLINE)


# -- YAML output through the loader ---------------------------------------------------------------

YAML_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", "yes", "no", "on", "off", "null", "~", "1", "0o17", "0x1F", "1e3", ".inf", "-", "- a", ": b", "#c",
     "'", '"', "{{ x }}", "!unsafe", "&a", "*a", "|", ">", "---", "...", " lead", "trail ", "a\nb", "a\n",
     "\ttab", "\x85", "\u2028", "2026-01-01", "12:30", "%x", "@x", "`x", "?", "? x"])
SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | YAML_TEXT
DATA = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(YAML_TEXT, inner, max_size=4), max_leaves=20)


@given(st.dictionaries(YAML_TEXT, DATA, min_size=1, max_size=5))
@settings(max_examples=100)
def test_yaml_output_reads_back_through_the_loader(data: dict[str, Any]) -> None:
    text = yamlout.dump(data)
    loaded, _ = load_text(text, "out.yml")
    assert loaded == data


# -- Parameter validation -----------------------------------------------------------------------

PATTERNS = [r"^v\d+\.\d+\.\d+|latest$", r"[a-z]+", r"\d{2,5}", r"a|b$", r"x*", r"v1|v1\.2", r"(a|ab)(c|bcd)",
            r".", r"[^/]+", r"a\Z|b", r"(?i:prod)"]
VALUES = st.text(st.characters(blacklist_characters="\x00"), max_size=12) | st.sampled_from(
    ["v1.2.3", "latest", "v1.2.3-evil; rm -rf /", "v1.2.3\n", "a\n", "b", "ab", "abcd", "abc", "v1.2", "x" * 5,
     "12", "123456", "PROD", "-1", "65535", "65536", "0", "1" * 19, "/a/b", "-rf", "http://x", "https://", "yes",
     "TRUE", "Off", "1\n", "１２"])


def _type_ok(ptype: str, value: str) -> bool:
    """The documented type rules, written without regular expressions (an independent oracle)."""
    digits = set("0123456789")
    if ptype == "int":
        body = value[1:] if value.startswith("-") else value
        return 1 <= len(body) <= 18 and set(body) <= digits
    if ptype == "port":
        return 1 <= len(value) <= 5 and set(value) <= digits and 1 <= int(value) <= 65535
    if ptype == "bool":
        return value.lower() in {"true", "false", "yes", "no", "1", "0", "on", "off"}
    if ptype == "path":
        return value != "" and not value.startswith("-") and not set(value) & {"\r", "\n"}
    if ptype == "url":
        scheme, sep, rest = value.partition("://")
        return bool(sep) and scheme.lower() in ("http", "https") and rest != "" and not any(
            c.isspace() or c == "\x00" for c in rest)
    return True


def _playbook_checks(param: Parameter) -> dict[str, Any]:
    """The vars of the compiled playbook's parameter check for ``p`` (built from a real source)."""
    decl = param.model_dump(exclude_defaults=True)
    text = source("parameters:\n  p: " + json.dumps(decl) + "\nsteps:\n  - title: Uno\n    minutes: 1\n    run: echo {{ p }}\n    irreversible: prueba\n")
    found: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.update({k: v for k, v in node.items() if isinstance(k, str) and k.startswith("procc_")
                          and k.endswith("_p")})
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(playbook.build(parse_text(text, "p.yml")))
    return found


@given(st.sampled_from(PATTERNS), VALUES)
@settings(max_examples=300)
def test_pattern_check_is_fullmatch_in_procc_and_in_the_playbook(pattern: str, value: str) -> None:
    param = Parameter(pattern=pattern)
    agrees = re.fullmatch(pattern, value) is not None
    assert (param.problem(value) is None) == agrees
    # The playbook checks the value with Ansible's `match` test, which is re.match.
    anchored = _playbook_checks(param)["procc_pattern_p"]
    assert (re.match(anchored, value) is not None) == agrees


@given(st.sampled_from(["string", "int", "port", "bool", "path", "url"]), VALUES)
@settings(max_examples=300)
def test_type_check_follows_the_documented_rules_in_procc_and_in_the_playbook(ptype: str, value: str) -> None:
    param = Parameter(type=ptype)  # type: ignore[arg-type]
    assert (param.problem(value) is None) == _type_ok(ptype, value), (ptype, value, param.problem(value))
    checks = _playbook_checks(param)
    if ptype in ("int", "port", "path", "url", "bool"):
        type_re = checks.get("procc_type_p")
        in_playbook = type_re is None or re.match(type_re, value) is not None
        if ptype == "port" and in_playbook:
            in_playbook = 1 <= int(value) <= 65535
        assert in_playbook == _type_ok(ptype, value), (ptype, value, type_re)


# -- Templating ---------------------------------------------------------------------------------

# Names with an underscore are never a Jinja keyword or constant (in, not, true ...).
NAMES = st.from_regex(r"[a-z]{1,3}_[a-z0-9_]{0,5}", fullmatch=True)
FILLER = st.text(st.characters(blacklist_characters="{}\x00", blacklist_categories=("Cs",)), max_size=8)


@given(st.sets(NAMES, max_size=4), st.lists(st.tuples(FILLER, NAMES, st.booleans()), max_size=6), FILLER)
@settings(max_examples=150)
def test_templating_accepts_exactly_the_declared_names(declared: set[str], parts: list[tuple[str, str, bool]],
                                                        tail: str) -> None:
    text = "".join(f"{fill}{{{{ {name}{' | quote' if filt else ''} }}}}" for fill, name, filt in parts) + tail
    refs, problems = templating.scan(text, frozenset(declared))
    used = [name for _, name, _ in parts]
    assert [r.name for r in refs] == [n for n in used if n in declared]
    assert len(problems) == len([n for n in used if n not in declared])
    for problem, name in zip(problems, [n for n in used if n not in declared], strict=True):
        assert f"'{{{{ {name} }}}}' is not a declared parameter" in problem.message
        assert text[problem.offset:].startswith("{{ " + name)
    for ref in refs:
        assert text[ref.offset:ref.end].startswith("{{ " + ref.name)
