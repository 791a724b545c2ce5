"""Item 10 of issue 8: state stays robust.

A malformed history record is skipped with a warning naming ``file:line``
and the catalog still compiles; generated files are written through a
temporary file created exclusively, so a symlink placed beforehand never
redirects the write.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from compiler.cli import main
from tests.conftest import ROOT

PROC = "PROC-BACKEND-001"
GOOD_START = {"schema": 1, "kind": "start", "run_id": "20260101T100000Z-aaaaaa", "procedure": PROC,
              "version": "1.0.0", "start": "2026-01-01T10:00:00Z", "environment": "staging",
              "executor": "Ana Ruiz", "approved_by": None, "drill": False, "check": False}
GOOD_END = {"schema": 1, "kind": "end", "run_id": "20260101T100000Z-aaaaaa", "end": "2026-01-01T10:10:00Z",
            "duration": 600, "outcome": "success", "rollbacks": [], "steps": []}


def _bad(**fields: object) -> str:
    return json.dumps({**GOOD_END, "run_id": "20260102T100000Z-bbbbbb", **fields})


BAD_LINES = {
    "not-json": '{"kind": "end", "run_id": ',
    "rollbacks-int": _bad(rollbacks=5),
    "steps-string": _bad(steps="todos"),
    "duration-string": _bad(duration="diez minutos"),
    "executor-object": json.dumps({**GOOD_START, "run_id": "r2", "executor": {"name": "x"}}),
    "drill-string": json.dumps({**GOOD_START, "run_id": "r3", "drill": "yes"}),
    "not-an-object": "[1, 2, 3]",
    "a-string": '"hola"',
    "no-run-id": json.dumps({"kind": "end", "outcome": "success"}),
    "no-kind": json.dumps({"run_id": "r4", "outcome": "success"}),
    "huge-integer": '{"run_id": "r5", "kind": "end", "duration": ' + "9" * 5000 + "}",
    "deep-nesting": "[" * 100000 + "]" * 100000,
    "invalid-utf8": '{"run_id": "r6", "kind": "end", "executor": "\xff"}',
}


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the whole catalog (sources and roles), as its own project."""
    shutil.copytree(ROOT / "procedures", tmp_path / "procedures",
                    ignore=shutil.ignore_patterns("history"))
    shutil.copytree(ROOT / "roles", tmp_path / "roles")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name", sorted(BAD_LINES))
