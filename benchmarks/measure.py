"""One command run to completion in a fresh subprocess: wall time, CPU time, peak RSS, exit status.

CPU and memory come from ``os.wait4`` on that one child: its own rusage
plus that of the descendants it waited for (ansible-playbook's forks,
procc's compile workers), so no two samples share a counter the way
``RUSAGE_CHILDREN`` of this process would. ``ru_maxrss`` is the largest
single process of that tree, not their sum.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    """What one run of a command cost."""

    wall: float  # seconds
    cpu: float  # user + system seconds
    rss_mib: float  # peak resident set, MiB
    rc: int
    rep: int = 0  # the repetition it belongs to: a ratio pairs samples of the same repetitions


@dataclass
class Cmd:
    """A command to measure: argv, where, with what environment, and an untimed preparation."""

    label: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    # Run before every sample, not timed (a fresh work dir, outputs removed for a cold compile).
    prepare: Callable[[], None] | None = None
    ok_rcs: tuple[int, ...] = (0,)
    samples: list[Sample] = field(default_factory=list)
    # The output of the last sample (stdout and stderr), for task counts and failure reports.
    last_output: str = ""

    def shell(self) -> str:
        """The command as one would type it (for RESULTS.md)."""
        import shlex

        return " ".join(shlex.quote(a) for a in self.argv)


class CommandFailed(Exception):
    """A measured command exited with a status it must not have: the figure is void."""


def run(cmd: Cmd, log: Path, rep: int = 0) -> Sample:
    """Prepare and run ``cmd`` once, record the sample in ``cmd.samples``; a bad exit raises CommandFailed."""
    if cmd.prepare is not None:
        cmd.prepare()
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd.argv, cwd=cmd.cwd, env=cmd.env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    cmd.last_output = log.read_text(encoding="utf-8", errors="replace")
    # ru_maxrss is KiB on Linux.
    sample = Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, rep)
    if proc.returncode not in cmd.ok_rcs:
        tail = "\n".join(cmd.last_output.splitlines()[-15:])
        raise CommandFailed(f"{cmd.label}: exit {proc.returncode}: {cmd.shell()} (in {cmd.cwd})\n{tail}")
    cmd.samples.append(sample)
    return sample
