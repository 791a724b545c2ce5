"""``procc run`` of one procedure on 10 SSH hosts against the same on 1 host.

Usage (root: the hosts are network namespaces running sshd):
    .venv/bin/python benchmarks/bench_fleet.py [--repeat N] [--hosts 10] [--forks F]

Brings up the SSH test hosts (scripts/testhosts.sh, through
tests/support/sshhosts.py: it waits for any other session using them), then
runs the 3-step fleet fixture (tests/fixtures/procedures/PROC-TEST-010: pre-
flight, three steps with validations, final validation, post) N times on
procc-h1 alone and N times on procc-h1..procc-hH, alternating, all hosts in
one batch, ``--forks F`` (default: H, every host at once). Prints the medians
and their ratio: 1.0 would be perfect parallelism; H would be none.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from timing import timed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.sshhosts import fleet, unavailable  # noqa: E402

BIN = Path(sys.executable).parent
FIXTURE = ROOT / "tests" / "fixtures" / "procedures" / "PROC-TEST-010-fleet.yml"



def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--hosts", type=int, default=10)
    ap.add_argument("--forks", type=int, default=0, help="default: --hosts")
    args = ap.parse_args()
    why = unavailable()
    if why is not None:
        print(f"bench_fleet: {why}", file=sys.stderr)
        return 2
    forks = args.forks or args.hosts
    tmp = Path(tempfile.mkdtemp(prefix="procc-bench-fleet-"))
    try:
        proj = tmp / "proj"
        (proj / "procedures").mkdir(parents=True)
        shutil.copy(FIXTURE, proj / "procedures" / FIXTURE.name)
        env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
        times: dict[int, list[float]] = {1: [], args.hosts: []}
        with fleet(args.hosts) as f:
            inventories = {1: f.first(1).inventory, args.hosts: f.inventory}
            for i in range(args.repeat):
                for n in (1, args.hosts):
                    work = tmp / f"w{i}-{n}"
                    work.mkdir()
                    times[n].append(timed(
                        [str(BIN / "procc"), "run", "PROC-TEST-010", "-i", str(inventories[n]),
                         "-e", f"workdir={work}", "--forks", str(forks), "--plain", "--no-record"], proj, env))
        one, many = statistics.median(times[1]), statistics.median(times[args.hosts])
        print(f"1 host     median {one:.2f}s  runs {[round(x, 2) for x in times[1]]}")
        print(f"{args.hosts} hosts   median {many:.2f}s  runs {[round(x, 2) for x in times[args.hosts]]}"
              f"  (forks {forks})")
        print(f"ratio {args.hosts} hosts / 1 host = {many / one:.2f}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
