"""Inventory values beat parameter defaults on the SSH fleet, per host, and ``-e`` beats them all.

The fleet's inventory is copied beside group_vars and host_vars of its own
(procc-h1 and procc-h2 get host_vars, procc-h3 none), the project's
``playbooks/`` gets group_vars and host_vars too, and ``procc run -i`` runs
the fixture PROC-TEST-012 over SSH: each host writes what it received.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.run.helpers import procc, project
from tests.run.test_precedence import expected, values, write_host_vars, write_inventory
from tests.support.sshhosts import Fleet

pytestmark = pytest.mark.slow


def test_host_vars_group_vars_and_extra_vars_over_ssh(ssh_fleet: Fleet, tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-012")
    work = root / "work"
    inv = tmp_path / "inventory"
    hosts = write_inventory(inv, ssh_fleet.inventory.read_text(encoding="utf-8"))
    h1, h2, h3 = ssh_fleet.hosts
    write_host_vars(inv, h1, p_invhost=f"inv-host-{h1}")
    write_host_vars(inv, h2, p_invhost=f"inv-host-{h2}")
    pbvars = root / "playbooks"
    (pbvars / "group_vars").mkdir(parents=True)
    (pbvars / "host_vars").mkdir()
    (pbvars / "group_vars" / "all.yml").write_text("p_pbgroup: pb-group\np_pbhost: pb-group\n", encoding="utf-8")
    (pbvars / "host_vars" / f"{h2}.yml").write_text(f"p_pbhost: pb-host-{h2}\n", encoding="utf-8")
    res = procc(root, "run", "PROC-TEST-012", "-i", str(hosts), "-e", f"workdir={work}",
                "-e", "p_extra=cli", "--plain", timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert values(work, h1) == expected(p_invhost=f"inv-host-{h1}", p_pbhost="pb-group")
    assert values(work, h2) == expected(p_invhost=f"inv-host-{h2}", p_pbhost=f"pb-host-{h2}")
    # No host_vars for procc-h3: group_vars beat the default, -e still beats group_vars.
    assert values(work, h3) == expected(p_invhost="inv-group", p_pbhost="pb-group")
