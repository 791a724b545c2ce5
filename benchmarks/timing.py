"""What the benchmarks share: the wall time of one command run to completion."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds ``cmd`` took, output discarded; a non-zero exit raises (a failed run is not a figure)."""
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t0
