"""``python -m benchmarks GROUP``: measure issue 14's figures and write benchmarks/RESULTS.md.

Run from the repository root with the project's virtualenv:

    .venv/bin/python -m benchmarks all              # every figure, one interleaved run, writes RESULTS.md
    .venv/bin/python -m benchmarks lint --repeat 3  # one group (compile|check|lint|lean|run|big|fast), printed
    .venv/bin/python -m benchmarks all --smoke      # CI: tiny sizes, one sample, a temporary file
    .venv/bin/python -m benchmarks fleet            # the SSH fleet figure (root; not part of all)

The exit status is 1 only when a measured command failed (a figure that
misses its goal is a result, not an error), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import figures, report
from benchmarks.measure import CommandFailed

RESULTS = figures.ROOT / "benchmarks" / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("group", choices=["all", *figures.GROUPS, "fleet"], help="what to measure")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny sizes and one sample: checks that every command works, times mean nothing")
    ap.add_argument("--repeat", type=int, default=5, metavar="N", help="samples per command (default 5)")
    ap.add_argument("--budget", type=float, default=100.0, metavar="S",
                    help="seconds after which a unit stops repeating (default 100; keeps `all` under 15 min)")
    ap.add_argument("--out", metavar="FILE",
                    help="where to write the results (default: benchmarks/RESULTS.md for `all`, "
                         "a temporary file for --smoke, stdout only for one group)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (catalogs, logs)")
    args, rest = ap.parse_known_args(argv)
    if args.group == "fleet":
        from benchmarks import fleet

        return fleet.main(rest)
    if rest:
        ap.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    sizes = figures.SMOKE if args.smoke else figures.FULL
    repeat = 1 if args.smoke else args.repeat
    groups = list(figures.GROUPS) if args.group == "all" else [args.group]
    tmp = Path(tempfile.mkdtemp(prefix="procc-bench-"))
    load = os.getloadavg()
    start = time.perf_counter()
    try:
        try:
            plan = figures.Plan(tmp, sizes, groups)
        except CommandFailed as exc:
            print(f"benchmarks: {exc}", file=sys.stderr)
            return 1
        figures.measure(plan, repeat, args.budget, lambda line: print(line, flush=True))
        figures.run_probes(plan, lambda line: print(line, flush=True))
        rows = [f.row() for f in plan.figures]
    finally:
        if args.keep:
            print(f"benchmarks: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report.render(rows, command=command.strip(), repeat=repeat,
                         sizes=(f"{sizes.procedures} procedures x {sizes.steps} steps, "
                                f"{sizes.memory_procedures} for memory, one {sizes.big_steps}-step procedure"),
                         load_before=load, seconds=time.perf_counter() - start)
    out = _destination(args)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        print(f"benchmarks: wrote {out}")
    print()
    print("\n".join(line for line in text.splitlines() if line.startswith("|")))
    failed = [r for r in rows if r.met == "FAILED" and not r.details[0].startswith("Mitogen is not installed")]
    for r in failed:
        print(f"benchmarks: FAILED: {r.figure}: {r.details[0]}", file=sys.stderr)
    return 1 if failed else 0


def _destination(args: argparse.Namespace) -> Path | None:
    if args.out:
        return Path(args.out)
    if args.smoke:
        fd, name = tempfile.mkstemp(prefix="procc-bench-smoke-", suffix=".md")
        os.close(fd)
        return Path(name)
    return RESULTS if args.group == "all" else None


if __name__ == "__main__":
    raise SystemExit(main())
