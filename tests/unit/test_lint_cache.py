"""The lint cache (compiler.lint.cached): never stale, never trusted blindly, same report as without it.

Each input a file's findings depend on is edited once and the findings must
follow; a hit must not run a rule (else the cache would save nothing); a
corrupt entry is a miss; the pool for misses reports what a serial run does.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from compiler import build, cache
from compiler.cli import main
from compiler.lint import cached, engine
from compiler.lint.report import render
from compiler.lint.result import LintResult
from tests.conftest import ROOT

CLEAN = ROOT / "tests" / "lint" / "fixtures" / "clean.yml"
TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "procedures").mkdir()
    shutil.copy(CLEAN, tmp_path / "procedures" / "PROC-A.yml")
    shutil.copytree(ROOT / "roles", tmp_path / "roles", ignore=shutil.ignore_patterns("molecule", "files"))
    shutil.copy(ROOT / "galaxy.yml", tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(root: Path, today: dt.date = TODAY, **kw: object) -> LintResult:
    files = sorted((root / "procedures").glob("*.yml"))
    return cached.lint_catalog([(f, f"procedures/{f.name}") for f in files],
                               cached.settings(root, today, **kw), jobs=1)  # type: ignore[arg-type]


def codes(result: LintResult) -> list[str]:
    return [d.code for d in result.findings]


def entries(root: Path) -> list[Path]:
    return [p for p in (root / cache.CACHE_DIR).rglob("*") if p.is_file() and "blobs" not in p.parts]


def forbid_linting(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> LintResult:
        raise AssertionError("linted again: the cache missed")
    monkeypatch.setattr(engine, "lint_file", boom)


def test_a_hit_runs_no_rule_and_reports_the_same(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = lint(project, dt.date(2028, 1, 1))  # with a finding: stale
    assert len(entries(project)) == 1
    forbid_linting(monkeypatch)
    warm = lint(project, dt.date(2028, 1, 1))
    assert codes(warm) == ["stale-procedure"]
    for fmt in ("text", "json", "sarif", "github"):
        assert render(warm, fmt) == render(cold, fmt), fmt
    assert warm.suppressed == cold.suppressed and warm.files == cold.files == 1


def test_without_the_cache_nothing_is_stored_and_the_report_is_the_same(project: Path) -> None:
    without = lint(project, cache=False)
    assert entries(project) == []
    assert render(lint(project), "json") == render(without, "json")


def test_each_input_edited_changes_the_result(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = project / "procedures" / "PROC-A.yml"
    assert "stale-procedure" not in codes(lint(project))
    # The date staleness is measured against.
    assert "stale-procedure" in codes(lint(project, dt.date(2028, 1, 1)))
    # The source: a suppression that suppresses nothing.
    text = src.read_text(encoding="utf-8")
    assert "unused-suppression" not in codes(lint(project))
    src.write_text(text + "lint:\n  ignore:\n    - {rule: curl-pipe-shell, reason: no se usa curl aqui}\n",
                   encoding="utf-8")
    assert "unused-suppression" in codes(lint(project))
    src.write_text(text, encoding="utf-8")
    assert "unused-suppression" not in codes(lint(project))
    # The displayed path is in every finding: the same bytes under another name.
    shutil.move(src, project / "procedures" / "PROC-B.yml")
    assert {d.path for d in lint(project, dt.date(2028, 1, 1)).findings} == {"procedures/PROC-B.yml"}
    # The rules selected.
    s = cached.settings(project, dt.date(2028, 1, 1), only=["step-missing-validation"])
    f = project / "procedures" / "PROC-B.yml"
    assert codes(cached.lint_catalog([(f, "procedures/PROC-B.yml")], s, jobs=1)) == []


def test_procc_code_and_roles_are_in_the_key(project: Path) -> None:
    s = cached.settings(project, TODAY)
    raw = b"id: X\n"
    base = cached.lint_key("p.yml", raw, s)
    assert cached.lint_key("p.yml", raw, s) == base
    assert cached.lint_key("p.yml", raw, cached.LintSettings(**{**vars(s), "code": "other"})) != base
    assert cached.lint_key("q.yml", raw, s) != base
    assert cached.lint_key("p.yml", raw + b" ", s) != base
    spec = next((project / "roles").glob("*/meta/argument_specs.yml"))
    spec.write_text(spec.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert cached.lint_key("p.yml", raw, cached.settings(project, TODAY)) != base
    assert cached.lint_key("p.yml", raw, cached.settings(project, TODAY, only=["x"])) != base


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(p.read_bytes()[:-5]),  # truncated: the hash no longer verifies
    lambda p: p.write_bytes(b"procc-cache-1 " + b"0" * 64 + b"\n{}"),  # wrong hash
    lambda p: p.write_bytes(b"garbage"),
])
def test_a_corrupt_entry_is_a_miss_and_is_rewritten(project: Path, damage: object) -> None:
    good = render(lint(project, dt.date(2028, 1, 1)), "json")
    (entry,) = entries(project)
    damage(entry)  # type: ignore[operator]
    assert render(lint(project, dt.date(2028, 1, 1)), "json") == good
    assert cache.Cache(project).get(entry.name) is not None


def test_a_verified_entry_of_another_layout_is_a_miss(project: Path) -> None:
    good = render(lint(project, dt.date(2028, 1, 1)), "json")
    (entry,) = entries(project)
    cache.Cache(project).put(entry.name, {"findings": [["p", "one", 1, "m", "c", "error"]], "suppressed": []})
    assert render(lint(project, dt.date(2028, 1, 1)), "json") == good


def test_the_pool_reports_what_a_serial_run_does(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (project / "procedures" / "PROC-A.yml").read_text(encoding="utf-8")
    for k in range(1, 6):
        (project / "procedures" / f"PROC-{k}.yml").write_text(text.replace("2026-11-01", f"2025-0{k}-01"),
                                                              encoding="utf-8")
    files = [(f, f"procedures/{f.name}") for f in sorted((project / "procedures").glob("*.yml"))]
    serial = cached.lint_catalog(files, cached.settings(project, TODAY, cache=False), jobs=1)
    monkeypatch.setattr(build, "PARALLEL_MIN", 2)
    pooled = cached.lint_catalog(files, cached.settings(project, TODAY), jobs=2)
    assert render(pooled, "json") == render(serial, "json")
    assert "stale-procedure" in codes(pooled)
    assert len(entries(project)) == 6  # the workers stored what they linted
    forbid_linting(monkeypatch)
    assert render(cached.lint_catalog(files, cached.settings(project, TODAY), jobs=2), "json") == render(serial, "json")


def test_cli_no_cache_and_jobs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--no-cache", "-j", "1", "--today", "2026-11-30"]) == 0
    assert entries(project) == []
    first = capsys.readouterr().out
    assert main(["lint", "--today", "2026-11-30"]) == 0
    assert capsys.readouterr().out == first and len(entries(project)) == 1
    with pytest.raises(SystemExit):
        main(["lint", "-j", "0"])
