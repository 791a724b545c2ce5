"""The Molecule host lifecycle (procc.ops.testhosts, molecule/resources/): nothing survives a failed scenario.

A scenario made to fail on purpose (its converge starts a daemon on each of
its two SSH hosts, then fails) runs through ``molecule test`` in a project of
its own, with its own ephemeral directory. Molecule destroys after the
failure; afterwards no namespace, veth pair, process (the daemons, sshd, SSH
control masters), key, state directory, host data or slot of that run may be
left. A second destroy is a no-op that succeeds (idempotent).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.sshhosts import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.ansible, pytest.mark.ssh, pytest.mark.molecule]
SLOTS = Path("/run/lock/procc-testhosts-slots")

_MOLECULE_YML = """\
driver: {{name: default, options: {{managed: true}}}}
platforms: [{{name: node1, groups: [backend]}}, {{name: node2, groups: [backend]}}]
prerun: false
provisioner:
  name: ansible
  playbooks: {{create: {root}/molecule/resources/create.yml, destroy: {root}/molecule/resources/destroy.yml}}
  env:
    ANSIBLE_COLLECTIONS_PATH: {root}/collections
    ANSIBLE_SSH_CONTROL_PATH_DIR: ${{MOLECULE_EPHEMERAL_DIRECTORY}}/testhosts/cp
  inventory:
    group_vars:
      all:
        molecule_data_root: "{data}"
        ansible_pipelining: true
        ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
scenario:
  test_sequence: [destroy, create, converge, verify, destroy]
"""

# A daemon left running inside each host's namespace, what it was, then a failure.
_CONVERGE = """\
- name: Leave a daemon behind, then fail
  hosts: all
  gather_facts: false
  tasks:
    - name: Start a daemon inside the host
      ansible.builtin.shell:
        cmd: |
          setsid sleep 900 </dev/null >/dev/null 2>&1 &
          echo "$(ip netns identify $$) $!" > {seen}/{{{{ inventory_hostname }}}}
      changed_when: true
    - name: Fail on purpose
      ansible.builtin.fail:
        msg: this scenario fails on purpose
"""


def _molecule(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "molecule"), *args, "-s", "broken"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_destroy_after_a_failed_scenario_leaves_nothing(tmp_path: Path) -> None:
    why = unavailable()
    if why is not None:
        pytest.skip(why)
    project, seen, data = tmp_path / "proj", tmp_path / "seen", tmp_path / "data"
    # Short: the SSH control sockets live under it (a Unix socket path has 108 bytes at most).
    eph = Path(tempfile.mkdtemp(prefix="pmol-", dir="/tmp"))
    scenario = project / "molecule" / "broken"
    scenario.mkdir(parents=True)
    seen.mkdir()
    (scenario / "molecule.yml").write_text(_MOLECULE_YML.format(root=ROOT, data=data), encoding="utf-8")
    (scenario / "converge.yml").write_text(_CONVERGE.format(seen=seen), encoding="utf-8")
    env = {**os.environ, "MOLECULE_EPHEMERAL_DIRECTORY": str(eph),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    try:
        _failed_scenario_leaves_nothing(project, env, seen, data, eph)
    finally:
        shutil.rmtree(eph, ignore_errors=True)


def _failed_scenario_leaves_nothing(project: Path, env: dict[str, str], seen: Path, data: Path, eph: Path) -> None:
    res = _molecule(project, env, "test")
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "this scenario fails on purpose" in out, out
    # The converge ran on both hosts, each in a namespace of its own, with its daemon.
    started = {p.name: p.read_text(encoding="utf-8").split() for p in seen.iterdir()}
    assert sorted(started) == ["node1", "node2"], out
    namespaces = {ns for ns, _ in started.values()}
    assert len(namespaces) == 2 and all(ns.startswith("pt") for ns in namespaces), started

    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    for ns, pid in started.values():
        assert ns not in listed.split(), (ns, listed)                 # no namespace
        assert f"{ns}-r" not in links, (ns, links)                    # no veth pair
        assert not Path(f"/proc/{pid}").exists(), f"daemon {pid} of {ns} still runs"
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    leftovers = [line for line in ps.splitlines() if str(eph) in line]  # sshd -f <state>/..., ssh masters
    assert leftovers == [], leftovers
    assert not (eph / "testhosts").exists(), list((eph / "testhosts").rglob("*"))  # keys, configs, pids
    assert not data.exists()
    assert not any(f.read_text(encoding="utf-8").strip() == str(eph / "testhosts") for f in SLOTS.glob("*"))

    again = _molecule(project, env, "destroy")
    assert again.returncode == 0, again.stdout + again.stderr
