"""The rule interface and the model walkers every rule shares.

A rule is a small class with a stable kebab-case ``id``, a ``severity``, the
``perspectives`` of the review it belongs to (the template's four roles plus
security and governance) and a docstring holding a bad and a good example.
Its ``check`` reads the typed model of a :class:`~compiler.parse.Source` and
yields diagnostics placed at the source position of what it flags.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from compiler.errors import Diagnostic, Position, Severity
from compiler.loader import PathKey
from compiler.model import Action, Procedure
from compiler.model import actions as actions  # re-exported: the rules import it from here
from compiler.parse import Source

Perspective = Literal["devops", "sre", "dev", "dba", "security", "governance"]
PERSPECTIVES: tuple[Perspective, ...] = ("devops", "sre", "dev", "dba", "security", "governance")

# Modules whose arguments are shell text, scanned like ``run``.
SHELL_MODULES = frozenset(
    {"shell", "command", "raw", "script"}
    | {f"ansible.builtin.{m}" for m in ("shell", "command", "raw", "script")}
    | {f"ansible.legacy.{m}" for m in ("shell", "command", "raw", "script")}
)


class Rule:
    """Base class of a lint rule. Subclasses set the class attributes and ``check``."""

    id: ClassVar[str] = ""
    severity: ClassVar[Severity] = "error"
    perspectives: ClassVar[tuple[Perspective, ...]] = ()
    summary: ClassVar[str] = ""

    def __init__(self, today: dt.date | None = None) -> None:
        # Injectable so that date-dependent rules are testable.
        self.today = today or dt.date.today()

    @classmethod
    def doc(cls) -> str:
        """The rule's documentation: its docstring, with the bad and good examples."""
        return inspect.cleandoc(cls.__doc__ or "")

    def check(self, source: Source) -> Iterator[Diagnostic]:
        """Yield a diagnostic for every problem in ``source``."""
        raise NotImplementedError

    def report(self, source: Source, pos: Position, message: str) -> Diagnostic:
        """A diagnostic of this rule at ``pos`` in ``source``."""
        return Diagnostic(source.display, pos, message, self.id, self.severity)


@dataclass(frozen=True)
class Text:
    """A string of the model with its path (for positions)."""

    loc: PathKey
    text: str

    def pos(self, source: Source, offset: int = 0) -> Position:
        """Source position of character ``offset`` of this text."""
        if offset == 0:
            return source.smap.value(self.loc)
        return source.smap.in_text(self.loc, offset, self.text)


def strings(node: Any, loc: PathKey = ()) -> Iterator[Text]:
    """Every string in a model (field values, list items, task arguments), with its path."""
    if isinstance(node, str):
        yield Text(loc, node)
    elif isinstance(node, BaseModel):
        fields = type(node).model_fields
        for name in fields:
            if name not in node.model_fields_set:
                continue  # a default, not written in the source: nothing to point at
            key = fields[name].alias or name
            yield from strings(getattr(node, name), (*loc, key))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, (*loc, str(key)))
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            yield from strings(value, (*loc, i))


_last_strings: tuple[Procedure, tuple[Text, ...]] | None = None


def procedure_strings(proc: Procedure) -> tuple[Text, ...]:
    """Every string of the procedure (:func:`strings`), computed once per procedure.

    Several rules scan all strings; rules run one source at a time, so a
    one-entry cache is enough.
    """
    global _last_strings
    if _last_strings is None or _last_strings[0] is not proc:
        _last_strings = (proc, tuple(strings(proc)))
    return _last_strings[1]


def shell_texts(action: Action, loc: PathKey) -> Iterator[Text]:
    """The shell text of one action: its ``run``, or the arguments of a shell-like module."""
    if action.run is not None:
        yield Text((*loc, "run"), action.run)
    elif action.task is not None and action.module in SHELL_MODULES:
        yield from strings(action.task, (*loc, "task"))


def commands(proc: Procedure) -> Iterator[Text]:
    """The shell text of every executed action, and of every health check that is a command."""
    for loc, action in actions(proc):
        yield from shell_texts(action, loc)
    for i, health in enumerate(proc.final_validation.health):
        if health.command is not None:
            yield Text(("final_validation", "health", i, "command"), health.command)


def doc_commands(proc: Procedure) -> Iterator[Text]:
    """Commands printed for people to copy (troubleshooting and annexes), not executed."""
    for i, problem in enumerate(proc.troubleshooting):
        if problem.commands is not None:
            yield Text(("troubleshooting", i, "commands"), problem.commands)
    for i, annex in enumerate(proc.annexes):
        if annex.commands is not None:
            yield Text(("annexes", i, "commands"), annex.commands)
