"""Rollback runs and runs that matched no host in the runbook's figures (from a written history)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compiler import runbook
from compiler.history.kpis import kpis_for
from compiler.parse import parse_file
from tests.conftest import FOUR_STEPS


def _run(rid: str, day: int, outcome: str, **fields: Any) -> list[dict[str, Any]]:
    start = {"kind": "start", "run_id": rid, "procedure": "PROC-TEST-001", "version": "1.0.0",
             "environment": "local", "executor": "tester", "start": f"2026-01-0{day}T10:00:00Z", **fields}
    end = {"kind": "end", "run_id": rid, "end": f"2026-01-0{day}T10:05:00Z", "duration": 300,
           "outcome": outcome, "rc": 0 if outcome == "success" else 2}
    return [start, end]


def _figures(tmp_path: Path, records: list[dict[str, Any]]) -> tuple[dict[str, str], str]:
    hist = tmp_path / "procedures" / "history" / "PROC-TEST-001.jsonl"
    hist.parent.mkdir(parents=True)
    hist.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    src = parse_file(FOUR_STEPS, "x.yml")
    kpis = kpis_for(src, tmp_path, "es")
    text = runbook.render(src.procedure, "es", source="x.yml", kpis=kpis)
    return dict(kpis.stats), text


def test_rollback_runs_are_counted_as_rollbacks_never_as_runs(tmp_path: Path) -> None:
    records = [
        *_run("r1", 1, "success"),
        *_run("r2", 2, "failed"),
        *_run("r3", 3, "success", rollback_of="r2"),  # procc rollback --run r2
        *_run("r4", 4, "failed", rollback_of="full"),  # procc rollback (full), failed: still executed
    ]
    stats, text = _figures(tmp_path, records)
    assert stats["Rollbacks Ejecutados"] == "2 (2 con procc rollback)"
    assert stats["Ejecuciones Totales"] == "2"
    assert stats["Tasa de Exito"] == "50%"
    assert "**Tasa de Exito:** 50% (basado en ultimas 2 ejecuciones)" in text
    # The last execution is the last real run, not a rollback run.
    assert "**Ultima Ejecucion:** 2026-01-02 10:00 - FALLIDA" in text


def test_rollback_runs_alone_still_show(tmp_path: Path) -> None:
    stats, text = _figures(tmp_path, _run("r1", 1, "success", rollback_of="r0"))
    assert stats == {"Rollbacks Ejecutados": "1 (1 con procc rollback)"}
    assert "**Ultima Ejecucion:** Sin ejecuciones registradas" in text


def test_runs_that_matched_no_host_count_nowhere(tmp_path: Path) -> None:
    stats, text = _figures(tmp_path, [*_run("r1", 1, "success"), *_run("r2", 2, "no-hosts")])
    assert stats["Ejecuciones Totales"] == "1" and stats["Tasa de Exito"] == "100%"
    assert "**Ultima Ejecucion:** 2026-01-01 10:00 - EXITO" in text
    assert "NO-HOSTS" not in text
