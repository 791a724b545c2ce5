"""A role variable named like the parameter it passes on (``target: "{{ target }}"``).

Role variables beat inventory variables in Ansible, so the variable would
read itself ("recursive loop detected") whenever the parameter comes from
the inventory or group_vars. Real runs of plain ansible-playbook: the value
reaches the role from every layer a user gives it in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.parse import parse_text
from compiler.playbook import render

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

SOURCE = """\
id: PROC-TEST-140
type: maintenance
title: Rol con variable homonima
criticality: low
frequency: on-demand
estimated_minutes: 2
version: 1.0.0
updated: 2026-11-01
author: Equipo procc
hosts: all
parameters:
  target:
    description: Fichero que escribe el rol
    default: DEFAULT
purpose:
  what: Pasar un parametro a un rol con el mismo nombre.
steps:
  - title: Escribir con el rol
    minutes: 1
    role: echo
    vars: {target: "{{ target }}"}
    rollback:
      run: "true"
"""


def _run(tmp: Path, *extra: str, group_vars: str | None = None) -> str:
    (tmp / "roles" / "echo" / "tasks").mkdir(parents=True, exist_ok=True)
    (tmp / "roles" / "echo" / "tasks" / "main.yml").write_text(
        "- name: Write what the role received\n"
        "  ansible.builtin.copy:\n"
        "    dest: \"{{ out_file }}\"\n"
        "    content: \"{{ target }}\"\n"
        "    mode: '0644'\n", encoding="utf-8")
    inv = tmp / "inventory"
    (inv / "group_vars").mkdir(parents=True, exist_ok=True)
    (inv / "hosts").write_text("localhost ansible_connection=local\n", encoding="utf-8")
    if group_vars is not None:
        (inv / "group_vars" / "all.yml").write_text(group_vars, encoding="utf-8")
    pb = tmp / "pb.yml"
    pb.write_text(render(parse_text(SOURCE, "p.yml"), "en"), encoding="utf-8")
    out = tmp / "written"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROCC_", "ANSIBLE_"))}
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_ROLES_PATH=str(tmp / "roles"))
    res = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv / "hosts"),
         "-e", json.dumps({"ansible_python_interpreter": sys.executable, "out_file": str(out)}), *extra, str(pb)],
        capture_output=True, text=True, env=env, cwd=tmp, timeout=300, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    return out.read_text(encoding="utf-8")


def test_from_group_vars(tmp_path: Path) -> None:
    assert _run(tmp_path, group_vars="target: FROM-GROUP-VARS\n") == "FROM-GROUP-VARS"


def test_from_extra_vars_above_group_vars(tmp_path: Path) -> None:
    assert _run(tmp_path, "-e", "target=FROM-E", group_vars="target: FROM-GROUP-VARS\n") == "FROM-E"


def test_from_the_default(tmp_path: Path) -> None:
    assert _run(tmp_path) == "DEFAULT"
