"""Role variables never read themselves (the real runs: tests/run/test_role_vars.py)."""

from __future__ import annotations

import yaml

from compiler.parse import parse_text
from compiler.playbook import render
from tests.run.test_role_vars import SOURCE


def _role_vars(source: str) -> dict[str, str]:
    plays = yaml.safe_load(render(parse_text(source, "p.yml"), "en"))
    found: list[dict[str, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("ansible.builtin.include_role", {}).get("name") == "echo":
                found.append(node["vars"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(plays)
    assert len(found) == 1
    return {k: v for k, v in found[0].items() if not k.startswith("procc_")}


def test_a_role_variable_named_like_its_parameter_reads_the_hosts_variable() -> None:
    assert _role_vars(SOURCE) == {
        "target": "{{ hostvars[inventory_hostname]['target'] | default(procc_default_target) }}"}


def test_other_references_are_left_alone() -> None:
    source = SOURCE.replace('vars: {target: "{{ target }}"}', 'vars: {target: "{{ other }}/{{ target }}", '
                            'path: "{{ target }}-x", targets: "{{ targets }}"}').replace(
        "  target:\n", "  other: {description: Otro, default: o}\n  targets: {description: T, default: t}\n"
        "  target:\n")
    got = _role_vars(source)
    assert got["target"] == ("{{ other | default(procc_default_other) }}/"
                             "{{ hostvars[inventory_hostname]['target'] | default(procc_default_target) }}")
    assert got["path"] == "{{ hostvars[inventory_hostname]['target'] | default(procc_default_target) }}-x"
    assert got["targets"] == "{{ hostvars[inventory_hostname]['targets'] | default(procc_default_targets) }}"
