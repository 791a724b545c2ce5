"""Does an action change the system? Shared by the rollback rules.

Conservative on purpose: an unknown command, a module that is not known to
be read-only or a role counts as a change. A false "changes" costs a
``rollback`` or an ``irreversible`` reason; a false "read-only" costs an
outage without a way back.
"""

from __future__ import annotations

from typing import Any

from compiler.errors import Position
from compiler.lint import shell
from compiler.lint.base import SHELL_MODULES, strings
from compiler.loader import PathKey
from compiler.model import Action
from compiler.parse import Source

READ_ONLY_MODULES = frozenset(
    {"stat", "wait_for", "assert", "debug", "setup", "service_facts", "package_facts", "slurp",
     "find", "ping", "fail", "getent", "uri", "set_fact", "include_vars", "meta"}
    | {"postgresql_info", "postgresql_ping", "mysql_info"}
)
READ_ONLY_ROLES = frozenset({"procc.ops.health"})


def action_change(action: Action, loc: PathKey, source: Source) -> Position | None:
    """Where ``action`` (at ``loc``) first changes the system, or None when it only reads."""
    if action.run is not None:
        offset = shell.first_change(action.run)
        if offset is None:
            return None
        return source.smap.in_text((*loc, "run"), offset, action.run)
    if action.task is not None:
        module = action.module
        if module in SHELL_MODULES:
            for text in strings(action.task, (*loc, "task")):
                offset = shell.first_change(text.text)
                if offset is not None:
                    return text.pos(source, offset)
            return None
        short = module.rsplit(".", 1)[-1]
        args: Any = action.task[module]
        if short == "uri" and isinstance(args, dict):
            method = str(args.get("method", "GET")).upper()
            if method not in ("GET", "HEAD"):
                return source.smap.key((*loc, "task", module))
            return None
        if short in READ_ONLY_MODULES:
            return None
        return source.smap.key((*loc, "task", module))
    if action.role is not None and action.role_fqcn in READ_ONLY_ROLES:
        return None
    return source.smap.value((*loc, "role"))


def step_change(action: Action, loc: PathKey, source: Source) -> Position | None:
    """Alias of :func:`action_change` for steps, named for readability in rules."""
    return action_change(action, loc, source)
