"""The parameter values of one environment, for a runbook rendered with real values.

``procc compile --env NAME [-e k=v]`` reads ``inventories/NAME/``: the vars of
the inventory file's groups and ``group_vars/`` (``all`` first, then the
groups the procedure's ``hosts`` pattern names), then ``-e``, as Ansible
ranks them for the play's hosts (host_vars are per host, so they are left
out and said so). Only declared, non-secret parameters get a value; a value
that breaks the parameter's type or pattern is refused with its origin,
as the run would refuse it. Reads YAML data only: nothing is templated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.errors import UsageError
from compiler.gates import env_inventory
from compiler.model import Procedure


@dataclass(frozen=True)
class Values:
    """What one environment gives each parameter, and where it came from."""

    env: str
    values: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)
    hosts: tuple[str, ...] = ()


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"procc: cannot read {path}: {exc}") from None


def _groups(pattern: str) -> list[str]:
    """The group (or host) names a hosts pattern names, in order (``web:&prod:!x`` -> web, prod)."""
    out = []
    for part in re.split(r"[:,]", pattern):
        if part and not part.startswith("!"):
            name = part.lstrip("&")
            if re.fullmatch(r"[A-Za-z0-9_.-]+", name) and name not in out:
                out.append(name)
    return out


def _walk(node: Any, group: str, wanted: set[str], under: bool,
          vars_out: list[tuple[str, dict[str, Any]]], hosts: list[str]) -> None:
    """Collect the vars of ``wanted`` groups (and ``all``) and the hosts under them."""
    if not isinstance(node, dict):
        return
    inside = under or group in wanted
    if (group == "all" or group in wanted) and isinstance(node.get("vars"), dict):
        vars_out.append((group, node["vars"]))
    if inside and isinstance(node.get("hosts"), dict):
        hosts.extend(str(h) for h in node["hosts"] if str(h) not in hosts)
    for child, sub in (node.get("children") or {}).items() if isinstance(node.get("children"), dict) else ():
        _walk(sub, str(child), wanted, inside, vars_out, hosts)


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str):
        return str(value)
    return None


def load(root: Path, env: str, proc: Procedure, extra: list[str]) -> Values:
    """The values of ``proc``'s parameters in environment ``env``, ``extra`` (``k=v``) beating them."""
    inv = env_inventory(root, env)
    base = inv if inv.is_dir() else inv.parent
    wanted = set(_groups(proc.hosts))
    layers: list[tuple[str, dict[str, Any]]] = []
    hosts: list[str] = []
    for hosts_file in sorted(base.glob("*.yml")) + sorted(base.glob("*.yaml")) if inv.is_dir() else [inv]:
        data = _load(hosts_file)
        if isinstance(data, dict):
            for name, node in data.items():
                found: list[tuple[str, dict[str, Any]]] = []
                _walk(node, str(name), wanted, False, found, hosts)
                layers.extend((hosts_file.relative_to(root).as_posix() if hosts_file.is_relative_to(root)
                               else str(hosts_file), v) for _, v in found)
    for group in ["all", *_groups(proc.hosts)]:
        for gv in (base / "group_vars" / f"{group}.yml", base / "group_vars" / f"{group}.yaml"):
            if gv.is_file():
                data = _load(gv)
                if isinstance(data, dict):
                    layers.append((gv.relative_to(root).as_posix() if gv.is_relative_to(root) else str(gv), data))
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for name, prm in proc.parameters.items():
        if prm.default is not None and not prm.secret:
            values[name] = _scalar(prm.default) or ""
            origins[name] = "default"
    for origin, data in layers:
        for name, raw in data.items():
            declared = proc.parameters.get(str(name))
            value = _scalar(raw)
            if declared is None or declared.secret or value is None:
                continue
            values[str(name)], origins[str(name)] = value, origin
    for item in extra:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"procc: -e {item}: give NAME=VALUE")
        if name not in proc.parameters:
            continue  # another procedure's parameter (procc compile --env checks each is someone's)
        if proc.parameters[name].secret:
            raise UsageError(f"procc: -e {name}: a secret never goes into a runbook; the runbook names its "
                             "variable instead")
        values[name], origins[name] = value, "-e"
    for name, value in values.items():
        why = proc.parameters[name].problem(value)
        if why is not None:
            raise UsageError(f"procc: {name}={value!r} (from {origins[name]}) {why}")
    return Values(env, values, origins, tuple(hosts))