def test_malformed_history_line_is_skipped_with_file_and_line(
        catalog: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    hist = catalog / "procedures" / "history" / f"{PROC}.jsonl"
    hist.parent.mkdir()
    line = BAD_LINES[name]
    data = (json.dumps(GOOD_START) + "\n" + line + "\n" + json.dumps(GOOD_END) + "\n").encode(
        "utf-8", "surrogateescape")
    if name == "invalid-utf8":
        data = data.replace("\xff".encode(), b"\xff")
    hist.write_bytes(data)
    assert main(["compile", "-q"]) == 0
    err = capsys.readouterr().err
    assert f"procedures/history/{PROC}.jsonl:2: warning:" in err, err
    assert "internal error" not in err
    # The good run around the bad line still counts.
    runbook = (catalog / "docs" / "backend" / "procedures" / "PROC-BACKEND-001-deploy-release.md").read_text(
        encoding="utf-8")
    assert "**Tasa de Exito:** 100% (basado en la ultima ejecucion)" in runbook
    assert runbook.count("| Ana Ruiz |") == 1


def test_unreadable_history_is_a_warning(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hist = catalog / "procedures" / "history" / f"{PROC}.jsonl"
    hist.mkdir(parents=True)  # a directory where the file should be
    assert main(["compile", "-q"]) == 0
    assert f"procedures/history/{PROC}.jsonl:1: warning: cannot read the history" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", ["md", "yml"])
def test_preplaced_tmp_symlink_is_never_followed(catalog: Path, suffix: str) -> None:
    victim = catalog / "victim.txt"
    victim.write_text("do not touch\n", encoding="utf-8")
    out_dir = catalog / ("docs/backend/procedures" if suffix == "md" else "playbooks")
    out_dir.mkdir(parents=True)
    stem = "PROC-BACKEND-001-deploy-release"
    trap = out_dir / f".{stem}.{suffix}.tmp"
    trap.symlink_to(victim)
    assert main(["compile", "-q", PROC]) == 0
    assert victim.read_text(encoding="utf-8") == "do not touch\n"
    assert os.readlink(trap) == str(victim)  # left as it was
    out = out_dir / f"{stem}.{suffix}"
    assert not out.is_symlink() and out.stat().st_size > 1000
    assert [p.name for p in out_dir.iterdir() if p.name.endswith(".tmp")] == [trap.name]


def test_symlink_at_the_output_is_replaced_not_followed(catalog: Path) -> None:
    victim = catalog / "victim.txt"
    victim.write_text("do not touch\n", encoding="utf-8")
    out = catalog / "playbooks" / "PROC-BACKEND-001-deploy-release.yml"
    out.parent.mkdir()
    out.symlink_to(victim)
    assert main(["compile", "-q", PROC]) == 0
    assert victim.read_text(encoding="utf-8") == "do not touch\n"
    assert not out.is_symlink() and "\n---\n- name: PROC-BACKEND-001" in out.read_text(encoding="utf-8")


def test_output_written_with_the_usual_permissions(catalog: Path) -> None:
    assert main(["compile", "-q", PROC]) == 0
    mode = (catalog / "playbooks" / "PROC-BACKEND-001-deploy-release.yml").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_unwritable_output_dir_is_a_clean_error(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (catalog / "blocker").write_text("a file, not a directory\n", encoding="utf-8")
    code = main(["compile", "-q", PROC, "--docs-dir", "blocker/docs"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot write {catalog / 'blocker/docs/PROC-BACKEND-001-deploy-release.md'}" in err
    assert "internal error" not in err


def test_records_as_procc_writes_them_are_kept(tmp_path: Path) -> None:
    """The type check refuses wrong types only: every shape procc's runs and rollbacks write is read."""
    from compiler.history.store import read

    hist = tmp_path / "h.jsonl"
    lines = [
        {**GOOD_START, "forced": "forced: no staging run of 1.0.0", "approved_by": "Luis", "drill": True,
         "fail_at": 2, "limit": "web1", "params": {"workdir": "/tmp/w"}, "source_sha256": "0" * 64},
        {**GOOD_END, "rc": 2, "aborted": False, "failed_step": 2, "started": [1, 2], "rollbacks": [2, 1],
         "rollbacks_failed": [], "irreversible": [], "drill_passed": True, "summary": "DRILL PASSED",
         "duration": 12.345, "steps": [{"step": 1, "status": "ok", "duration": 3}]},
        {**GOOD_START, "run_id": "r-rollback", "rollback_of": "full", "forced": None},
        {"schema": 1, "kind": "end", "run_id": "r-rollback", "end": "2026-01-01T11:00:00Z",
         "outcome": "success", "rc": 0},
    ]
    hist.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    runs, problems = read(hist)
    assert problems == []
    assert [r.run_id for r in runs] == ["20260101T100000Z-aaaaaa", "r-rollback"]


def test_a_run_directory_placed_beforehand_is_never_reused(tmp_path: Path) -> None:
    """procc creates each run's private directory itself (0700); a pre-placed one is refused."""
    from compiler.errors import UsageError
    from compiler.parse import parse_file
    from compiler.runner import RunRequest, prepare
    from tests.conftest import FOUR_STEPS

    victim = tmp_path / "victim"
    victim.mkdir()
    req = RunRequest(source=parse_file(FOUR_STEPS), root=tmp_path, params={}, runs_dir=tmp_path / "runs",
                     run_id="20261129T000000Z-abcdef")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / req.run_id).symlink_to(victim)
    with pytest.raises(UsageError, match="already exists"):
        prepare(req)
    assert list(victim.iterdir()) == []
    req2 = RunRequest(source=parse_file(FOUR_STEPS), root=tmp_path, params={}, runs_dir=tmp_path / "runs")
    data = prepare(req2)
    assert (data.stat().st_mode & 0o777) == 0o700
