"""Benchmark: procc lint of a 50+ procedure catalog (target: under 1 s per 50 procedures).

Run from the repository root:

    .venv/bin/python benchmarks/bench_lint.py [--count 60] [--repeat 5]

It copies the catalog's procedures (procedures/*.yml and the test fixtures'
procedures) into a temporary directory under new ids PROC-BENCH-NNN until
there are ``--count`` of them, then times ``lint_files`` over the whole
directory (parse + validate + every rule), in process, best of ``--repeat``,
and once more through ``procc lint`` as a subprocess (interpreter start-up
included). Prints seconds per 50 procedures.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compiler.lint.engine import lint_files  # noqa: E402
from compiler.lint.registry import RULES  # noqa: E402

SEEDS = [*sorted((ROOT / "procedures").glob("*.yml")),
         *sorted((ROOT / "tests" / "fixtures" / "procedures").glob("*.yml"))]
_ID = re.compile(r"^id: PROC-[A-Z0-9-]+-\d{3}$", re.MULTILINE)


def make_catalog(dest: Path, count: int) -> list[Path]:
    """``count`` procedures in ``dest/procedures``, copies of the seeds with distinct ids."""
    procs = dest / "procedures"
    procs.mkdir(parents=True)
    out = []
    for i in range(count):
        seed = SEEDS[i % len(SEEDS)]
        text = _ID.sub(f"id: PROC-BENCH-{i:03d}", seed.read_text(encoding="utf-8"), count=1)
        path = procs / f"PROC-BENCH-{i:03d}-{seed.stem.split('-', 3)[-1]}.yml"
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60, help="procedures in the catalog (>= 50)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (best is reported)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="procc-bench-") as tmp:
        files = make_catalog(Path(tmp), max(args.count, 50))
        pairs = [(f, f.name) for f in files]
        result = lint_files(pairs)  # warm-up, and a sanity check
        assert result.files == len(files)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            lint_files(pairs)
            times.append(time.perf_counter() - start)
        best = min(times)
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "procc"), "lint", "--format=json"],
                       cwd=tmp, capture_output=True, check=False)
        cli = time.perf_counter() - start
    n = len(files)
    per50 = best * 50 / n
    print(f"procc lint benchmark: {n} procedures, {len(RULES)} rules, {len(SEEDS)} seed sources")
    print(f"  in process (best of {args.repeat}): {best:.3f} s total, "
          f"{best / n * 1000:.1f} ms/procedure, {per50:.3f} s per 50 procedures")
    print(f"  procc lint subprocess (start-up included): {cli:.3f} s total, "
          f"{cli * 50 / n:.3f} s per 50 procedures")
    print(f"  target < 1 s per 50 procedures: {'OK' if cli * 50 / n < 1 else 'MISSED'}")
    return 0 if cli * 50 / n < 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
