"""Parameter defaults are the weakest source of a value (real runs on localhost).

One inventory gives every layer Ansible knows: ``[all:vars]`` in the
inventory file, ``group_vars``/``host_vars`` beside the inventory and beside
the playbook, and ``-e``. Each parameter of the fixture PROC-TEST-012 is set
by a different layer, and the step writes what it received (by a command
and by a module), so the precedence is read from disk: the default only
where nothing else gave a value, ``-e`` above everything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.parse import parse_file
from compiler.playbook import render
from tests.conftest import BIN, FIXTURES
from tests.run.helpers import procc, project

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

SOURCE = FIXTURES / "procedures" / "PROC-TEST-012-precedence.yml"

# What each parameter must end up as: -e > host_vars > group_vars > inventory file > default.
EXPECTED = {
    "flavour": "inv-flavour",  # required, no default: given only by the inventory's group_vars
    "p_default": "default",
    "p_invfile": "inv-file",
    "p_invgroup": "inv-group",  # group_vars/all beats the inventory file's [all:vars]
    "p_invhost": "inv-host",  # host_vars beats group_vars
    "p_pbgroup": "pb-group",
    "p_pbhost": "pb-host",
    "p_extra": "cli",  # -e beats host_vars and group_vars
}


def write_inventory(inv: Path, hosts: str) -> Path:
    """An inventory directory with every layer; returns the hosts file."""
    (inv / "group_vars").mkdir(parents=True)
    (inv / "host_vars").mkdir()
    hosts_file = inv / "hosts"
    hosts_file.write_text(
        f"{hosts}\n[all:vars]\np_invfile=inv-file\np_invgroup=inv-file\n", encoding="utf-8")
    (inv / "group_vars" / "all.yml").write_text(
        "flavour: inv-flavour\np_invgroup: inv-group\np_invhost: inv-group\np_extra: inv-group\n",
        encoding="utf-8")
    return hosts_file


def write_host_vars(inv: Path, host: str, **extra: str) -> None:
    lines = {"p_invhost": "inv-host", "p_extra": "inv-host", **extra}
    (inv / "host_vars" / f"{host}.yml").write_text(
        "".join(f"{k}: {v}\n" for k, v in lines.items()), encoding="utf-8")


def write_playbook_vars(pbdir: Path, host: str) -> None:
    (pbdir / "group_vars").mkdir(parents=True, exist_ok=True)
    (pbdir / "host_vars").mkdir(exist_ok=True)
    (pbdir / "group_vars" / "all.yml").write_text("p_pbgroup: pb-group\np_pbhost: pb-group\n", encoding="utf-8")
    (pbdir / "host_vars" / f"{host}.yml").write_text("p_pbhost: pb-host\n", encoding="utf-8")


def values(work: Path, host: str) -> dict[str, str]:
    """What the step's command received, and what the module task wrote."""
    text = (work / f"{host}.values").read_text(encoding="utf-8")
    got = dict(line.split("=", 1) for line in text.splitlines())
    got["module"] = (work / f"{host}.module").read_text(encoding="utf-8").strip()
    return got


def expected(**override: str) -> dict[str, str]:
    out = {**EXPECTED, **override}
    out["module"] = f"{out['p_invhost']} {out['p_pbhost']} {out['p_default']} {out['p_extra']}"
    return out


LOCAL = f"[all]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}"


def test_plain_ansible_playbook_inventory_beats_defaults_and_extra_vars_beat_all(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    pbdir = tmp_path / "playbooks"
    pbdir.mkdir()
    pb = pbdir / "precedence.yml"
    pb.write_text(render(parse_file(SOURCE, SOURCE.name).procedure), encoding="utf-8")
    write_playbook_vars(pbdir, "localhost")
    inv = tmp_path / "inventory"
    hosts = write_inventory(inv, LOCAL)
    write_host_vars(inv, "localhost")
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", ANSIBLE_NOCOLOR="1")
    out = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(hosts), str(pb),
                          "-e", f"workdir={work}", "-e", "p_extra=cli"],
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert values(work, "localhost") == expected()


def test_procc_run_env_inventory_and_playbook_vars_beat_defaults(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-012")
    work = root / "work"
    inv = root / "inventories" / "staging"
    write_inventory(inv, LOCAL)
    write_host_vars(inv, "localhost")
    write_playbook_vars(root / "playbooks", "localhost")
    # 'flavour' is required and given by no -e: the inventory gives it, so procc accepts it.
    res = procc(root, "run", "PROC-TEST-012", "--env", "staging", "-e", f"workdir={work}",
                "-e", "p_extra=cli", "--plain")
    assert res.returncode == 0, res.stdout + res.stderr
    assert values(work, "localhost") == expected()
    # procc passed no default as an extra var (defaults stay in the playbook, weakest).
    run_dir = next((root / ".procc" / "runs").iterdir())
    extravars = (run_dir / "env" / "extravars").read_text(encoding="utf-8")
    assert "p_extra" in extravars and "p_default" not in extravars and "flavour" not in extravars


def test_procc_run_without_inventory_still_refuses_a_missing_required_parameter(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-012")
    res = procc(root, "run", "PROC-TEST-012", "-e", f"workdir={root / 'work'}", "--plain")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "missing required parameter 'flavour'" in res.stderr
    assert not (root / ".procc" / "runs").exists()


def test_imported_plays_each_get_their_own_vars(tmp_path: Path) -> None:
    """Nothing a play sets outlives it: the next imported play's vars (Molecule's converge) still win.

    A set_fact of the parameter would beat the second import's vars with
    the first one's value.
    """
    pbdir = tmp_path / "playbooks"
    pbdir.mkdir()
    (pbdir / "precedence.yml").write_text(render(parse_file(SOURCE, SOURCE.name).procedure), encoding="utf-8")
    works = [tmp_path / "first", tmp_path / "second"]
    site = "---\n"
    for work in works:
        work.mkdir()
        site += (f"- name: Import {work.name}\n  ansible.builtin.import_playbook: precedence.yml\n"
                 f"  vars:\n    workdir: {work}\n    flavour: {work.name}\n    p_invhost: {work.name}\n")
    (pbdir / "site.yml").write_text(site, encoding="utf-8")
    inv = tmp_path / "hosts"
    inv.write_text(LOCAL + "\n", encoding="utf-8")
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", ANSIBLE_NOCOLOR="1")
    out = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inv), str(pbdir / "site.yml")],
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    for work in works:
        got = values(work, "localhost")
        assert (got["flavour"], got["p_invhost"], got["p_default"]) == (work.name, work.name, "default")


def test_the_playbook_names_the_parameters_no_source_gave_or_gave_wrong(tmp_path: Path) -> None:
    root = project(tmp_path, "PROC-TEST-012")
    inv = root / "inventories" / "staging"
    inv.mkdir(parents=True)
    # No 'flavour' anywhere, and an inventory value that breaks p_invfile's pattern.
    (inv / "hosts").write_text(f"{LOCAL}\n[all:vars]\np_invfile='Not Valid!'\n", encoding="utf-8")
    res = procc(root, "run", "PROC-TEST-012", "--env", "staging", "-e", f"workdir={root / 'work'}", "--plain")
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "invalid or missing parameters: flavour, p_invfile (give each with -e NAME=VALUE" in out
    assert "Not Valid" not in out  # names, never values
    assert not list((root / "work").iterdir())  # nothing ran
