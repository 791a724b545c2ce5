"""Lint positions are exact inside folded and literal block scalars; the
placeholder rule matches the template's fillers, not Spanish words (issue 13, item 7)."""

from __future__ import annotations

from pathlib import Path

from compiler.lint.engine import lint_files
from compiler.loader import load_text

CLEAN = Path(__file__).parent / "fixtures" / "clean.yml"


def _placeholders(tmp_path: Path, text: str) -> list[tuple[int, int]]:
    path = tmp_path / "PROC-TEST-100.yml"
    path.write_text(text)
    result = lint_files([(path, path.name)])
    return [(d.pos.line, d.pos.col) for d in result.findings if d.code == "template-placeholder"]


def _with_purpose(text: str) -> str:
    return CLEAN.read_text().replace("  what: Fixture minimo y limpio para las reglas de lint.\n", text)


def test_a_placeholder_in_folded_text_is_reported_at_its_own_line_and_column(tmp_path: Path) -> None:
    text = _with_purpose(
        "  what: >-\n"
        "    Todo el trafico pasa por el balanceador y esta linea es larga a proposito\n"
        "    para que el plegado la junte con la siguiente en una sola linea de texto,\n"
        "    y aqui queda XXX sin rellenar.\n"
    )
    line = text.splitlines().index("    y aqui queda XXX sin rellenar.") + 1
    assert _placeholders(tmp_path, text) == [(line, 18)]


def test_a_placeholder_in_literal_text_is_reported_at_its_own_line_and_column(tmp_path: Path) -> None:
    text = _with_purpose("  what: |\n    Primera linea.\n      Sangrada [Nombre] aqui.\n")
    line = text.splitlines().index("      Sangrada [Nombre] aqui.") + 1
    assert _placeholders(tmp_path, text) == [(line, 16)]


def test_spanish_todo_is_a_word_and_the_capital_marks_are_placeholders(tmp_path: Path) -> None:
    assert _placeholders(tmp_path, _with_purpose("  what: Todo el trafico y todo lo demas.\n")) == []
    text = _with_purpose("  what: Revisar TODO y TBD antes de publicar.\n")
    line = text.splitlines().index("  what: Revisar TODO y TBD antes de publicar.") + 1
    assert sorted(_placeholders(tmp_path, text)) == [(line, 17), (line, 24)]
    quoted = _with_purpose('  what: "Revisar TBD"\n')
    line = quoted.splitlines().index('  what: "Revisar TBD"') + 1
    assert _placeholders(tmp_path, quoted) == [(line, 18)]
    escaped = _with_purpose('  what: "Revisar \\" TBD"\n')  # an escape: offsets drift, the start is kept
    line = escaped.splitlines().index('  what: "Revisar \\" TBD"') + 1
    assert _placeholders(tmp_path, escaped) == [(line, 9)]


def test_folded_offsets_map_back_across_blank_lines_and_more_indented_lines() -> None:
    text = (
        "a: >-\n"
        "  uno dos\n"
        "  tres\n"
        "\n"
        "    sangrada\n"
        "  cuatro\n"
        "b: 1\n"
    )
    data, smap = load_text(text, "x.yml")
    value = data["a"]
    expected = {"uno": (2, 3), "dos": (2, 7), "tres": (3, 3), "sangrada": (5, 5), "cuatro": (6, 3)}
    for word, (line, col) in expected.items():
        pos = smap.in_text(("a",), value.index(word), value)
        assert (pos.line, pos.col) == (line, col), word


def test_mktemp_templates_are_arguments_not_placeholders(tmp_path: Path) -> None:
    text = _with_purpose('  what: |\n    tmp=$(mktemp "$conf.XXXXXX")\n    y aqui queda XXX sin rellenar.\n')
    line = text.splitlines().index("    y aqui queda XXX sin rellenar.") + 1
    assert _placeholders(tmp_path, text) == [(line, 18)]
