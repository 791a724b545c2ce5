"""Helpers for the security cases: a minimal procedure, compiled, run with plain ansible-playbook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from compiler import playbook, runbook, yamlout
from compiler.errors import CompileError
from compiler.parse import parse_text

BIN = Path(sys.executable).parent

HEADER = """\
id: PROC-SEC-001
type: maintenance
title: Caso de seguridad
criticality: low
frequency: on-demand
estimated_minutes: 1
version: 1.0.0
updated: 2026-11-29
author: Equipo procc
hosts: all
purpose: {what: Probar que los valores son datos.}
"""


def source(body: str) -> str:
    """A whole procedure: the fixed header plus ``body`` (parameters, steps ...)."""
    return HEADER + body


def diagnostics(text: str) -> list[str]:
    """The formatted compile errors of ``text`` (empty when it compiles)."""
    try:
        parse_text(text, "p.yml")
    except CompileError as exc:
        return [d.format() for d in exc.diagnostics]
    return []


def compiled(text: str, lang: str = "es") -> tuple[str, str]:
    """The playbook and the runbook of ``text``."""
    proc = parse_text(text, "p.yml")
    return playbook.render(proc, lang), runbook.render(proc, lang, "p.yml")  # type: ignore[arg-type]


def unsafe_vars_file(path: Path, values: dict[str, str]) -> Path:
    """Extra vars that Ansible never templates, written the way procc writes them (yamlout.extravars)."""
    path.write_text(yamlout.extravars(values), encoding="utf-8")
    return path


def ansible_playbook(tmp: Path, text: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Compile ``text`` and run its playbook with plain ansible-playbook on localhost."""
    pb = tmp / "play.yml"
    pb.write_text(compiled(text)[0], encoding="utf-8")
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": str(tmp / ".tmp"),
           "ANSIBLE_RETRY_FILES_ENABLED": "0", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "-e", f"ansible_python_interpreter={sys.executable}", *args, str(pb)]
    return subprocess.run(cmd, cwd=tmp, env=env, text=True, capture_output=True, timeout=timeout, check=False)
