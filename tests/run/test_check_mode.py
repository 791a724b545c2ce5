"""Check mode and true changed status, through ``procc run`` and plain ``ansible-playbook --check``.

The fixture PROC-TEST-020 has a read-only step (``changes: false``), a step
changed when its exit status is 2 (``changes: {rc: 2}``), one changed when its
output says so (``changes: {stdout_contains: created}``, here it does not), a
plain command, a module step (copy, for ``--diff``) and a read-only last step
that can be made to fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.run.helpers import BIN, env, procc, project

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

PROC = "PROC-TEST-020"
WOULD_RUN = ("would run: Paso 2 (Crear la marca rc (exit 2 si cambia)), Paso 3 (Crear la marca de salida si "
             "falta), Paso 4 (Crear la marca touch), Paso 5 (Escribir la configuracion con un modulo), "
             "Post-Ejecucion | Registrar fin")


def _project(tmp: Path) -> tuple[Path, Path]:
    root = project(tmp, PROC)
    work = root / "work"
    (work / "seed").write_text("seed-4f1c\n", encoding="utf-8")
    return root, work


def _fingerprint(d: Path) -> dict[str, str]:
    return {p.name: f"{oct(p.lstat().st_mode)} {hashlib.sha256(p.read_bytes()).hexdigest()}"
            for p in sorted(d.iterdir())}


def _end_record(root: Path) -> dict[str, object]:
    lines = (root / "procedures" / "history" / f"{PROC}.jsonl").read_text(encoding="utf-8").splitlines()
    end = json.loads(lines[-1])
    assert end["kind"] == "end"
    return dict(end)


def _line(status: str, task: str) -> str:
    return f"{status:>11}  localhost  {task}"


def test_real_run_reports_only_what_changed(tmp_path: Path) -> None:
    root, work = _project(tmp_path)
    res = procc(root, "run", PROC, "--plain", "--diff", "-e", f"workdir={work}")
    out = res.stdout
    assert res.returncode == 0, out + res.stderr
    assert _line("ok", "Paso 1 | Leer el estado (solo lectura)") in out  # changes: false
    assert _line("changed", "Paso 2 | Crear la marca rc (exit 2 si cambia)") in out  # rc 2: changed, not failed
    assert _line("ok", "Paso 3 | Crear la marca de salida si falta") in out  # output says nothing was created
    assert _line("changed", "Paso 4 | Crear la marca touch") in out  # a command changes by default
    assert _line("changed", "Paso 5 | Escribir la configuracion con un modulo") in out
    assert _line("ok", "Paso 6 | Comprobar al final (solo lectura)") in out
    assert _line("ok", "Paso P1 | Leer la semilla") in out
    # --diff: the module step shows what it wrote.
    assert "+port: 8080" in out
    # Per-host counts: steps 2, 4 and 5 and the post-execution command changed; nothing else.
    assert "hosts: localhost: ok=" in out and " changed=4 failed=0" in out, out
    assert _end_record(root)["outcome"] == "success"
    assert _end_record(root)["check"] is False


def test_check_run_runs_probes_changes_nothing_and_is_recorded_as_check(tmp_path: Path) -> None:
    root, work = _project(tmp_path)
    before = _fingerprint(work)
    res = procc(root, "run", PROC, "--plain", "--check", "--diff", "-e", f"workdir={work}")
    out = res.stdout
    assert res.returncode == 0, out + res.stderr
    assert f"== {PROC} v1.0.0: CHECK ==" in out
    assert _fingerprint(work) == before
    # Probes and read-only steps ran for real; commands are "would run"; their validations not checked.
    assert _line("ok", "Paso P1 | Leer la semilla") in out
    assert _line("ok", "Paso 1 | Validar | Leer el estado (solo lectura)") in out
    assert _line("ok", "Paso 6 | Comprobar al final (solo lectura)") in out
    assert _line("would run", "Paso 2 | Crear la marca rc (exit 2 si cambia)") in out
    assert _line("not checked", "Paso 2 | Validar | Crear la marca rc (exit 2 si cambia)") in out
    assert _line("not checked", "Validacion Final | Las marcas existen") in out
    assert WOULD_RUN in out
    assert "+port: 8080" in out  # the module's simulated change, with --diff
    assert "rollbacks executed: none" in out
    assert "check mode cannot simulate" not in out + res.stderr
    end = _end_record(root)
    assert end["outcome"] == "check" and end["check"] is True and end["rollbacks"] == []


def test_a_failing_check_run_claims_no_rollback(tmp_path: Path) -> None:
    root, work = _project(tmp_path)
    before = _fingerprint(work)
    res = procc(root, "run", PROC, "--plain", "--check", "-e", f"workdir={work}", "-e", "fail_last=yes")
    out = res.stdout
    assert res.returncode == 1, out + res.stderr
    assert f"== {PROC} v1.0.0: CHECK FAILED ==" in out
    assert "failed step: Paso 6" in out
    assert "rollbacks executed: none" in out
    assert not [line for line in out.splitlines() if "Rollback" in line and line.lstrip().startswith("ok")]
    assert _fingerprint(work) == before
    end = _end_record(root)
    assert end["outcome"] == "failed" and end["check"] is True
    assert end["rollbacks"] == [] and end["rollbacks_failed"] == []


def test_check_and_drill_do_not_mix(tmp_path: Path) -> None:
    root, work = _project(tmp_path)
    res = procc(root, "run", PROC, "--check", "--fail-at", "2", "-e", f"workdir={work}")
    assert res.returncode == 2
    assert "--check cannot be combined with --fail-at" in res.stderr


def test_plain_ansible_playbook_check_runs_probes_and_changes_nothing(tmp_path: Path) -> None:
    root, work = _project(tmp_path)
    assert procc(root, "compile").returncode == 0
    playbook = next((root / "playbooks").glob(f"{PROC}*.yml"))
    before = _fingerprint(work)
    res = subprocess.run(
        [str(BIN / "ansible-playbook"), "--check", "--diff", "-v", "-i", "localhost,", "-c", "local",
         "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"workdir={work}", str(playbook)],
        cwd=root, env={**env(), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_ROLES_PATH": str(root / "roles")},
        capture_output=True, text=True, timeout=180, check=False)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr
    assert _fingerprint(work) == before
    tasks = _task_results(res.stdout)
    # The pre-flight probe and the read-only steps ran for real: their output is the seed.
    assert tasks["Paso P1 | Leer la semilla"].startswith("ok:") and "seed-4f1c" in tasks["Paso P1 | Leer la semilla"]
    assert "seed-4f1c" in tasks["Paso 1 | Leer el estado (solo lectura)"]
    assert tasks["Paso 2 | Crear la marca rc (exit 2 si cambia)"].startswith("skipping:")
    assert tasks["Paso 4 | Validar | Crear la marca touch"].startswith("skipping:")
    assert "changed: [localhost]" in tasks["Paso 5 | Escribir la configuracion con un modulo"]
    assert "+port: 8080" in tasks["Paso 5 | Escribir la configuracion con un modulo"]
    assert not any(name.endswith("OK") and body.startswith("ok:") for name, body in tasks.items())
    assert os.path.exists(work / "seed") and not (work / "config").exists()


def _task_results(stdout: str) -> dict[str, str]:
    """ansible-playbook's default output: task name -> the text of its result."""
    out: dict[str, str] = {}
    name = ""
    for line in stdout.splitlines():
        if line.startswith("TASK [") and "]" in line:
            name = line[len("TASK ["):line.rindex("]")]
            out[name] = ""
        elif name:
            out[name] += line.strip() + "\n" if out[name] or line.strip() else ""
    return out


def test_check_mode_skips_an_asynchronous_step(tmp_path: Path) -> None:
    """An interruptible (async) step is not started under --check: the shell module would not skip it."""
    root = project(tmp_path, "PROC-TEST-002")
    work = root / "work"
    res = procc(root, "run", "PROC-TEST-002", "--plain", "--check", "-e", f"workdir={work}", "-e", "seconds=30")
    assert res.returncode == 0, res.stdout + res.stderr
    assert _line("would run", "Paso 2 | Paso lento") in res.stdout
    assert "would run: Paso 1 (Crear marca rapida), Paso 2 (Paso lento)" in res.stdout
    assert list(work.iterdir()) == []
