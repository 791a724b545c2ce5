"""The direct YAML writer (yamlout._direct) writes exactly what libyaml plus the sequence shift writes.

Its output is the playbooks' bytes, so agreement is checked on every playbook
of the catalog and the fixtures, and on hostile generated documents (deep
nesting, long scalars that libyaml folds, Jinja, YAML 1.1 booleans, line
breaks, odd keys); when it is unsure it must say so (_Complex), never guess.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from compiler import playbook
from compiler import yamlout as y
from compiler.parse import parse_file
from tests.conftest import FIXTURES, ROOT

SOURCES = sorted((ROOT / "procedures").glob("*.yml")) + sorted((FIXTURES / "procedures").glob("*.yml"))


def reference(data: object) -> str:
    """What the libyaml path writes (else the Python emitter): the bytes every golden was made with."""
    return y._fast(data, True) or y._slow(data, True)


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_every_playbook_is_written_directly_and_identically(src: Path) -> None:
    proc = parse_file(src).procedure
    for lang in ("es", "en"):
        data = playbook.build(proc, lang)
        assert y._direct(data, True) == reference(data)


HOSTILE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["yes", "no", "on", "off", "null", "~", "", "0o17", "1e3", ".inf", "- a", "a: b", "#c", "!x",
                     "%p", "@a", "`b", "{{ x }}", "{% if %}", "{# c #}", "'q'", '"d"', "a\nb", "a\nb\n", " a\nb",
                     "a\n\n", "x" * 150, "tab\there", "cr\rx", "ñandú", "\u2028", "a " * 80, "&a *b", "? k"]),
    st.builds(lambda w: " ".join(w), st.lists(st.sampled_from(["{{", "}}", "'x'", "a:", "-", "x" * 20, "ok"]),
                                              min_size=10, max_size=40)),
)
SCALARS = st.one_of(HOSTILE, HOSTILE.map(y.Unsafe), st.integers(), st.booleans(), st.none(),
                    st.floats(allow_nan=False))
DATA = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(HOSTILE, st.integers()), inner, max_size=4)), max_leaves=40)


@given(DATA.filter(lambda d: isinstance(d, (list, dict))))
def test_direct_agrees_with_libyaml_on_hostile_documents(data: object) -> None:
    try:
        direct = y._direct(data, True)
    except y._Complex:
        return  # not sure: dump() lets libyaml write it
    assert direct == reference(data)


@given(st.lists(st.dictionaries(st.sampled_from(["name", "when", "shell", "vars", "a" * 60]),
                                st.one_of(HOSTILE, st.lists(HOSTILE, max_size=3),
                                          st.dictionaries(st.sampled_from(["k", "b" * 50]), HOSTILE, max_size=2)),
                                min_size=1, max_size=4), min_size=1, max_size=4))
def test_direct_agrees_on_task_lists(data: list[dict[str, object]]) -> None:
    try:
        direct = y._direct(data, True)
    except y._Complex:
        return
    assert direct == reference(data)


def test_long_scalars_fold_where_libyaml_folds_them() -> None:
    long = "{{ " + " + ".join(f"item_{i} | default('')" for i in range(20)) + " }}"
    data = [{"block": [{"vars": {"procc_long": long, "and": [long, {"deeper": [long]}]}}]}]
    text = y._direct(data, True)
    assert max(len(line) for line in text.splitlines()) > 120 - 1  # it did fold over lines near the width
    assert text == reference(data)
    assert yaml.safe_load(text) == data


def test_what_it_cannot_be_sure_of_is_left_to_libyaml() -> None:
    for data in ({"a\nb": 1}, {"k": "x\n\n"}, [], {}, "scalar", {"k": ("tuple",)}):
        with pytest.raises((y._Complex, y._Unsupported)):
            y._direct(data, True)
        assert y.dump(data) == reference(data)


def test_trim_bounds_the_caches_across_a_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scalar caches serve one playbook; a compile trims them before each procedure, so a
    1000-procedure catalog does not hold every value it ever wrote (peak memory 82 vs 45 MiB)."""
    import functools

    from compiler import build

    y.dump([{"name": f"only in the first document {n}", "x": n} for n in range(50)])
    assert len(y._RENDERED) >= 50 and y._RESOLVED
    y.trim(keep=10**9)
    assert len(y._RENDERED) >= 50  # under the bound: kept
    y.trim(keep=10)
    assert not y._RENDERED and not y._MARKERS and not y._RESOLVED

    (tmp_path / "procedures").mkdir()
    first, second = (ROOT / "procedures" / "PROC-BACKEND-000-health-check.yml",
                     ROOT / "procedures" / "PROC-BACKEND-004-cleanup.yml")
    for src in (first, second):
        (tmp_path / "procedures" / src.name).write_bytes(src.read_bytes())
    only_first = "PROC-BACKEND-000 | "

    def compile_both() -> bool:
        s = build.settings(tmp_path, tmp_path / "docs", tmp_path / "playbooks", "es", False, True, cache=False)
        results = build.build(sorted((tmp_path / "procedures").glob("*.yml")), s, jobs=1)
        assert all(not r.diags for r in results)
        return any(isinstance(k[1], str) and k[1].startswith(only_first) for k in y._RENDERED)

    y.trim(keep=0)
    assert compile_both()  # kept across procedures while under the bound
    monkeypatch.setattr(y, "trim", functools.partial(y.trim, keep=0))
    assert not compile_both()  # trimmed before the second procedure: nothing of the first remains
