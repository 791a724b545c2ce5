"""Direct tests of compiler.templating: which ``{{ }}`` are references, problems and their positions."""

from __future__ import annotations

import pytest

from compiler import templating as t
from compiler.templating import Problem, Ref


@pytest.fixture(autouse=True)
def _fresh_parse_cache() -> None:
    # _parse is memoised per process: without this, an expression another test
    # already parsed would never reach _reference again (and a broken one would pass).
    t._parse.cache_clear()


TAIL = " inside '{{ }}' is not allowed: only a declared parameter, optionally with filters taking literal arguments"


def test_builtin_names() -> None:
    assert frozenset({"inventory_hostname", "inventory_hostname_short", "ansible_host", "ansible_hostname",
                      "ansible_user", "procc_run_id", "procc_proc_id"}) == t.BUILTIN_NAMES


@pytest.mark.parametrize(("text", "refs"), [
    ("", []),
    ("no jinja", []),
    ("a {{ x }} b", [Ref("x", 2, 9)]),
    ("{{x}}", [Ref("x", 0, 5)]),
    ('{{x|default("d")|upper}}', [Ref("x", 0, 24, ("default", "upper"))]),
    ("{{ x | replace('a', 'b') | trim }}", [Ref("x", 0, 34, ("replace", "trim"))]),
    ("{{ x | d(k='v') }}", [Ref("x", 0, 18, ("d",))]),
    ("{{ a }}{{ b }}", [Ref("a", 0, 7), Ref("b", 7, 14)]),
    ("{{.State}} {{ x }}", [Ref("x", 11, 18)]),
    ("{{ ; {{ x }}", [Ref("x", 5, 12)]),
    ("{{ x", []),
    ("{{ x }} {{ y", [Ref("x", 0, 7)]),
    ("{{ x }} {% if %}", [Ref("x", 0, 7)]),
    ("}} {{ x }}", [Ref("x", 3, 10)]),
])
def test_scan_finds_every_reference_at_its_offsets(text: str, refs: list[Ref]) -> None:
    assert t.scan(text) == (refs, [])
    assert list(t.references(text)) == refs


@pytest.mark.parametrize(("text", "message"), [
    ("{{ x.y }}", "attribute access" + TAIL),
    ("{{ f() }}", "a call" + TAIL),
    ("{{ x[0] }}", "item access" + TAIL),
    ("{{ 1 }}", "a constant" + TAIL),
    ("{{ x + 1 }}", "an expression" + TAIL),
    ("{{ x | d(y) }}", "the arguments of filter 'd' must be literals"),
    ("{{ x | d(*a) }}", "the arguments of filter 'd' must be literals"),
    ("{{ x | d(**a) }}", "the arguments of filter 'd' must be literals"),
    ("{{ x | d(k=y) }}", "the arguments of filter 'd' must be literals"),
    ("{{ x | d('a', y) }}", "the arguments of filter 'd' must be literals"),
    ("{{ lookup('pipe', 'id') }}", "a call" + TAIL),
    ("{{ x.y | upper }}", "attribute access" + TAIL),
])
def test_scan_reports_what_is_not_a_reference(text: str, message: str) -> None:
    assert t.scan("ab " + text + " {{ z }}") == ([Ref("z", 4 + len(text), 11 + len(text))], [Problem(3, message)])


def test_only_one_output_is_a_reference() -> None:
    # Two outputs in one {{ }} cannot be written, but a template that is not a single Output can:
    assert t._reference(t._PARSER.parse("a{{ x }}")) == (None, "only '{{ parameter }}' is allowed here")
    assert t._reference(t._PARSER.parse("{% if x %}{% endif %}")) == (None, "only '{{ parameter }}' is allowed here")
    assert t._reference(t._PARSER.parse("{{ x }}")) == (("x", (), None), None)


def test_scan_with_allowed_names_reports_the_others() -> None:
    refs, problems = t.scan("{{ x }}{{ y }} {{ x | upper }}", frozenset({"x"}))
    assert refs == [Ref("x", 0, 7), Ref("x", 15, 30, ("upper",))]
    assert problems == [Problem(7, "'{{ y }}' is not a declared parameter; declare it under 'parameters'")]
    assert t.scan("{{ y }}", frozenset()) == ([], [Problem(0, "'{{ y }}' is not a declared parameter; "
                                                               "declare it under 'parameters'")])


def test_parse_returns_none_for_what_is_not_jinja() -> None:
    assert t._parse("{{.State}}") is None
    assert t._parse("{{ x }}") == ("x", (), None)
    assert t._parse("{{ f() }}") == (None, (), "a call" + TAIL)


def test_ref_text_len() -> None:
    assert Ref("x", 3, 10).text_len == 7


@pytest.mark.parametrize(("text", "expected"), [
    ("plain", "plain"),
    ("a {{ x }} b", "a {{ x }} b"),
    ("a {{ x }} {% raw %} {# c #} {{ y }} {{.S}}",
     "a {{ x }} {{ '{%' }} raw %} {{ '{#' }} c #} {{ '{{' }} y }} {{ '{{' }}.S}}"),
    ("{% x %}", "{{ '{%' }} x %}"),
    ("{{ x }}{{ x | upper }}!", "{{ x }}{{ x | upper }}!"),
    ("{# only #}", "{{ '{#' }} only #}"),
])
def test_to_ansible_keeps_allowed_references_and_prints_other_jinja(text: str, expected: str) -> None:
    assert t.to_ansible(text, frozenset({"x"})) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("{{ x }}", "{ { x } }"),
    ("{% y %}", "{ % y % }"),
    ("{# z #}", "{ # z # }"),
    ("}}{", "} } {"),
    ("{x} %", "{x} %"),
    ("a{b", "a{b"),
])
def test_neutralize_breaks_every_delimiter(text: str, expected: str) -> None:
    assert t.neutralize(text) == expected
