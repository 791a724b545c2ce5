"""The runbook's "Metricas y KPIs" computed from a known history (golden).

Regenerate after an intended change with:
    PROCC_UPDATE_GOLDEN=1 .venv/bin/pytest tests/run/test_kpis_golden.py
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from compiler import runbook
from compiler.history.kpis import kpis_for
from compiler.parse import parse_file
from tests.conftest import FIXTURES, FOUR_STEPS, ROOT

GOLDEN = ROOT / "tests" / "golden" / "run"
HISTORY = FIXTURES / "history" / "PROC-TEST-001.jsonl"


def _section(text: str) -> str:
    start = text.index("## Metricas y KPIs") if "## Metricas y KPIs" in text else text.index("## Metrics")
    end = text.index("\n## ", start + 3)
    head = [line for line in text.splitlines() if line.startswith(("**Ultima", "**Tasa", "**Last", "**Success"))]
    return "\n".join(head) + "\n\n" + text[start:end].rstrip() + "\n"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_kpis_golden(tmp_path: Path, lang: str) -> None:
    (tmp_path / "procedures" / "history").mkdir(parents=True)
    shutil.copy(HISTORY, tmp_path / "procedures" / "history" / HISTORY.name)
    src = parse_file(FOUR_STEPS, "tests/fixtures/procedures/PROC-TEST-001-four-steps.yml")
    kpis = kpis_for(src, tmp_path, lang)  # type: ignore[arg-type]
    text = _section(runbook.render(src.procedure, lang, source=src.display, kpis=kpis))  # type: ignore[arg-type]
    golden = GOLDEN / f"kpis.{lang}.md"
    if os.environ.get("PROCC_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        return
    expected = golden.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            str(golden), "generated"))
        pytest.fail(f"KPIs differ from {golden.name} (PROCC_UPDATE_GOLDEN=1 to accept):\n{diff}")


def test_no_history_says_so(tmp_path: Path) -> None:
    src = parse_file(FOUR_STEPS, "x.yml")
    text = runbook.render(src.procedure, "es", source="x.yml", kpis=kpis_for(src, tmp_path, "es"))
    assert "Sin ejecuciones registradas" in text
    assert "XX" not in _section(text)
