"""Checking the values of declared parameters before anything runs."""

from __future__ import annotations

import os
from collections.abc import Mapping

from compiler.errors import UsageError
from compiler.model import Procedure, captures, check_value


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["k=v", ...]`` from the command line into a dict (``-e k=v``)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"procc: -e expects NAME=VALUE, got '{item}'")
        out[key.strip()] = value
    return out


def resolve(proc: Procedure, given: Mapping[str, str], environ: Mapping[str, str] | None = None,
            inventory_may_supply: bool = False, captured: bool = False) -> tuple[dict[str, str], set[str]]:
    """Validated parameter values and the names of the secret ones.

    Values come from ``-e`` first, then the parameter's environment variable.
    Defaults are never among them: the playbook applies a default only when
    nothing else (inventory, group_vars, host_vars) gives a value. A missing
    required parameter is refused here unless ``inventory_may_supply`` (an
    inventory or playbook group_vars/host_vars could give it: the playbook's
    own check then decides, per host). Raises :class:`UsageError` listing
    every problem.
    """
    env = os.environ if environ is None else environ
    problems: list[str] = []
    values: dict[str, str] = {}
    secrets: set[str] = set()
    caps = captures(proc)
    for name in sorted(given):
        if name in caps and name not in proc.parameters:
            # A value a step captures: set by the run; ``procc rollback`` (``captured``) runs
            # outside that run, so its rollbacks take the value noted then.
            k, cap = caps[name]
            why = check_value(cap.type, given[name]) if cap.type != "string" else None
            if not captured:
                problems.append(f"'{name}' is captured by Paso {k} during the run: it cannot be set with -e")
            elif why is not None:
                problems.append(f"captured value '{name}' ({cap.type}) = {given[name]!r} {why}")
            else:
                values[name] = given[name]
        elif name not in proc.parameters:
            problems.append(f"unknown parameter '{name}' (declared: {', '.join(sorted(proc.parameters)) or 'none'})")
    for name, prm in sorted(proc.parameters.items()):
        if prm.secret:
            secrets.add(name)
        value: str | None = given.get(name)
        if value is None and prm.env and prm.env in env:
            value = env[prm.env]
        if value is None:
            if prm.required and prm.default is None and not inventory_may_supply:
                hint = f" or set ${prm.env}" if prm.env else ""
                problems.append(f"missing required parameter '{name}': pass -e {name}=VALUE{hint}")
            continue
        shown = "***" if prm.secret else repr(value)
        why = prm.problem(value)
        if why is not None:
            problems.append(f"parameter '{name}' ({prm.type}) = {shown} {why}")
        values[name] = value
    if problems:
        raise UsageError("procc: " + "\nprocc: ".join(problems))
    return values, secrets
