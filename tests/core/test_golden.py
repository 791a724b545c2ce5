"""Golden files: the runbook and playbook of PROC-BACKEND-000 and of the 4-step fixture.

Regenerate after an intended change with:
    .venv/bin/pytest tests/core/test_golden.py tests/run/test_kpis_golden.py --update-goldens
(the summary names each file it changed) and review the diff in git.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import playbook, runbook
from compiler.parse import parse_file
from tests.conftest import FOUR_STEPS, ROOT
from tests.support.golden import check_golden

GOLDEN = ROOT / "tests" / "golden"
CASES = [
    (ROOT / "procedures" / "PROC-BACKEND-000-health-check.yml", "es"),
    (FOUR_STEPS, "es"),
    (FOUR_STEPS, "en"),
]


@pytest.mark.parametrize(("source", "lang"), CASES, ids=lambda c: getattr(c, "stem", c))
def test_runbook_golden(request: pytest.FixtureRequest, source: Path, lang: str) -> None:
    src = parse_file(source, source.relative_to(ROOT).as_posix())
    text = runbook.render(src.procedure, lang, source=src.display)  # type: ignore[arg-type]
    check_golden(request, text, GOLDEN / f"{source.stem}.{lang}.md")


@pytest.mark.parametrize(("source", "lang"), CASES, ids=lambda c: getattr(c, "stem", c))
def test_playbook_golden(request: pytest.FixtureRequest, source: Path, lang: str) -> None:
    src = parse_file(source, source.relative_to(ROOT).as_posix())
    text = playbook.render(src.procedure, lang, source=src.display)  # type: ignore[arg-type]
    check_golden(request, text, GOLDEN / f"{source.stem}.{lang}.yml")
