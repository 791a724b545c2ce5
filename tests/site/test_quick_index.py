"""Items 4 and 6 of issue 12: the quick card (``procc compile --quick``) and the generated catalog index."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import catalog_index, quickcard, runbook
from compiler.cli import main
from compiler.parse import Source, parse_file, parse_text
from tests.conftest import FIXTURES, FOUR_STEPS, ROOT
from tests.support.golden import check_golden

GOLDEN = ROOT / "tests" / "golden"
HOSTILE = "</code><script>alert(1)</script> | [x](javascript:alert(1)) ``` # *_"


def _project(tmp_path: Path, *names: str) -> Path:
    (tmp_path / "procedures").mkdir()
    for n in names:
        shutil.copy(FIXTURES / "procedures" / n, tmp_path / "procedures")
    return tmp_path


def _run(cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out + cap.err


def test_quick_card_golden(request: pytest.FixtureRequest) -> None:
    src = parse_file(FOUR_STEPS, FOUR_STEPS.relative_to(ROOT).as_posix())
    check_golden(request, quickcard.render(src.procedure, "es", src.display), GOLDEN / "quick" / f"{FOUR_STEPS.stem}.es.md")


def test_quick_card_has_the_runbook_commands_checklist_rollback_and_contacts() -> None:
    src = parse_file(FOUR_STEPS, FOUR_STEPS.relative_to(ROOT).as_posix())
    p = src.procedure
    card = quickcard.render(p, "es", src.display)
    book = runbook.render(p, "es", source=src.display)
    fences = lambda t: re.findall(r"^```bash\n.*?^```$", t, re.M | re.S)  # noqa: E731
    card_blocks = fences(card)
    view = runbook._View(p, "es", src.display)
    for s in p.steps:  # the runbook's commands, byte for byte: step, validation, rollback
        for act in (s, s.validate_, s.rollback):
            if act is not None:
                assert view.action_block(act) in card
    assert set(card_blocks) <= set(fences(book))
    for k in range(1, len(p.steps) + 1):
        assert f"- [ ] Paso {k}: " in card and f"### Paso {k}: " in card
    for t in p.rollback.triggers:
        assert t.split()[0] in card
    for c in p.references.contacts:
        assert c.name.split()[0] in card
    # The runbook links to the card, with the path compile --quick writes.
    assert f"(quick/{FOUR_STEPS.stem}.md)" in book
    assert f"(../{FOUR_STEPS.stem}.md)" in card


def test_quick_card_keeps_hostile_text_inert() -> None:
    data: dict[str, Any] = yaml.safe_load(FOUR_STEPS.read_text(encoding="utf-8"))
    data["title"] = HOSTILE
    data["steps"][0]["title"] = HOSTILE
    data["rollback"]["triggers"] = [HOSTILE]
    card = quickcard.render(parse_text(yaml.safe_dump(data)), "es")
    _assert_inert(card)
    heads = re.findall(r"^#+ .*", card, re.M)
    assert heads[0].startswith("# PROC-TEST-001: ") and heads[0].endswith(" - Tarjeta rapida")
    assert heads[1:3] == ["## Checklist Rapido", "## Pre-flight"]


def _assert_inert(text: str) -> None:
    """Rendered as CommonMark: no raw HTML, no script, no javascript: link."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in html, html
    assert 'href="javascript' not in html


def _index_sources(tmp_path: Path) -> list[Source]:
    old: dict[str, Any] = yaml.safe_load(FOUR_STEPS.read_text(encoding="utf-8"))
    old.update(id="PROC-TEST-002", title=HOSTILE, updated="2025-01-15")
    path = tmp_path / "PROC-TEST-002-old.yml"
    path.write_text(yaml.safe_dump(old), encoding="utf-8")
    return [parse_file(FOUR_STEPS, "procedures/PROC-TEST-001-four-steps.yml"), parse_file(path, "procedures/x.yml")]


def test_index_golden(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    srcs = _index_sources(tmp_path)
    text = catalog_index.render(srcs, "es", stems=["PROC-TEST-001-four-steps", "PROC-TEST-002-old"])
    check_golden(request, text, GOLDEN / "index" / "README.es.md")


def test_index_rows_links_and_overdue_reviews(tmp_path: Path) -> None:
    srcs = _index_sources(tmp_path)
    text = catalog_index.render(srcs, "en", stems=["PROC-TEST-001-four-steps", "PROC-TEST-002 old"])
    rows = [line for line in text.splitlines() if line.startswith("| PROC-")]
    assert len(rows) == 2
    assert "[Fixture de cuatro pasos](PROC-TEST-001-four-steps.md)" in rows[0]
    assert "(PROC-TEST-002%20old.md)" in rows[1]  # a file name is a URL path, quoted
    # 2025-01-15 + 6 months is before the catalog's date (2026-11-28): overdue; the other is not.
    assert "2025-07-15 **OVERDUE**" in rows[1] and "OVERDUE" not in rows[0]
    assert "1 with an overdue review" in text
    assert all(r.count(" | ") == 10 for r in [rows[0]]), rows[0]
    _assert_inert(text)
    assert "## How to Create a Procedure" in text


def test_compile_quick_writes_cards_and_check_keeps_them_and_the_index_fresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path, "PROC-TEST-001-four-steps.yml")
    docs = root / "docs" / "backend" / "procedures"
    code, out = _run(root, monkeypatch, capsys, "compile")
    assert code == 0 and (docs / "README.md").is_file() and not (docs / "quick").exists(), out
    code, out = _run(root, monkeypatch, capsys, "compile", "--quick")
    card = docs / "quick" / "PROC-TEST-001-four-steps.md"
    assert code == 0 and card.is_file(), out
    assert _run(root, monkeypatch, capsys, "check")[0] == 0
    card.write_text(card.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    code, out = _run(root, monkeypatch, capsys, "check")
    assert code == 1 and "quick/PROC-TEST-001-four-steps.md: stale" in out, out
    _run(root, monkeypatch, capsys, "compile")  # cards once committed stay fresh without --quick
    assert _run(root, monkeypatch, capsys, "check")[0] == 0
    index = docs / "README.md"
    index.write_text("# hand-written\n", encoding="utf-8")
    code, out = _run(root, monkeypatch, capsys, "check")
    assert code == 1 and "README.md: stale" in out, out
    # A new procedure makes the committed index stale too.
    _run(root, monkeypatch, capsys, "compile")
    shutil.copy(FIXTURES / "procedures" / "PROC-TEST-020-changes.yml", root / "procedures")
    code, out = _run(root, monkeypatch, capsys, "check")
    assert code == 1 and "README.md: stale" in out, out


@pytest.mark.slow
def test_cards_and_index_are_clean_markdown(tmp_path: Path) -> None:
    """pymarkdown with the project's config: the committed cards and index, and a hostile card."""
    data: dict[str, Any] = yaml.safe_load(FOUR_STEPS.read_text(encoding="utf-8"))
    data["title"] = HOSTILE
    data["steps"][0]["title"] = HOSTILE
    hostile = tmp_path / "hostile.md"
    hostile.write_text(quickcard.render(parse_text(yaml.safe_dump(data)), "en"), encoding="utf-8")
    index = tmp_path / "README.md"
    index.write_text(catalog_index.render(_index_sources(tmp_path), "es"), encoding="utf-8")
    docs = ROOT / "docs" / "backend" / "procedures"
    files = [*sorted((docs / "quick").glob("*.md")), docs / "README.md", hostile, index]
    res = subprocess.run([str(Path(sys.executable).parent / "pymarkdown"), "--config", str(ROOT / ".pymarkdown.json"),
                          "scan", *map(str, files)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
