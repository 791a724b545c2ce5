"""What the DBA rules look for in actions: database writes, backups, restores, queries."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from compiler.errors import Position
from compiler.lint import shell
from compiler.lint.base import shell_texts
from compiler.loader import PathKey
from compiler.model import Action
from compiler.parse import Source

_DB_COLLECTIONS = ("community.postgresql.", "community.mysql.", "community.mongodb.")
_DB_READ_MODULES = ("_info", "_ping")


def _module_state(action: Action) -> str:
    args: Any = action.task[action.module] if action.task else None
    return str(args.get("state", "")) if isinstance(args, dict) else ""


def db_write(action: Action, loc: PathKey, source: Source) -> Position | None:
    """Where ``action`` first changes a database, or None."""
    for text in shell_texts(action, loc):
        m = shell.first_db_write(text.text)
        if m is not None:
            return text.pos(source, m.start())
    if action.task is not None:
        module = action.module
        is_dump = module.endswith("_db") and _module_state(action) == "dump"
        if module.startswith(_DB_COLLECTIONS) and not module.endswith(_DB_READ_MODULES) and not is_dump:
            return source.smap.key((*loc, "task", module))
    if action.role is not None and ("migrat" in action.role or action.role_fqcn == "procc.ops.restore"):
        return source.smap.value((*loc, "role"))
    return None


def _matches(actions: Iterable[tuple[PathKey, Action]], text_test: Callable[[str], bool],
             role_word: str, db_state: str) -> bool:
    for loc, action in actions:
        if any(text_test(t.text) for t in shell_texts(action, loc)):
            return True
        if action.role is not None and role_word in action.role:
            return True
        if action.task is not None and action.module.endswith(("postgresql_db", "mysql_db")) \
                and _module_state(action) == db_state:
            return True
    return False


def has_backup(actions: Iterable[tuple[PathKey, Action]]) -> bool:
    """Whether one of ``actions`` backs up a database."""
    return _matches(actions, shell.is_db_backup, "backup", "dump")


def has_restore(actions: Iterable[tuple[PathKey, Action]]) -> bool:
    """Whether one of ``actions`` restores a database."""
    return _matches(actions, shell.is_db_restore, "restore", "restore")


def has_query(actions: Iterable[tuple[PathKey, Action]]) -> bool:
    """Whether one of ``actions`` queries a database (an integrity check)."""
    for loc, action in actions:
        if any(shell.queries_db(t.text) for t in shell_texts(action, loc)):
            return True
        if action.task is not None and action.module.startswith(_DB_COLLECTIONS):
            return True
    return False
