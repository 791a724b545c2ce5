"""Helpers for real ``procc run`` tests: a throw-away project and procc as a subprocess."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import FIXTURES

BIN = Path(sys.executable).parent
PROCC = str(BIN / "procc")


def project(tmp: Path, *names: str) -> Path:
    """A project root in ``tmp`` with the named fixture procedures (by file stem prefix)."""
    root = tmp / "proj"
    (root / "procedures").mkdir(parents=True, exist_ok=True)
    for name in names:
        for f in (FIXTURES / "procedures").glob(f"{name}*.yml"):
            shutil.copy(f, root / "procedures" / f.name)
    (root / "work").mkdir(exist_ok=True)
    return root


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("PROCC_")}
    e.update({"PROCC_EXECUTOR": "tester", "PATH": f"{BIN}:{os.environ.get('PATH', '')}"})
    e.update(extra)
    return e


def procc(root: Path, *args: str, extra_env: dict[str, str] | None = None,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run procc in ``root`` (stdin not a terminal) and wait."""
    return subprocess.run([PROCC, *args], cwd=root, env=env(**(extra_env or {})), text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def start(root: Path, *args: str, out: Path) -> subprocess.Popen[bytes]:
    """Start procc in the background in its own session, output to ``out``."""
    fh = out.open("wb")
    return subprocess.Popen([PROCC, *args], cwd=root, env=env(), stdout=fh, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def wait_for(cond: Callable[[], bool], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def pids(marker: str) -> list[int]:
    """Processes whose command line contains ``marker`` (unique per test)."""
    res = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False)
    return [int(p) for p in res.stdout.split() if int(p) != os.getpid()]


def kill_marker(marker: str) -> None:
    for pid in pids(marker):
        with contextlib.suppress(OSError):
            os.kill(pid, 9)


def runner_inventory(root: Path, name: str) -> Path:
    """``inventories/<name>/hosts``: localhost with the local connection."""
    d = root / "inventories" / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "hosts").write_text(
        f"[all]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n",
        encoding="utf-8")
    return d
