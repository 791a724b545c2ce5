"""Direct tests of compiler.runbook's helpers: durations, Ansible doc markup, month arithmetic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from compiler import runbook as r
from compiler.parse import parse_text

CLEAN = (Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("value", "text"), [(1, "1"), (2.0, "2"), (1.5, "1.5"), (0.25, "0.25"), (90, "90")])
def test_minutes(value: float, text: str) -> None:
    assert r._minutes(value) == text


@pytest.mark.parametrize(("lang", "one", "many", "half"), [
    ("es", "1 minuto", "5 minutos", "0.5 minutos"),
    ("en", "1 minute", "5 minutes", "0.5 minutes"),
])
def test_duration_words(lang: r.Lang, one: str, many: str, half: str) -> None:
    view = r._View(parse_text(CLEAN, "p.yml"), lang, "p.yml")
    assert (view.duration(1), view.duration(5), view.duration(0.5)) == (one, many, half)


@pytest.mark.parametrize(("text", "expected"), [
    ("Use C(foo) and I(bar) or B(baz)", "Use `foo` and *bar* or **baz**"),
    ("V(x) ", "`x` "),
    (" lead C(a) trail ", " lead `a` trail "),
    ("# h", "\\# h"),
    ("C(a)C(b)", "`a``b`"),
    ("xC(a)", "xC(a)"),
    ("I(a_b) B(<x>)", "*a_b* **&lt;x&gt;**"),
    ("C(a `b`)", "`` a `b` ``"),
    ("", ""),
])
def test_ansible_doc(text: str, expected: str) -> None:
    assert r._ansible_doc(text) == expected


@pytest.mark.parametrize(("raw", "flat", "expected"), [
    (" a ", "a", " a "), ("", "", ""), (" ", "", " "), ("\t", "", " "), ("a", "a", "a"), (" a", "a", " a"),
    ("a ", "a", "a "), ("x", "", ""),
])
def test_keep_edges(raw: str, flat: str, expected: str) -> None:
    assert r._keep_edges(raw, flat) == expected


@pytest.mark.parametrize(("months", "day"), [
    (0, dt.date(2024, 1, 31)), (1, dt.date(2024, 2, 29)), (2, dt.date(2024, 3, 31)), (3, dt.date(2024, 4, 30)),
    (11, dt.date(2024, 12, 31)), (12, dt.date(2025, 1, 31)), (13, dt.date(2025, 2, 28)),
    (-1, dt.date(2023, 12, 31)), (25, dt.date(2026, 2, 28)),
])
def test_add_months_clamps_to_the_last_day(months: int, day: dt.date) -> None:
    assert r._add_months(dt.date(2024, 1, 31), months) == day


def test_add_months_keeps_the_day_when_it_exists() -> None:
    assert r._add_months(dt.date(2023, 11, 15), 3) == dt.date(2024, 2, 15)
    assert r._add_months(dt.date(2023, 3, 29), 11) == dt.date(2024, 2, 29)
    assert r._add_months(dt.date(2023, 3, 30), 11) == dt.date(2024, 2, 29)


def test_yaml_has_no_document_start() -> None:
    assert r._yaml({"a": [1]}) == "a:\n  - 1\n"
