"""Direct tests of compiler.yamlout: exact documents, the fast (libyaml) path equal to the slow one."""

from __future__ import annotations

import datetime
import gc

import pytest
import yaml

from compiler import yamlout as y
from compiler.yamlout import Unsafe

DOC = {
    "a": [1, {"b": [2, 3]}, "x"],
    "c": {"d": ["e"], "empty": [], "none": {}},
    "s": "multi\nline",
    "u": Unsafe("{{ x }}"),
    "v": Unsafe("plain"),
    "w": Unsafe("{% if %}\nx"),
    "f": 1.5,
    "n": None,
    "t": True,
    "fa": False,
    "i": -3,
    "nan": float("nan"),
    "inf": float("inf"),
    "ninf": float("-inf"),
    "e": 1e20,
    "yes": "yes",
    "nested": [[1, 2], ["a", {"k": [{"deep": ["z"]}]}]],
    "block": [{"run": "line one\nline two\n", "after": 1}, "end"],
}

EXPECTED = """---
a:
  - 1
  - b:
      - 2
      - 3
  - x
c:
  d:
    - e
  empty: []
  none: {}
s: |-
  multi
  line
u: !unsafe "{{ x }}"
v: plain
w: !unsafe |-
  {% if %}
  x
f: 1.5
n: null
t: true
fa: false
i: -3
nan: .nan
inf: .inf
ninf: -.inf
e: 1.0e+20
'yes': 'yes'
nested:
  - - 1
    - 2
  - - a
    - k:
        - deep:
            - z
block:
  - run: |
      line one
      line two
    after: 1
  - end
"""


def test_dump_writes_the_exact_document() -> None:
    assert y.dump(DOC) == EXPECTED
    assert y._slow(DOC, True) == EXPECTED


def test_dump_without_document_start() -> None:
    assert y.dump([1, "a"], explicit_start=False) == "- 1\n- a\n"
    assert y.dump({"k": ["v"]}, explicit_start=False) == "k:\n  - v\n"


@pytest.mark.parametrize("value", [
    "trailing space \nx",
    "x" * (y.MAX_LITERAL_LINE + 1) + "\ny",
    "x" * y.MAX_LITERAL_LINE + "\ny",
    "cr\rline",
    "nel\x85line",
    "ls\u2028line",
    "ps\u2029line",
    "a\r\nb",
    "tab\tinside",
    "#comment",
    "- dash",
    "key: value",
    "",
    "0o17",
    "null",
    "~",
    "{{ x }}\n{% y %}",
    "  leading",
])
@pytest.mark.parametrize("unsafe", [False, True])
def test_fast_and_slow_emitters_agree_and_load_back(value: str, unsafe: bool) -> None:
    v = Unsafe(value) if unsafe else value
    data = {"k": [{"name": v, "list": [v]}], v or "empty": v}
    fast = y.dump(data)
    assert fast == y._slow(data, True)
    loaded = yaml.load(fast, Loader=_UnsafeLoader)
    assert loaded == {"k": [{"name": value, "list": [value]}], value or "empty": value}


class _UnsafeLoader(yaml.SafeLoader):
    pass


_UnsafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


@pytest.mark.parametrize(("value", "style"), [
    ("one line", None),
    ("a\nb", "|"),
    ("a \nb", '"'),
    ("x" * 136 + "\nb", "|"),
    ("x" * 137 + "\nb", '"'),
    ("a\rb", '"'),
    ("a\r\nb", '"'),
    ("a\u2028b", '"'),
])
def test_str_style(value: str, style: str | None) -> None:
    assert y._str_style(value) == style


def test_scalar_tags_only_unsafe_text_with_jinja() -> None:
    assert y._scalar("{{ x }}") == (y._STR, None)
    assert y._scalar(Unsafe("{{ x }}")) == ("!unsafe", '"')
    assert y._scalar(Unsafe("{% x %}")) == ("!unsafe", '"')
    assert y._scalar(Unsafe("{# x #}")) == ("!unsafe", '"')
    assert y._scalar(Unsafe("{{ x }}\ny")) == ("!unsafe", "|")
    assert y._scalar(Unsafe("yes")) == (y._STR, None)
    assert y._scalar(Unsafe("{ x }")) == (y._STR, None)


