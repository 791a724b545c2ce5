"""The runbook of a rollback that covers earlier steps (es and en): goldens, and the wording case by case."""

from __future__ import annotations

import pytest

from compiler import runbook
from compiler.parse import parse_file, parse_text
from tests.conftest import FIXTURES, ROOT
from tests.support.golden import check_golden
from tests.unit.test_rollback_covers import proc

COVERS = FIXTURES / "procedures" / "PROC-TEST-031-rollback-covers.yml"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_runbook_golden(request: pytest.FixtureRequest, lang: str) -> None:
    src = parse_file(COVERS, COVERS.relative_to(ROOT).as_posix())
    text = runbook.render(src.procedure, lang, source=src.display)  # type: ignore[arg-type]
    check_golden(request, text, ROOT / "tests" / "golden" / f"{COVERS.stem}.{lang}.md")


def test_two_covered_steps_are_named_together_in_spanish() -> None:
    text = runbook.render(parse_text(proc(r4="rollback: {run: echo undo-d, covers: [a, b, c]}",
                                          r3="rollback: {run: echo undo-c}")), "es")
    assert ("> Este rollback cubre tambien los Pasos 1, 2 y 3: si este paso se ejecuto, NO ejecutar sus "
            "rollbacks (nunca deshacer dos veces).") in text
    assert text.count("> Si el Paso 4 se ejecuto, su rollback ya deshace este paso: NO ejecutar este rollback.") == 3
    assert ("- Si el Paso 4 se ejecuto, su rollback deshace tambien los Pasos 1, 2 y 3: no ejecutar los rollbacks "
            "de esos pasos.") in text


def test_a_step_covered_by_two_later_steps_names_both_in_english() -> None:
    text = runbook.render(parse_text(proc(r4="rollback: {run: echo undo-d, covers: [c, b]}")), "en")
    assert "> If any of Steps 3 and 4 ran, its rollback already undoes this step: do NOT run this rollback." in text
    assert "> This rollback also covers Steps 2 and 3: if this step ran, do NOT run their rollbacks" in text
    assert "- If Step 3 ran, its rollback also undoes Step 2: do not run that step's rollback." in text


def test_without_covers_the_runbook_says_nothing_of_it() -> None:
    text = runbook.render(parse_text(proc(r3="rollback: {run: echo undo-c}")), "es")
    assert "cubre" not in text and "Rollbacks que cubren" not in text
