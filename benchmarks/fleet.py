"""``python -m benchmarks fleet``: ``procc run`` of one procedure on H SSH hosts against the same on 1 host.

Not part of ``all`` (it needs root: the hosts are network namespaces running
sshd, brought up by scripts/testhosts.sh through tests/support/sshhosts.py,
which waits for any other session using them). Runs the 3-step fleet
fixture (tests/fixtures/procedures/PROC-TEST-010) N times on procc-h1 alone
and N times on procc-h1..procc-hH, alternating, all hosts in one batch,
``--forks F`` (default: H). Prints the medians and their ratio: 1.0 would
be perfect parallelism; H would be none.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.figures import PROCC, ROOT, fresh
from benchmarks.measure import Cmd, CommandFailed, run

FIXTURE = ROOT / "tests" / "fixtures" / "procedures" / "PROC-TEST-010-fleet.yml"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks fleet")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--hosts", type=int, default=10)
    ap.add_argument("--forks", type=int, default=0, help="default: --hosts")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.support.sshhosts import fleet, unavailable

    why = unavailable()
    if why is not None:
        print(f"benchmarks fleet: {why}", file=sys.stderr)
        return 2
    forks = args.forks or args.hosts
    tmp = Path(tempfile.mkdtemp(prefix="procc-bench-fleet-"))
    try:
        proj = tmp / "proj"
        (proj / "procedures").mkdir(parents=True)
        shutil.copy(FIXTURE, proj / "procedures" / FIXTURE.name)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
        with fleet(args.hosts) as f:
            cmds = {}
            for n, inv in ((1, f.first(1).inventory), (args.hosts, f.inventory)):
                work = tmp / f"w{n}"
                cmds[n] = Cmd(f"{n} host(s)", [PROCC, "run", "PROC-TEST-010", "-i", str(inv), "-e", f"workdir={work}",
                                               "--forks", str(forks), "--plain", "--no-record"], proj, env,
                              fresh(work))
            for i in range(args.repeat):
                for n in ((1, args.hosts) if i % 2 == 0 else (args.hosts, 1)):
                    run(cmds[n], tmp / "log")
        one = statistics.median(s.wall for s in cmds[1].samples)
        many = statistics.median(s.wall for s in cmds[args.hosts].samples)
        print(f"1 host     median {one:.2f}s  runs {[round(s.wall, 2) for s in cmds[1].samples]}")
        print(f"{args.hosts} hosts   median {many:.2f}s  runs {[round(s.wall, 2) for s in cmds[args.hosts].samples]}"
              f"  (forks {forks})")
        print(f"ratio {args.hosts} hosts / 1 host = {many / one:.2f}")
        return 0
    except CommandFailed as exc:
        print(f"benchmarks fleet: FAILED {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
