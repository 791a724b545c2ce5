"""devops/sre: a command substitution whose failure nobody sees never feeds a mutating command.

Bash ignores the exit status of ``$(...)`` used inside the arguments of a
command: ``ln -sfn "releases/$(cat missing)" current`` prints an error and
then runs ``ln -sfn releases/ current``. Neither ``set -e`` nor ``shopt -s
inherit_errexit`` changes that; only an assignment (``x=$(...)``) takes the
substitution's status, so ``set -e`` stops there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from compiler.errors import Diagnostic
from compiler.lint import shell
from compiler.lint.base import Rule, commands
from compiler.parse import Source

_SEPARATORS = frozenset(";&|\n()")
# Builtins whose own status (0) replaces the substitution's: "local x=$(false)" succeeds.
_DECLARE = frozenset({"local", "export", "declare", "typeset", "readonly"})
# Database clients count as mutating when the command writes (SQL DDL/DML, a script).
_DB_CLIENTS = frozenset({"psql", "mysql", "mariadb", "sqlite3", "mongosh", "mongo", "redis-cli",
                         "cqlsh"})


@dataclass
class _Simple:
    """One simple command of the masked text, with the substitutions inside it."""

    start: int
    end: int = 0
    nested: list[tuple[int, int]] = field(default_factory=list)  # every (start, end) to blank
    substs: list[int] = field(default_factory=list)  # offsets of command substitutions


def _close(masked: str, i: int, hi: int) -> int:
    """Index just past the ``)`` matching the ``(`` at ``i`` (or ``hi``)."""
    depth = 0
    for j in range(i, hi):
        if masked[j] == "(":
            depth += 1
        elif masked[j] == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return hi


def _scan(masked: str, lo: int, hi: int) -> Iterator[_Simple]:
    """The simple commands of ``masked[lo:hi]``, and those inside its substitutions.

    Splits on the control operators like :func:`compiler.lint.shell.simple_commands`,
    but keeps a ``$(...)``, a backtick pair, ``$((...))`` or ``<(...)`` inside
    the command it belongs to.
    """
    cur = _Simple(lo)
    i = lo
    while i < hi:
        c = masked[i]
        if masked.startswith("$((", i):  # arithmetic: text of the word, nothing runs
            end = _close(masked, i + 1, hi)
            cur.nested.append((i, end))
        elif masked.startswith(("$(", "<(", ">("), i):
            end = _close(masked, i + 1, hi)
            cur.nested.append((i, end))
            if c == "$":  # <(...) and >(...) are not checked: their status is never seen
                cur.substs.append(i)
            yield from _scan(masked, i + 2, max(i + 2, end - 1))
        elif c == "`":
            found = masked.find("`", i + 1, hi)
            end = hi if found < 0 else found + 1
            cur.nested.append((i, end))
            cur.substs.append(i)
            yield from _scan(masked, i + 1, max(i + 1, end - 1))
        elif c == "#" and (i == lo or masked[i - 1] in " \t\n;&|("):
            found = masked.find("\n", i, hi)  # a comment, to the end of its line
            end = hi if found < 0 else found
        else:
            if c in _SEPARATORS:
                cur.end = i
                yield cur
                cur = _Simple(i + 1)
            i += 1
            continue
        i = end
    cur.end = hi
    yield cur


def _mutating(text: str, masked: str, simple: _Simple) -> str | None:
    """The name of the simple command if it may change the system or hides a status, else None.

    A command made only of assignments is not a command: ``x=$(...)`` has
    the substitution's status, which is what set -e needs.
    """
    chars = list(masked[simple.start:simple.end])
    # mask() turns double quotes into blanks; here they must keep a word whole.
    for k in range(simple.start, simple.end):
        if text[k] == '"' and masked[k] == " ":
            chars[k - simple.start] = "_"
    for a, b in simple.nested:
        chars[a - simple.start:b - simple.start] = "_" * (b - a)
    blanked = "".join(chars)  # the command's own words and redirections only
    found = shell.simple_commands(blanked)
    if not found:
        return None
    cmd = found[0]
    if cmd.name in _DECLARE:
        return cmd.name
    if cmd.name in _DB_CLIENTS:  # the SQL is quoted text: read it in the original
        return cmd.name if any(True for _ in shell.db_writes(text[simple.start:simple.end])) else None
    if shell.changes_something(cmd) or shell.writes_file(blanked) is not None:
        return cmd.name
    return None


def hidden_substitutions(text: str) -> Iterator[tuple[int, str]]:
    """(offset, command) of every ``$(...)`` or backtick substitution in a mutating command.

    That includes ``x=$(...) cmd`` (an environment entry of ``cmd``, whose
    status wins), but not ``x=$(...)`` alone.
    """
    masked = shell.mask(text)
    for simple in _scan(masked, 0, len(masked)):
        if simple.substs:
            name = _mutating(text, masked, simple)
            if name:
                for offset in simple.substs:
                    yield offset, name


class CommandSubstitutionArgument(Rule):
    """A ``$(...)`` or backtick substitution is an argument of a command that changes something.

    Bash ignores the exit status of a command substitution used in a
    command's arguments, even under ``set -euo pipefail`` and ``shopt -s
    inherit_errexit``: ``ln -sfn "releases/$(cat missing)" current`` prints
    an error, then points ``current`` at ``releases/``. Only an assignment
    takes the substitution's status, so assign the value to a variable
    first and ``set -e`` stops on its failure. Read-only commands (``echo``,
    ``test``, ``curl`` without data) are not checked; a read-only command
    whose output is redirected to a file is, since it writes that file;
    so are ``local``/``export``/``declare x=$(...)``, whose own status
    replaces the substitution's.

    Bad::

        steps:
          - title: Volver a la release previa
            minutes: 1
            run: ln -sfn "releases/$(cat /opt/app/etc/previous-release)" /opt/app/current

    Good::

        steps:
          - title: Volver a la release previa
            minutes: 1
            run: |
              previous=$(cat /opt/app/etc/previous-release)
              ln -sfn "releases/$previous" /opt/app/current
    """

    id = "command-substitution-argument"
    severity = "error"
    perspectives = ("devops", "sre")
    summary = "no $(...) in the arguments of a mutating command; assign it to a variable first"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for text in commands(source.procedure):
            for offset, name in hidden_substitutions(text.text):
                yield self.report(
                    source, text.pos(source, offset),
                    f"command substitution in an argument of '{name}': its failure is ignored; "
                    "assign it to a variable first (x=$(...)), so that set -e stops on its failure")
