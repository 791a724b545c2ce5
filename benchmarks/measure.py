"""One command run to completion in a fresh subprocess: wall time, CPU time, peak RSS, exit status.

CPU comes from ``os.wait4`` on that one child: its own rusage plus that of
the descendants it waited for (ansible-playbook's forks, procc's compile
workers), so no two samples share a counter the way ``RUSAGE_CHILDREN`` of
this process would.

Peak memory comes from GNU time (``/usr/bin/time -f %M``), which starts the
command itself: Linux keeps a process's peak RSS across fork and exec, so a
child forked straight from this harness would start at the harness's own
RSS (a ``python -c pass`` child measured 113 MiB from a pytest worker). A
small process in between gives the command its own peak. It is the largest
single process of the command's tree, not their sum.
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


# GNU time (Debian package "time", installed by scripts/system-deps.sh).
GNU_TIME = "/usr/bin/time"


def run(cmd: Cmd, log: Path, rep: int = 0) -> Sample:
    """Prepare and run ``cmd`` once, record the sample in ``cmd.samples``; a bad exit raises CommandFailed."""
    if cmd.prepare is not None:
        cmd.prepare()
    peak = log.with_name(log.name + ".rss")
    peak.unlink(missing_ok=True)
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", str(peak), *cmd.argv], cwd=cmd.cwd, env=cmd.env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    cmd.last_output = log.read_text(encoding="utf-8", errors="replace")
    # %M is KiB; GNU time writes "Command exited with non-zero status N" first when it does.
    lines = peak.read_text(encoding="utf-8").split() if peak.exists() else []
    rss_kib = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    sample = Sample(wall, usage.ru_utime + usage.ru_stime, rss_kib / 1024, proc.returncode, rep)
    if proc.returncode not in cmd.ok_rcs:
        tail = "\n".join(cmd.last_output.splitlines()[-15:])
        raise CommandFailed(f"{cmd.label}: exit {proc.returncode}: {cmd.shell()} (in {cmd.cwd})\n{tail}")
    cmd.samples.append(sample)
    return sample
