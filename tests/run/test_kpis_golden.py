"""The runbook's "Metricas y KPIs" computed from a known history (golden).

Regenerate after an intended change with:
    .venv/bin/pytest tests/core/test_golden.py tests/run/test_kpis_golden.py --update-goldens
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler import runbook
from compiler.history.kpis import kpis_for
from compiler.parse import parse_file
from tests.conftest import FIXTURES, FOUR_STEPS, ROOT
from tests.support.golden import check_golden

GOLDEN = ROOT / "tests" / "golden" / "run"
HISTORY = FIXTURES / "history" / "PROC-TEST-001.jsonl"


def _section(text: str) -> str:
    start = text.index("## Metricas y KPIs") if "## Metricas y KPIs" in text else text.index("## Metrics")
    end = text.index("\n## ", start + 3)
    head = [line for line in text.splitlines() if line.startswith(("**Ultima", "**Tasa", "**Last", "**Success"))]
    return "\n".join(head) + "\n\n" + text[start:end].rstrip() + "\n"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_kpis_golden(request: pytest.FixtureRequest, tmp_path: Path, lang: str) -> None:
    (tmp_path / "procedures" / "history").mkdir(parents=True)
    shutil.copy(HISTORY, tmp_path / "procedures" / "history" / HISTORY.name)
    src = parse_file(FOUR_STEPS, "tests/fixtures/procedures/PROC-TEST-001-four-steps.yml")
    kpis = kpis_for(src, tmp_path, lang)  # type: ignore[arg-type]
    text = _section(runbook.render(src.procedure, lang, source=src.display, kpis=kpis))  # type: ignore[arg-type]
    check_golden(request, text, GOLDEN / f"kpis.{lang}.md")


def test_no_history_says_so(tmp_path: Path) -> None:
    src = parse_file(FOUR_STEPS, "x.yml")
    text = runbook.render(src.procedure, "es", source="x.yml", kpis=kpis_for(src, tmp_path, "es"))
    assert "Sin ejecuciones registradas" in text
    assert "XX" not in _section(text)
