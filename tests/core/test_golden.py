"""Golden files: the runbook and playbook of PROC-BACKEND-000 and of the 4-step fixture.

Regenerate after an intended change with:
    PROCC_UPDATE_GOLDEN=1 .venv/bin/pytest tests/core/test_golden.py
and review the diff in git.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from compiler import playbook, runbook
from compiler.parse import parse_file
from tests.conftest import FOUR_STEPS, ROOT

GOLDEN = ROOT / "tests" / "golden"
CASES = [
    (ROOT / "procedures" / "PROC-BACKEND-000-health-check.yml", "es"),
    (FOUR_STEPS, "es"),
    (FOUR_STEPS, "en"),
]


def _compare(actual: str, golden: Path) -> None:
    if os.environ.get("PROCC_UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
        return
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=str(golden), tofile="generated"))
        pytest.fail(f"output differs from {golden.name} (PROCC_UPDATE_GOLDEN=1 to accept):\n{diff}")


@pytest.mark.parametrize(("source", "lang"), CASES, ids=lambda c: getattr(c, "stem", c))
def test_runbook_golden(source: Path, lang: str) -> None:
    src = parse_file(source, source.relative_to(ROOT).as_posix())
    text = runbook.render(src.procedure, lang, source=src.display)  # type: ignore[arg-type]
    _compare(text, GOLDEN / f"{source.stem}.{lang}.md")


@pytest.mark.parametrize(("source", "lang"), CASES, ids=lambda c: getattr(c, "stem", c))
def test_playbook_golden(source: Path, lang: str) -> None:
    src = parse_file(source, source.relative_to(ROOT).as_posix())
    text = playbook.render(src.procedure, lang, source=src.display)  # type: ignore[arg-type]
    _compare(text, GOLDEN / f"{source.stem}.{lang}.yml")
