"""``--check`` of every catalog procedure: the probes run for real, nothing changes, the run ends "check".

Each procedure runs once in check mode against the demo backend and
PostgreSQL, set up so that its pre-flight checks pass. The demo directories
(and the other directories the procedure writes to) are fingerprinted before
and after: paths, contents, modes and symlink targets; the database by its
table checksums. The health check also runs for real: it reports changed=0.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
from pathlib import Path

import pytest
from support.demo import free_port
from support.playbooks import dump, run_play

from compiler.history.events import Tracker
from compiler.parse import parse_file
from compiler.progress import PlainDisplay
from compiler.recap import Recap
from compiler.runner import RunRequest
from compiler.session import Outcome, RunContext, run
from tests.catalog.conftest import DB, Demo, source_of
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.ansible, pytest.mark.postgres]

CATALOG = [f"PROC-BACKEND-00{k}" for k in range(8)]


def fingerprint(*roots: Path) -> dict[str, str]:
    """Every path under ``roots``: type, mode, content hash or link target.

    The demo backend appends a line to its own log for every request (the
    probes make some): log files count by name only.
    """
    out: dict[str, str] = {}
    for root in roots:
        if not root.exists():
            out[str(root)] = "absent"
            continue
        out[str(root)] = f"dir {oct(root.lstat().st_mode)}"
        for dirpath, dirnames, filenames in os.walk(root):
            for name in sorted(dirnames + filenames):
                p = Path(dirpath) / name
                st = p.lstat()
                if stat.S_ISLNK(st.st_mode):
                    out[str(p)] = f"link -> {os.readlink(p)}"
                elif stat.S_ISDIR(st.st_mode):
                    out[str(p)] = f"dir {oct(st.st_mode)}"
                elif p.parent.name == "log" and name.startswith("demo-backend.log"):
                    out[str(p)] = f"log {oct(st.st_mode)}"
                else:
                    out[str(p)] = f"file {oct(st.st_mode)} {hashlib.sha256(p.read_bytes()).hexdigest()}"
    return out


def _fake_backup(root: Path, name: str) -> None:
    d = root / name
    d.mkdir(parents=True)
    data = b"dump " + name.encode()
    (d / "db.dump").write_bytes(data)
    (d / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  db.dump\n", encoding="utf-8")


def _setup(proc_id: str, demo: Demo, tmp: Path) -> tuple[dict[str, str], list[Path]]:
    """Parameters under which ``proc_id``'s pre-flight passes, and the directories it may write to."""
    tmp.mkdir(parents=True, exist_ok=True)
    backups = tmp / "backups"
    if proc_id == "PROC-BACKEND-000":
        report = tmp / "report"
        report.mkdir()
        return {**demo.params, "report_dir": str(report)}, []
    if proc_id == "PROC-BACKEND-001":
        return {**demo.params, "release": "v2"}, []
    if proc_id == "PROC-BACKEND-002":
        # An installed release to go back to, not the active one.
        shutil.copytree(demo.base / "releases" / "v1", demo.base / "releases" / "v0", symlinks=True)
        (demo.base / "releases" / "v0" / "VERSION").write_text("v0\n", encoding="utf-8")
        return {**demo.params, "target_release": "v0"}, []
    if proc_id == "PROC-BACKEND-003":
        backups.mkdir()
        return {**demo.params, "backup_root": str(backups)}, [backups]
    if proc_id == "PROC-BACKEND-004":
        for i in range(4):
            _fake_backup(backups, f"backup-{i}")
        return {**demo.params, "backup_root": str(backups), "keep_backups": "1", "log_retention_days": "0",
                "log_max_kb": "0"}, [backups]
    if proc_id == "PROC-BACKEND-005":
        evidence = tmp / "evidence"
        return {**demo.params, "evidence_dir": str(evidence)}, [evidence]
    if proc_id == "PROC-BACKEND-006":
        second = tmp / "instance-2"
        return {**demo.params, "release": "v1", "new_instance_dir": str(second), "new_port": str(free_port())}, [second]
    assert proc_id == "PROC-BACKEND-007"
    res = run_play(tmp / "backup-play", [{"name": "Backup", "ansible.builtin.include_role": {"name": "backup"}}],
                   play_vars={"backup_root": str(backups), "backup_label": "nightly", "backup_db_name": DB,
                              "backup_db_host": demo.pg.host, "backup_db_port": str(demo.pg.port),
                              "backup_db_user": demo.pg.user})
    assert res.ok, dump(res)
    return {**demo.params, "backup_root": str(backups)}, [backups]


def procc_run(proc_id: str, params: dict[str, str], tmp: Path, check: bool) -> tuple[Outcome, Recap, str]:
    """One run through the session (lock, tracker, outcome, end record), not recorded."""
    path = source_of(proc_id)
    src = parse_file(path, f"procedures/{path.name}")
    req = RunRequest(source=src, root=ROOT, params=params, check=check, runs_dir=tmp / "runs")
    tracker = Tracker(src.procedure)
    shown = io.StringIO()
    recap = Recap(PlainDisplay(tracker, shown), check=check, phase=lambda: tracker.event_phase)
    out = run(req, RunContext(record=False), recap, tracker)
    return out, recap, shown.getvalue()


@pytest.mark.parametrize("proc_id", CATALOG)
def test_check_mode_changes_nothing(demo: Demo, tmp_path: Path, proc_id: str) -> None:
    params, dirs = _setup(proc_id, demo, tmp_path / "setup")
    roots = [demo.base, *dirs]
    before, db_before = fingerprint(*roots), demo.checksums()
    out, recap, shown = procc_run(proc_id, params, tmp_path, check=True)
    why = f"{out.result.summary}\n{shown}"
    assert out.result.rc == 0, why
    assert out.outcome == "check" and out.record["check"] is True, why
    assert fingerprint(*roots) == before, why
    assert demo.checksums() == db_before
    # No rollback ran or is claimed.
    assert out.record["rollbacks"] == [] and out.record["rollbacks_failed"] == [], why
    assert "<<" not in shown, why
    # The pre-flight checks ran for real.
    assert "         ok  localhost  Paso P1 | " in shown, why
    proc = parse_file(source_of(proc_id)).procedure
    mutating = [k for k, s in enumerate(proc.steps, 1) if s.changes is not False]
    assert sorted(recap.would_run_steps) == mutating, why
    assert demo.get("/health")[0] == 200


def test_health_check_reports_nothing_changed(demo: Demo, tmp_path: Path) -> None:
    """A real run of the read-only procedure: every step ran, none changed anything."""
    params, _ = _setup("PROC-BACKEND-000", demo, tmp_path / "setup")
    out, recap, shown = procc_run("PROC-BACKEND-000", params, tmp_path, check=False)
    assert out.outcome == "success", f"{out.result.summary}\n{shown}"
    assert recap.hosts["localhost"].changed == 0, recap.lines()
    assert recap.hosts["localhost"].ok > 10
    assert "  changed  " not in shown
    assert len(list((tmp_path / "setup" / "report").iterdir())) == 1
