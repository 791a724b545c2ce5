"""``procc run`` against ``ansible-playbook`` on the same compiled playbook and inventory.

Usage: .venv/bin/python benchmarks/bench_run.py [--repeat N]

Runs the 4-step fixture (tests/fixtures/procedures/PROC-TEST-001) on localhost
N times each way, alternating, and prints the medians and their ratio. The
playbook given to ansible-playbook is the one procc compiles; both get the
same inventory and extra vars. Target: ratio < 1.15.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import timed

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FIXTURE = ROOT / "tests" / "fixtures" / "procedures" / "PROC-TEST-001-four-steps.yml"



def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="procc-bench-"))
    try:
        proj = tmp / "proj"
        (proj / "procedures").mkdir(parents=True)
        shutil.copy(FIXTURE, proj / "procedures" / FIXTURE.name)
        inv = proj / "hosts"
        inv.write_text(f"[local]\nlocalhost ansible_connection=local "
                       f"ansible_python_interpreter={sys.executable}\n", encoding="utf-8")
        env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
               "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
               "ANSIBLE_ROLES_PATH": str(ROOT / "roles"), "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections")}
        subprocess.run([str(BIN / "procc"), "compile", "-q"], cwd=proj, env=env, check=True)
        pb = next((proj / "playbooks").glob("*.yml"))
        procc_t: list[float] = []
        ansible_t: list[float] = []
        for i in range(args.repeat):
            work = tmp / f"w{i}"
            for label in ("a", "p"):
                d = work / label
                d.mkdir(parents=True)
                if label == "a":
                    ansible_t.append(timed([str(BIN / "ansible-playbook"), "-i", str(inv), str(pb),
                                             "-e", f"workdir={d}"], proj, env))
                else:
                    procc_t.append(timed([str(BIN / "procc"), "run", "PROC-TEST-001", "-i", str(inv),
                                           "-e", f"workdir={d}", "--plain", "--no-record"], proj, env))
        a, p = statistics.median(ansible_t), statistics.median(procc_t)
        print(f"ansible-playbook median {a:.2f}s  runs {[round(x, 2) for x in ansible_t]}")
        print(f"procc run        median {p:.2f}s  runs {[round(x, 2) for x in procc_t]}")
        print(f"ratio procc/ansible-playbook = {p / a:.3f} (target < 1.15)")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
