"""Benchmark: ``procc compile`` of one very large procedure (target: a few seconds for 3,000 steps).

Run from the repository root:

    .venv/bin/python benchmarks/bench_compile_large.py [--steps 3000] [--repeat 1]

It writes a procedure with ``--steps`` steps (each with a command, a
validation and a rollback) into a temporary project and times ``procc
compile`` on it as a subprocess (interpreter start-up included), best of
``--repeat``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HEAD = """\
---
id: PROC-BENCH-001
type: maintenance
title: Procedimiento enorme
criticality: medium
frequency: on-demand
estimated_minutes: 3000
version: 1.0.0
updated: 2026-11-28
author: Equipo procc
hosts: all
parameters:
  workdir: {description: Directorio de trabajo, required: true, pattern: '^/[a-z/]+$'}
purpose:
  what: Muchos pasos.
steps:
"""

STEP = """\
  - title: Paso numero {k}
    minutes: 1
    run: |
      echo {k} >> {{{{ workdir }}}}/ran.log
      touch {{{{ workdir }}}}/m{k}
    validate:
      run: test -f {{{{ workdir }}}}/m{k}
    expected: Existe la marca {k}
    if_fails: [Revisar el directorio]
    rollback:
      run: rm -f {{{{ workdir }}}}/m{k}
"""


def write_source(dest: Path, steps: int) -> Path:
    """A procedure with ``steps`` steps in ``dest/procedures``."""
    procs = dest / "procedures"
    procs.mkdir(parents=True, exist_ok=True)
    path = procs / "PROC-BENCH-001-large.yml"
    path.write_text(HEAD + "".join(STEP.format(k=k) for k in range(1, steps + 1)), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    procc = Path(sys.executable).parent / "procc"
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        src = write_source(Path(tmp), args.steps)
        for _ in range(args.repeat):
            start = time.perf_counter()
            done = subprocess.run([str(procc), "compile", "-q", str(src), "--docs-dir", f"{tmp}/docs",
                                   "--playbooks-dir", f"{tmp}/playbooks"],
                                  cwd=tmp, capture_output=True, text=True, check=False)
            best = min(best, time.perf_counter() - start)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
    print(f"procc compile of {args.steps} steps: {best:.2f} s (best of {args.repeat})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
