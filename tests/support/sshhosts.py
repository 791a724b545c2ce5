"""Real SSH test hosts for the fleet tests: network namespaces running sshd.

``scripts/testhosts.sh up N`` creates the hosts procc-h1..procc-hN (one
network namespace, veth pair and sshd each, key-only root login) and writes
an Ansible inventory; ``down`` removes them. This module wraps the script for
pytest: :func:`unavailable` says why the hosts cannot be made here (not
root, no ``ip netns``), :func:`fleet` brings them up for a test session and
tears them down after.

The hosts are machine-wide (namespaces procc-hI, addresses 10.77.I.2): two
pytest sessions, in this worktree or another checkout, would otherwise bring
the same hosts up and down under each other. A session holds an exclusive
lock in /run/lock (machine-wide, PROCC_TESTHOSTS_LOCK overrides it) for as
long as it uses the hosts, so a second session waits for the first (up to
10 minutes). Under pytest-xdist, keep every test that uses the hosts in one
worker: two workers of one run would wait for each other.

A session brings up the largest fleet any test needs (:data:`SESSION_HOSTS`)
once; a test that needs fewer uses :meth:`Fleet.first`, an inventory of the
first N hosts, rather than a smaller ``up N`` (which removes the others).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "testhosts.sh"
STATE = REPO / ".procc" / "testhosts"
SESSION_LOCK = Path(os.environ.get("PROCC_TESTHOSTS_LOCK", "/run/lock/procc-testhosts.session.lock"))
NET = "10.77"


@dataclass(frozen=True)
class Fleet:
    """Hosts that are up: their names and the inventory that reaches them over SSH."""

    inventory: Path
    hosts: list[str]
    key: Path

    def address(self, host: str) -> str:
        """The address sshd of ``host`` listens on (10.77.I.2)."""
        return f"{NET}.{_index(host)}.2"

    def controller_address(self, host: str) -> str:
        """The root-namespace end of ``host``'s veth pair: where its SSH clients come from."""
        return f"{NET}.{_index(host)}.1"

    def sshd_log(self, host: str) -> Path:
        """The log of ``host``'s sshd (LogLevel VERBOSE: connections and sessions)."""
        return STATE / f"h{_index(host)}" / "sshd.log"

    def first(self, n: int) -> Fleet:
        """The first ``n`` hosts, with an inventory of their own (the others stay up, unused)."""
        if not 1 <= n <= len(self.hosts):
            raise ValueError(f"first({n}): the fleet has {len(self.hosts)} host(s)")
        hosts = self.hosts[:n]
        lines = self.inventory.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if not line.startswith("procc-h") or line.split()[0] in hosts]
        inventory = self.inventory.with_name(f"inventory-first{n}.ini")
        inventory.write_text("\n".join(kept) + "\n", encoding="utf-8")
        return Fleet(inventory=inventory, hosts=hosts, key=self.key)


def _index(host: str) -> int:
    return int(host.removeprefix("procc-h"))


def unavailable() -> str | None:
    """Why real SSH test hosts cannot be created on this machine, or None."""
    if os.geteuid() != 0:
        return "SSH test hosts need root (network namespaces and sshd): run as root"
    if shutil.which("ip") is None:
        return "SSH test hosts need iproute2 ('ip' not found)"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"SSH test hosts need 'ip netns': {probe.stderr.strip()}"
    return None


def _script(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@contextmanager
def _session_lock(timeout: float = 600) -> Iterator[None]:
    SESSION_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with SESSION_LOCK.open("w") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"SSH test hosts busy: {SESSION_LOCK} held for {timeout:.0f}s") from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def fleet(n: int) -> Iterator[Fleet]:
    """Hosts procc-h1..procc-hN up over SSH for the duration of the block.

    They are removed afterwards, unless PROCC_KEEP_TESTHOSTS is set (to look
    at them after a failure: ``scripts/testhosts.sh status``, ssh, the logs).

    Raises RuntimeError with the script's output when they cannot be made
    (that is a failure, not a reason to skip: see :func:`unavailable`).
    """
    with _session_lock():
        up = _script("up", str(n))
        try:
            if up.returncode != 0:
                raise RuntimeError(f"scripts/testhosts.sh up {n} failed (rc {up.returncode}):\n"
                                   f"{up.stdout}{up.stderr}")
            yield Fleet(inventory=STATE / "inventory.ini",
                        hosts=[f"procc-h{i}" for i in range(1, n + 1)],
                        key=STATE / "id_ed25519")
        finally:
            if not os.environ.get("PROCC_KEEP_TESTHOSTS"):
                _script("down")