@pytest.mark.parametrize(("value", "text"), [
    (1.5, "1.5"), (float("nan"), ".nan"), (float("inf"), ".inf"), (float("-inf"), "-.inf"),
    (1e20, "1.0e+20"), (1e-7, "1.0e-07"), (2.5e-7, "2.5e-07"), (0.0, "0.0"), (-2.0, "-2.0"),
])
def test_float_as_pyyaml_writes_it(value: float, text: str) -> None:
    assert y._float(value) == text
    assert y.dump({"f": value}) == f"---\nf: {text}\n" == yaml.safe_dump({"f": value}, explicit_start=True)


@pytest.mark.parametrize("key", ["k" * 121, "line\nbreak", "cr\rkey", "k" * 120])
def test_odd_keys_go_to_the_slow_emitter(key: str) -> None:
    data = {"tasks": [{key: ["v"]}]}
    assert y.dump(data) == y._slow(data, True)
    assert yaml.safe_load(y.dump(data)) == data


def test_odd_marks_long_or_broken_keys_only() -> None:
    nodes = y._Nodes()
    nodes.key("k" * 120)
    nodes.key(7)
    assert nodes.odd is False
    nodes.key("k" * 121)
    assert nodes.odd is True
    for key in ("a\nb", "a\x85b"):
        nodes = y._Nodes()
        nodes.key(key)
        assert nodes.odd is True
    assert y._fast({"k" * 121: 1}, True) is None
    assert y._fast({"k": 1}, True) == "---\nk: 1\n"


def test_unsupported_values_go_to_the_representer() -> None:
    data = {"d": datetime.date(2024, 1, 2), "t": (1, 2)}
    assert y._fast(data, True) is None
    assert y.dump({"d": datetime.date(2024, 1, 2)}) == "---\nd: 2024-01-02\n"


def test_nodes_of_scalars() -> None:
    nodes = y._Nodes()
    assert (nodes.node(True).tag, nodes.node(True).value) == ("tag:yaml.org,2002:bool", "true")
    assert (nodes.node(False).tag, nodes.node(False).value) == ("tag:yaml.org,2002:bool", "false")
    assert (nodes.node(3).tag, nodes.node(3).value) == ("tag:yaml.org,2002:int", "3")
    assert (nodes.node(None).tag, nodes.node(None).value) == ("tag:yaml.org,2002:null", "null")
    assert (nodes.node(0.5).tag, nodes.node(0.5).value) == ("tag:yaml.org,2002:float", "0.5")
    unsafe = nodes.node(Unsafe("{{ a }}"))
    assert (unsafe.tag, unsafe.value, unsafe.style, type(unsafe.value)) == ("!unsafe", "{{ a }}", '"', str)
    # The style cache distinguishes a plain string from an Unsafe one with the same text.
    plain = nodes.node("{{ a }}")
    assert (plain.tag, plain.style) == ("tag:yaml.org,2002:str", None)
    assert nodes.styles == {("{{ a }}", True): ("!unsafe", '"'), ("{{ a }}", False): ("tag:yaml.org,2002:str", None)}
    seq = nodes.run([1])
    assert (seq.tag, seq.flow_style) == ("tag:yaml.org,2002:seq", False)
    mapping = nodes.run({"a": 1})
    assert (mapping.tag, mapping.flow_style) == ("tag:yaml.org,2002:map", False)


def test_resolver_cache_keeps_the_implicit_flags_apart() -> None:
    # "1" as a plain scalar is an int; quoted it is a string: one cache must not answer for the other.
    assert y.dump({"a": 1, "b": "1", "c": "1", "d": 1}) == "---\na: 1\nb: '1'\nc: '1'\nd: 1\n"
    assert y.dump({"a": [], "b": {}, "c": [{}]}) == "---\na: []\nb: {}\nc:\n  - {}\n"


