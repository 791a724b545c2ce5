"""Direct tests of compiler.loader: data, source positions and exact diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import loader
from compiler.errors import CompileError, Position
from compiler.loader import RoleDoc, SourceMap, load_file, load_role_docs, load_text


def diags(text: str) -> list[str]:
    with pytest.raises(CompileError) as exc:
        load_text(text, "p.yml")
    return [d.format() for d in exc.value.diagnostics]


def test_data_and_positions_of_keys_and_values() -> None:
    data, smap = load_text("a: 1\nb:\n  - x\n  - {c: true}\n", "p.yml")
    assert data == {"a": 1, "b": ["x", {"c": True}]}
    assert smap.path == "p.yml"
    assert smap.keys == {("a",): Position(1, 1), ("b",): Position(2, 1), ("b", 1, "c"): Position(4, 6)}
    assert smap.values == {(): Position(1, 1), ("a",): Position(1, 4), ("b",): Position(3, 3),
                           ("b", 0): Position(3, 5), ("b", 1): Position(4, 5), ("b", 1, "c"): Position(4, 9)}
    assert smap.block_scalars == {}


def test_source_map_falls_back_to_the_nearest_ancestor() -> None:
    _, smap = load_text("x: 0\na:\n  b: 1\n", "p.yml")
    assert smap.value(("a", "b", "missing", 3)) == Position(3, 6)
    assert smap.value(("a",)) == Position(3, 3)
    assert smap.key(("a", "b")) == Position(3, 3)
    assert smap.key(("a", "nope")) == Position(3, 3)
    assert SourceMap("q").value(("z",)) == Position(1, 1)
    assert SourceMap("q").key(()) == Position(1, 1)


def test_in_text_is_exact_for_block_scalars_only() -> None:
    text = "top: 1\nrun: |\n    echo one\n      echo two\nplain: 'abc\n  def'\n"
    data, smap = load_text(text, "p.yml")
    assert smap.block_scalars == {("run",): Position(3, 5)}
    run = data["run"]
    assert run == "echo one\n  echo two\n"
    assert smap.in_text(("run",), 0, run) == Position(3, 5)
    assert smap.in_text(("run",), run.index("one"), run) == Position(3, 10)
    assert smap.in_text(("run",), run.index("two"), run) == Position(4, 12)
    assert smap.in_text(("plain",), 5, data["plain"]) == Position(5, 8)


def test_folded_and_empty_block_scalars() -> None:
    data, smap = load_text("a: >\n  x\n  y\nb: |\nc: 1\n", "p.yml")
    assert data == {"a": "x y\n", "b": "", "c": 1}
    assert smap.block_scalars[("a",)] == Position(2, 3)
    # An empty block scalar has no content line: the next line at indentation 0 gives column 1.
    assert smap.block_scalars[("b",)] == Position(5, 1)


def test_block_indent_without_any_following_line() -> None:
    _, smap = load_text("k:\n  a: |\n", "p.yml")
    assert smap.block_scalars[("k", "a")] == Position(3, 8)


@pytest.mark.parametrize(("text", "expected"), [
    ("a: [1", ["p.yml:1:4: error: YAML syntax: while parsing a flow sequence did not find expected ',' or ']'; "
               "the '[' or '{' that opens here is not closed on its line: close it, or quote the value if the "
               "bracket is part of the text [yaml-syntax]"]),
    ('a: "x', ["p.yml:1:4: error: YAML syntax: while scanning a quoted scalar found unexpected end of stream; "
               "the quote that opens here is never closed: close it, or use a block scalar ('|') [yaml-syntax]"]),
    ("a: 1\nb: 2\na: 3\n", ["p.yml:3:1: error: duplicate key 'a' (first defined at line 1) [duplicate-key]"]),
    ("a: \x07", ["p.yml:1:4: error: character 7 is not allowed in YAML [yaml-syntax]"]),
    ("a: 1\nbb: x\x07", ["p.yml:2:6: error: character 7 is not allowed in YAML [yaml-syntax]"]),
    ("a: 1\nb: 2\nccc: x\x07", ["p.yml:3:7: error: character 7 is not allowed in YAML [yaml-syntax]"]),
    ("", ["p.yml:1:1: error: the file is empty [empty-file]"]),
    ("# only a comment\n", ["p.yml:1:1: error: the file is empty [empty-file]"]),
    ("{[1]: 2, b: 1, b: 2}", ["p.yml:1:2: error: mapping keys must be plain strings [yaml-key]",
                              "p.yml:1:16: error: duplicate key 'b' (first defined at line 1) [duplicate-key]"]),
    ("a: !foo x", ["p.yml:1:4: error: could not determine a constructor for the tag '!foo' [yaml-value]"]),
    ("a: !!int x", ["p.yml:1:4: error: the value 'x' is not a valid tag:yaml.org,2002:int [yaml-value]"]),
    ("a: [1, !!bool x]", ["p.yml:1:8: error: the value 'x' is not a valid tag:yaml.org,2002:bool [yaml-value]"]),
    ("a: b: c", ["p.yml:1:5: error: YAML syntax: mapping values are not allowed in this context; a plain value "
                 "cannot contain ': ' (as in 'Authorization: Bearer ...'): quote the whole value ('...'), or write "
                 "it as a block: 'run: |' and the command on the next line [yaml-syntax]"]),
    ("a: *nope", ["p.yml:1:4: error: YAML syntax: found undefined alias [yaml-syntax]"]),
    ("--- 1\n--- 2\n", ["p.yml:2:1: error: YAML syntax: expected a single document in the stream "
                        "but found another document [yaml-syntax]"]),
])
def test_diagnostics(text: str, expected: list[str]) -> None:
    assert diags(text) == expected


def test_alias_bomb_is_refused_where_the_alias_is_used() -> None:
    text = "a: &a [" + ", ".join(["x"] * 10) + "]\nb: &b [" + ", ".join(["*a"] * 10) + "]\n" \
        "c: &c [" + ", ".join(["*b"] * 10) + "]\nd: &d [" + ", ".join(["*c"] * 11) + "]\n"
    assert diags(text) == [
        f"p.yml:4:1: error: aliases expand to more than {loader.MAX_ALIAS_NODES} nodes (an alias bomb?); "
        "write the values out or use fewer aliases [yaml-alias-limit]"]


def test_aliases_under_the_limit_are_data() -> None:
    text = "a: &a [" + ", ".join(["x"] * 10) + "]\nb: &b [" + ", ".join(["*a"] * 10) + "]\n" \
        "c: [" + ", ".join(["*b"] * 9) + "]\n"
    data, _ = load_text(text, "p.yml")
    assert data["c"][8][9] == ["x"] * 10


def test_alias_limit_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_ALIAS_NODES", 3)
    # Each use of *a revisits the list node and its two scalars: 3 revisits pass, 6 do not.
    assert load_text("a: &a [x, y]\nb: *a\n", "p.yml")[0] == {"a": ["x", "y"], "b": ["x", "y"]}
    assert diags("a: &a [x, y]\nb:\n  c: *a\n  d: *a\n")[0].startswith("p.yml:4:3: error: aliases expand")


def test_alias_bomb_at_the_top_level_has_a_position() -> None:
    text = "- &a [" + ", ".join(["x"] * 100) + "]\n" + "".join("- [" + ", ".join(["*a"] * 100) + "]\n" for _ in range(2))
    assert diags(text)[0].startswith("p.yml:1:1: error: aliases expand to more than")


def test_depth_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    assert diags("a: " + "[" * 101 + "]" * 101) == [
        "p.yml:1:104: error: nesting deeper than 100 levels [yaml-too-deep]"]
    data, _ = load_text("a: " + "[" * 99 + "]" * 99, "p.yml")
    assert data["a"] is not None


def test_load_file(tmp_path: Path) -> None:
    good = tmp_path / "p.yml"
    good.write_text("a: é\n", encoding="utf-8")
    data, smap, text = load_file(good)
    assert (data, smap.path, text) == ({"a": "é"}, str(good), "a: é\n")
    assert load_file(good, "shown.yml")[1].path == "shown.yml"


def test_load_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_bytes(b"a: 1\nb: 2\nc: \xff\n")
    with pytest.raises(CompileError) as exc:
        load_file(bad, "bad.yml")
    assert [d.format() for d in exc.value.diagnostics] == ["bad.yml:3:1: error: not valid UTF-8 [encoding]"]
    with pytest.raises(CompileError) as exc:
        load_file(tmp_path / "missing.yml", "missing.yml")
    assert [d.format() for d in exc.value.diagnostics] == [
        "missing.yml:1:1: error: cannot read: No such file or directory [io]"]


def test_load_role_docs(tmp_path: Path) -> None:
    assert load_role_docs(tmp_path / "none") == {}
    for name, body in {
        "b_list": "argument_specs:\n  main:\n    short_description: Short\n    description: [one, two]\n",
        "a_str": "argument_specs:\n  main:\n    description: only\n",
        "c_bad": "argument_specs: [",
        "d_nomain": "argument_specs:\n  other: {}\n",
        "e_list": "- 1\n",
        "f_none": "argument_specs:\n  main:\n    short_description: 5\n",
    }.items():
        meta = tmp_path / name / "meta"
        meta.mkdir(parents=True)
        (meta / "argument_specs.yml").write_text(body, encoding="utf-8")
    (tmp_path / "g_nometa").mkdir()
    assert load_role_docs(tmp_path) == {
        "a_str": RoleDoc("a_str", "", ("only",)),
        "b_list": RoleDoc("b_list", "Short", ("one", "two")),
        "f_none": RoleDoc("f_none", "5", ()),
    }
    assert list(load_role_docs(tmp_path)) == ["a_str", "b_list", "f_none"]


def test_alias_bomb_position_walks_every_ancestor() -> None:
    # The limit is crossed at a scalar four levels down (d, item, item, item): the
    # nearest key is three levels up, so every ancestor must be looked at.
    text = "a: &a [" + ", ".join(["x"] * 10) + "]\nb: &b [" + ", ".join(["*a"] * 10) + "]\n" \
        "d: [" + ", ".join(["*b"] * 101) + "]\n"
    assert diags(text)[0].startswith("p.yml:3:1: error: aliases expand to more than 10000 nodes")


def test_too_big_carries_its_diagnostic() -> None:
    from compiler.errors import Diagnostic

    diag = Diagnostic("p", Position(2, 3), "msg", "code")
    assert loader._TooBig(diag).diagnostic is diag
