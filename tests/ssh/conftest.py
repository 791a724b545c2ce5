"""The SSH fleet of the tests in this directory: 3 real hosts for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.sshhosts import Fleet, fleet, unavailable

HOSTS = 3


@pytest.fixture(scope="session")
def ssh_fleet() -> Iterator[Fleet]:
    """procc-h1..procc-h3 up over SSH (scripts/testhosts.sh); skipped only without root or ip netns."""
    why = unavailable()
    if why is not None:
        pytest.skip(why)
    with fleet(HOSTS) as f:
        yield f


@pytest.fixture(scope="session")
def ssh_inventory(ssh_fleet: Fleet) -> str:
    """The path of the fleet's Ansible inventory."""
    return str(ssh_fleet.inventory)
