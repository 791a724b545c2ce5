"""The SSH fleet of the tests in this directory: 10 real hosts, up once for the whole session.

Every test here is ``ssh``, ``slow`` and ``ansible`` (marked below, for the
whole directory): it runs Ansible over the machine-wide test hosts, which
one pytest session at a time may use (tests/support/sshhosts.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.sshhosts import Fleet, fleet, unavailable

# The rolling test needs 10 hosts; the others use the first 3 (ssh_fleet).
SESSION_HOSTS = 10
HOSTS = 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this directory ssh, slow and ansible."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            for mark in ("ssh", "slow", "ansible"):
                item.add_marker(mark)


@pytest.fixture(scope="session")
def ssh_fleet10() -> Iterator[Fleet]:
    """procc-h1..procc-h10 up over SSH (scripts/testhosts.sh); skipped only without root or ip netns."""
    why = unavailable()
    if why is not None:
        pytest.skip(why)
    with fleet(SESSION_HOSTS) as f:
        yield f


@pytest.fixture(scope="session")
def ssh_fleet(ssh_fleet10: Fleet) -> Fleet:
    """procc-h1..procc-h3 of the session's fleet, with an inventory of these three only."""
    return ssh_fleet10.first(HOSTS)


@pytest.fixture(scope="session")
def ssh_inventory(ssh_fleet: Fleet) -> str:
    """The path of the 3-host fleet's Ansible inventory."""
    return str(ssh_fleet.inventory)
