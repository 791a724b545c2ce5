"""Item 5 of issue 12: ``procc new TYPE "Title" [--from PROC-ID]``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compiler import newproc
from compiler.cli import main
from compiler.yamlout import dump
from tests.conftest import FIXTURES, ROOT
from tests.support.golden import check_golden

BIN = Path(sys.executable).parent


def _run(cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out + cap.err


def test_scaffold_golden(request: pytest.FixtureRequest) -> None:
    data = newproc.guided("deployment", "PROC-BACKEND-008", "Desplegar la API", "Ana Ruiz", dt.date(2026, 11, 29))
    check_golden(request, newproc.HEADER + dump(data), ROOT / "tests" / "golden" / "new" / "deployment.yml")


def test_next_number_slug_and_area(tmp_path: Path) -> None:
    (tmp_path / "procedures").mkdir()
    assert newproc.next_number(tmp_path, "BACKEND") == 1 and newproc.default_area(tmp_path) == "BACKEND"
    for name in ("PROC-BACKEND-001-a.yml", "PROC-BACKEND-007-b.yml", "PROC-DB-041-c.yml", "PROC-DB-002-d.yml",
                 "PROC-DB-003-e.yml", "notes.yml"):
        (tmp_path / "procedures" / name).write_text("", encoding="utf-8")
    assert newproc.next_number(tmp_path, "BACKEND") == 8  # the highest + 1, not the first gap
    assert newproc.next_number(tmp_path, "DB") == 42
    assert newproc.default_area(tmp_path) == "DB"
    assert newproc.slug("Desplegar la API de pagos (v2): ñandú!") == "desplegar-la-api-de-pagos-v2-nandu"
    assert newproc.slug("../../etc/passwd; rm -rf /") == "etc-passwd-rm-rf"
    assert newproc.slug("日本語") == "procedimiento"
    assert len(newproc.slug("palabra " * 40)) <= newproc.MAX_SLUG


def test_new_compiles_and_lint_points_only_at_what_is_left(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "procedures").mkdir()
    shutil.copy(FIXTURES / "procedures" / "PROC-TEST-001-four-steps.yml", tmp_path / "procedures")
    made = []
    for n, ptype in enumerate(newproc.TYPES, 2):
        code, out = _run(tmp_path, monkeypatch, capsys, "new", ptype, "Título <b>nuevo</b> `x`", "--area", "test")
        assert code == 0, out
        path = tmp_path / "procedures" / f"PROC-TEST-{n:03d}-titulo-b-nuevo-b-x.yml"  # never overwrites: next number
        assert f"created procedures/{path.name}" in out
        assert (tmp_path / "docs/backend/procedures" / f"{path.stem}.md").is_file()  # compiled straight away
        assert (tmp_path / "playbooks" / f"{path.stem}.yml").is_file()
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["type"] == ptype and str(data["updated"]) == dt.date.today().isoformat()
        assert data["title"] == "Título <b>nuevo</b> `x`"
        made.append(f"procedures/{path.name}")
    code, out = _run(tmp_path, monkeypatch, capsys, "lint", "--format", "json", *made)
    findings = json.loads(out)["findings"]
    rules = {f["rule"] for f in findings}
    assert code == 1 and rules == {"template-placeholder"}, rules
    # Every new file has its TODOs pointed at.
    assert {f["path"] for f in findings} == set(made)


def test_new_from_copies_another_procedure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "procedures").mkdir()
    shutil.copy(FIXTURES / "procedures" / "PROC-TEST-001-four-steps.yml", tmp_path / "procedures")
    assert _run(tmp_path, monkeypatch, capsys, "compile")[0] == 0
    code, out = _run(tmp_path, monkeypatch, capsys, "new", "maintenance", "Otra", "--from", "PROC-TEST-001")
    assert code == 0, out
    new = yaml.safe_load((tmp_path / "procedures" / "PROC-TEST-002-otra.yml").read_text(encoding="utf-8"))
    old = yaml.safe_load((tmp_path / "procedures" / "PROC-TEST-001-four-steps.yml").read_text(encoding="utf-8"))
    assert new["id"] == "PROC-TEST-002" and new["version"] == "0.1.0" and new["title"] == "Otra"
    assert [s["title"] for s in new["steps"]] == [s["title"] for s in old["steps"]]
    assert len(new["changelog"]) == 1 and "PROC-TEST-001" in new["changelog"][0]["changes"]
    assert _run(tmp_path, monkeypatch, capsys, "check")[0] == 0  # new compiled it, and the index


@pytest.mark.parametrize(("argv", "needle"), [
    (["new", "deployment", "   "], "the title is empty"),
    (["new", "deployment", "X", "--area", "a/b"], "must be letters and digits"),
    (["new", "deployment", "X", "--from", "PROC-NOPE-404"], "PROC-NOPE-404"),
])
def test_new_refuses_bad_input_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    (tmp_path / "procedures").mkdir()
    code, out = _run(tmp_path, monkeypatch, capsys, *argv)
    assert code == 2 and needle in out and "Traceback" not in out, out
    assert list((tmp_path / "procedures").iterdir()) == []


@pytest.mark.slow
def test_new_compile_lint_on_a_fresh_clone(tmp_path: Path) -> None:
    """A fresh clone of this repository: procc new, compile, check, lint (only the TODOs are left)."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    subprocess.run(["git", "config", "user.name", "Ana Prueba"], cwd=clone, check=True)

    def procc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "procc"), *args], cwd=clone, capture_output=True, text=True,
                              timeout=300, check=False)

    res = procc("new", "scaling", "Escalar la API")
    assert res.returncode == 0, res.stdout + res.stderr
    made = sorted((clone / "procedures").glob("*-escalar-la-api.yml"))
    assert len(made) == 1
    data = yaml.safe_load(made[0].read_text(encoding="utf-8"))
    assert data["author"] == "Ana Prueba"
    res = procc("compile")
    assert res.returncode == 0, res.stderr
    res = procc("check")
    assert res.returncode == 0, res.stderr
    res = procc("lint", "--format", "json", str(made[0].relative_to(clone)))
    assert res.returncode == 1
    rules = {f["rule"] for f in json.loads(res.stdout)["findings"]}
    assert rules == {"template-placeholder"}, rules