@pytest.mark.parametrize(("raw", "expected"), [
    ("a:\n- 1\n- 2\n", "a:\n  - 1\n  - 2\n"),
    ("a:\n  b:\n  - 1\nc: 2\n", "a:\n  b:\n    - 1\nc: 2\n"),
    ("- a:\n  - 1\n  b: 2\n", "- a:\n    - 1\n  b: 2\n"),
    ("- - a:\n    - 1\n", "- - a:\n      - 1\n"),
    ("a: |\n  - not a list\n  x:\nb:\n- 1\n", "a: |\n  - not a list\n  x:\nb:\n  - 1\n"),
    ("a:\n- run: |-\n    x:\n    - y\n  k: 1\n", "a:\n  - run: |-\n      x:\n      - y\n    k: 1\n"),
    ("a:\n- !unsafe |2-\n    x\n", "a:\n  - !unsafe |2-\n      x\n"),
    ("'q: x':\n- 1\n", "'q: x':\n  - 1\n"),
    ("\"d\\\"q\":\n- 1\n", "\"d\\\"q\":\n  - 1\n"),
    ("a:\n\n- 1\n", "a:\n\n- 1\n"),
    ("a: b\n- 1\n", "a: b\n- 1\n"),
    ("a:\n-\n  - x\n", "a:\n  -\n    - x\n"),
    ("k #:\n- 1\n", "k #:\n- 1\n"),
    ("a:\n- 1\nb:\n- 2\n", "a:\n  - 1\nb:\n  - 2\n"),
    ("a:\n  b:\n  - 1\n  c:\n  - 2\n", "a:\n  b:\n    - 1\n  c:\n    - 2\n"),
    ("a:\n- b:\n  - c:\n    - 1\n", "a:\n  - b:\n      - c:\n          - 1\n"),
])
def test_indent_sequences(raw: str, expected: str) -> None:
    assert y._indent_sequences(raw) == expected


def test_events_are_positionless() -> None:
    assert y._events("a: 1") == y._events("\n\na:    1\n")
    assert ("ScalarEvent", None, None, (True, False), "a", "") in y._events("a: 1")


@pytest.mark.parametrize("enabled", [True, False])
def test_dump_pauses_gc_and_restores_its_state(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with y._no_gc():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        y.dump({"a": 1})
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_extravars_tags_strings_that_stay_strings() -> None:
    text = y.extravars({"f": 5, "a": "yes", "b": "{{ x }}", "c": "00", "d": "", "e": "text", "g": "{ 'x': 1 }",
                        "h": None, "i": "null"})
    assert text == ("a: 'yes'\nb: !unsafe \"{{ x }}\"\nc: '00'\nd: ''\ne: !unsafe \"text\"\nf: 5\n"
                    "g: !unsafe \"{ 'x': 1 }\"\nh: null\ni: 'null'\n")


def test_extravars_never_folds_a_long_value() -> None:
    value = "word " * 100
    assert y.extravars({"v": value}) == f'v: !unsafe "{value}"\n'


def test_slow_emitter_width_and_unicode() -> None:
    long = "word " * 30 + "end"
    assert y._slow({"k": long, "u": "ñandú"}, False) == (
        "k: " + "word " * 23 + "word\n  " + "word " * 6 + "end\nu: ñandú\n")
    assert y.dump({"k": long, "u": "ñandú"}, explicit_start=False) == y._slow({"k": long, "u": "ñandú"}, False)


def test_extravars_keeps_unicode() -> None:
    assert y.extravars({"é": "ñandú", "v": "x"}) == 'v: !unsafe "x"\né: !unsafe "ñandú"\n'


def test_events_carry_anchor_and_tag() -> None:
    assert ("ScalarEvent", "x", "tag:yaml.org,2002:str", (False, False), "1", "") in y._events("a: &x !!str 1")
