"""The ``changes`` field: its validation with positions, the playbook it compiles to, the runbook's words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler import playbook, runbook
from compiler.errors import CompileError
from compiler.parse import parse_file
from compiler.schema import schema_text
from tests.conftest import FIXTURES

CHANGES = FIXTURES / "procedures" / "PROC-TEST-020-changes.yml"


def _with(step_extra: str) -> str:
    """PROC-TEST-020's text with ``step_extra`` lines added to its module step (step 5)."""
    text = CHANGES.read_text(encoding="utf-8")
    anchor = "    title: Escribir la configuracion con un modulo\n"
    return text.replace(anchor, anchor + step_extra)


def _errors(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "p.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CompileError) as exc:
        parse_file(path, "p.yml")
    return [d.format() for d in exc.value.diagnostics]


def test_a_condition_is_only_for_commands(tmp_path: Path) -> None:
    errs = _errors(_with("    changes: {rc: 2}\n"), tmp_path)
    assert len(errs) == 1 and errs[0].startswith("p.yml:") and "only for 'run' actions" in errs[0], errs


def test_a_condition_needs_something_to_test(tmp_path: Path) -> None:
    text = CHANGES.read_text(encoding="utf-8").replace("changes: {rc: 2}", "changes: {}")
    errs = _errors(text, tmp_path)
    assert any("needs rc, stdout_contains or stdout_regex" in e for e in errs), errs


def test_rc_zero_cannot_mean_changed(tmp_path: Path) -> None:
    text = CHANGES.read_text(encoding="utf-8").replace("changes: {rc: 2}", "changes: {rc: 0}")
    assert _errors(text, tmp_path)


def _task(tasks: list[dict[str, object]], name: str, block: bool = False) -> dict[str, object]:
    """The task (or block) named ``name``: a step's block shares its command's name."""
    for t in tasks:
        if t.get("name") == name and ("block" in t) == block:
            return t
        for key in ("block", "rescue", "always"):
            inner = t.get(key)
            if isinstance(inner, list):
                try:
                    return _task(inner, name, block)
                except KeyError:
                    pass
    raise KeyError(name)


def test_the_playbook_says_what_changes_and_what_runs_under_check() -> None:
    src = parse_file(CHANGES, "x.yml")
    tasks = playbook.build(src.procedure)[0]["tasks"]
    read = _task(tasks, "Paso 1 | Leer el estado (solo lectura)")
    assert read["changed_when"] is False and read["check_mode"] is False
    rc = _task(tasks, "Paso 2 | Crear la marca rc (exit 2 si cambia)")
    assert rc["changed_when"] == "procc_step_2.rc == 2"
    assert rc["failed_when"] == "procc_step_2.rc not in [0, 2]" and rc["register"] == "procc_step_2"
    assert "check_mode" not in rc
    out = _task(tasks, "Paso 3 | Crear la marca de salida si falta")
    assert out["changed_when"] == "procc_changed_contains in procc_step_3.stdout"
    assert out["vars"] == {"procc_changed_contains": "created"}
    assert _task(tasks, "Paso 4 | Crear la marca touch")["changed_when"] is True
    assert _task(tasks, "Paso 2 | Validar | Crear la marca rc (exit 2 si cambia)")["when"] == [
        "not ansible_check_mode", "procc_lost | length == 0"]
    assert _task(tasks, "Paso 1 | Validar | Leer el estado (solo lectura)")["when"] == "procc_lost | length == 0"
    assert _task(tasks, "Paso P1 | Leer la semilla")["check_mode"] is False
    assert "not ansible_check_mode" in str(_task(tasks, "Paso 2 | Rollback", block=True)["when"])


def test_the_runbook_says_what_each_step_changes() -> None:
    src = parse_file(CHANGES, "x.yml")
    es = runbook.render(src.procedure, "es", source="x.yml")
    assert "**Cambios:** Solo lectura" in es
    assert "**Cambios:** Cambia el sistema solo cuando el codigo de salida es 2 (0 y 2 son exito)" in es
    assert "**Cambios:** Cambia el sistema solo cuando la salida contiene `created`" in es
    assert "**Cambios:** Cambia el sistema; con --check el modulo simula el cambio" in es
    en = runbook.render(src.procedure, "en", source="x.yml")
    assert "**Changes:** Read-only: never changes anything; runs for real under --check" in en


def test_the_schema_documents_changes() -> None:
    text = schema_text()
    assert '"ChangesWhen"' in text and "changed only when the command's result says so" in text


def test_a_check_run_is_never_rolled_back(tmp_path: Path) -> None:
    """``procc rollback --run`` of a --check run refuses: its steps never ran (exit 2, nothing executed)."""
    from tests.run.helpers import procc, project

    root = project(tmp_path, "PROC-TEST-001")
    (root / "procedures" / "history").mkdir()
    shutil.copy(FIXTURES / "history" / "PROC-TEST-001.jsonl", root / "procedures" / "history")
    res = procc(root, "rollback", "PROC-TEST-001", "--run", "20260106T100000Z-ffffff", "-e", "workdir=/tmp/x")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "was a check run (--check)" in res.stderr
    assert not (root / ".procc" / "runs").exists() or not any((root / ".procc" / "runs").iterdir())
