"""Just enough shell analysis for the rules: simple commands, redirections, databases.

This is not a shell parser. It masks quoted text and templates (keeping every
offset, so positions stay exact), splits on the shell's control operators and
looks at the first word of each simple command. Rules use it to decide
whether a step changes something, whether a command waits for a person, and
whether it touches a database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

_SINGLE = re.compile(r"'[^']*'")
_DOUBLE = re.compile(r'"(?:[^"\\]|\\.)*"')
# Command substitutions inside double quotes still run: $(...) (one level) and `...`.
_SUBST = re.compile(r"\$\((?:[^()]|\([^()]*\))*\)|`[^`]*`")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_SEGMENT = re.compile(r"[^;&|\n()`]+")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Words that introduce the real command (prefix commands, shell keywords).
_PREFIXES = frozenset(
    {"sudo", "env", "time", "nohup", "exec", "command", "builtin", "nice", "ionice", "timeout",
     "!", "{", "}", "then", "do", "else", "elif", "if", "while", "until", "fi", "done", "xargs"}
)
_REDIRECT_WORD = re.compile(r"^\d?[<>]")
_PREFIX_WITH_ARG = frozenset({"timeout", "nice", "ionice"})


@lru_cache(maxsize=4096)
def mask(text: str) -> str:
    """``text`` with single-quoted strings and Jinja templates blanked, same length.

    Double quotes are blanked but not their contents, because ``"$(cmd)"``
    runs ``cmd``.
    """
    out = _SINGLE.sub(lambda m: "'" + "_" * (len(m.group(0)) - 2) + "'", text)
    out = _JINJA.sub(lambda m: "_" * len(m.group(0)), out)
    out = _DOUBLE.sub(_mask_double, out)
    return out.replace('"', " ")


def _mask_double(match: re.Match[str]) -> str:
    """A double-quoted string blanked but for the command substitutions in it."""
    body = match.group(0)[1:-1]
    keep = [(m.start(), m.end()) for m in _SUBST.finditer(body)]
    chars = ["_"] * len(body)
    for start, end in keep:
        chars[start:end] = body[start:end]
    return '"' + "".join(chars) + '"'


@dataclass(frozen=True)
class Command:
    """One simple command: its words and the offset of its first word in the text."""

    words: tuple[str, ...]
    offset: int

    @property
    def name(self) -> str:
        """The command name, without a directory (``/usr/bin/psql`` -> ``psql``)."""
        return self.words[0].rsplit("/", 1)[-1] if self.words else ""

    @property
    def args(self) -> tuple[str, ...]:
        return self.words[1:]

    def has(self, *flags: str) -> bool:
        """True when one of ``flags`` is an argument (``-f`` also matches ``-fsS``-style bundles
        for single-letter flags)."""
        for word in self.args:
            for flag in flags:
                if word == flag or word.startswith(flag + "="):
                    return True
                if (len(flag) == 2 and flag[0] == "-" and flag[1] != "-"
                        and word.startswith("-") and not word.startswith("--") and flag[1] in word[1:]):
                    return True
        return False

    def sub(self) -> str:
        """The first non-option argument (the subcommand of ``systemctl status``)."""
        for word in self.args:
            if not word.startswith("-"):
                return word
        return ""


def simple_commands(text: str) -> tuple[Command, ...]:
    """The simple commands of a shell text, in order (prefixes like ``sudo -n`` skipped).

    Cached: several rules look at the same commands.
    """
    return _simple_commands(text)


@lru_cache(maxsize=4096)
def _simple_commands(text: str) -> tuple[Command, ...]:
    return tuple(_iter_commands(text))


def _iter_commands(text: str) -> Iterator[Command]:
    masked = mask(text)
    for seg in _SEGMENT.finditer(masked):
        if seg.start() > 0 and masked[seg.start() - 1] == ")":
            continue  # the rest of a command around "$(...)", not a new command
        words: list[str] = []
        offset = 0
        skip_args = False  # after a prefix command, its options are not the command
        skip_one = False
        for word in re.finditer(r"\S+", seg.group(0)):
            w = word.group(0)
            if not words:
                if _REDIRECT_WORD.match(w):
                    break  # "} > file": a redirection of a group, not a command
                if skip_one:
                    skip_one = False
                    continue
                if w in _PREFIXES or _ASSIGN.match(w):
                    skip_args = True
                    skip_one = w in _PREFIX_WITH_ARG
                    continue
                if skip_args and w.startswith("-"):
                    continue
                offset = seg.start() + word.start()
            words.append(w)
        if words:
            yield Command(tuple(words), offset)


_REDIRECT = re.compile(r"(?<![<>&])(\d?)(>>?)(?!&)\s*(\S*)")
_HARMLESS_TARGETS = ("/dev/null", "/dev/stderr", "/dev/stdout", "&")


def writes_file(text: str) -> re.Match[str] | None:
    """The first output redirection to a real file, if any."""
    for m in _REDIRECT.finditer(mask(text)):
        if not m.group(3).startswith(_HARMLESS_TARGETS):
            return m
    return None


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Commands that only read, whatever their arguments (writes go through
# redirections, checked separately).
_READ_ONLY = _words(
    """cat df du free uptime awk gawk grep egrep fgrep zgrep head tail wc sort uniq cut tr echo printf
    test [ [[ ls stat file ps pgrep pidof hostname nproc id whoami date jq yq true false sleep exit
    readlink realpath basename dirname printenv uname lsblk lscpu lsof ss netstat ping dig nslookup host
    getent pg_isready md5sum sha256sum sha1sum cmp diff comm column nc timeout which type vmstat iostat
    mpstat sar dmesg journalctl last w who openssl base64 xxd od seq expr bc let local return wait
    zcat zless tac rev fold fmt nl paste join split tree findmnt mount blkid free curl wget systemctl
    kubectl docker podman git sed find top ip psql mysql mariadb redis-cli mongosh mongo sqlite3
    pg_dump pg_dumpall mysqldump mariadb-dump mysqladmin"""
)
_SYSTEMCTL_RO = frozenset({"status", "is-active", "is-enabled", "is-failed", "show", "list-units",
                           "list-unit-files", "list-timers", "cat", "list-dependencies"})
_KUBECTL_RO = frozenset({"get", "describe", "logs", "top", "version", "explain", "auth",
                         "cluster-info", "api-resources", "api-versions", "wait", "diff"})
_DOCKER_RO = frozenset({"ps", "inspect", "logs", "images", "info", "version", "stats", "top", "port"})
_GIT_RO = frozenset({"status", "log", "diff", "show", "rev-parse", "describe", "ls-remote",
                     "ls-files", "branch", "tag", "remote", "blame", "grep"})
_CURL_WRITE = ("-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "-F", "--form",
               "-T", "--upload-file", "-o", "-O", "--output", "--remote-name")


def changes_something(cmd: Command) -> bool:
    """Whether one simple command may change the system (unknown commands do)."""
    name = cmd.name
    if name not in _READ_ONLY:
        return True
    sub = cmd.sub()
    if name == "sed":
        return cmd.has("-i", "--in-place")
    if name == "find":
        return cmd.has("-delete", "-exec", "-execdir", "-ok", "-fprint")
    if name == "curl":
        method = _option_value(cmd, "-X", "--request").upper()
        # Output thrown away (-o /dev/null) writes nothing.
        output = _option_value(cmd, "-o", "--output")
        writes = [f for f in _CURL_WRITE if f not in ("-o", "--output")]
        return (cmd.has(*writes) or (bool(output) and output != "/dev/null")
                or method not in ("", "GET", "HEAD"))
    if name == "wget":
        return not cmd.has("--spider") and not cmd.has("-O-", "-qO-")
    if name == "systemctl":
        return sub not in _SYSTEMCTL_RO
    if name in ("kubectl",):
        return sub not in _KUBECTL_RO and not (sub == "rollout" and "status" in cmd.args)
    if name in ("docker", "podman"):
        return sub not in _DOCKER_RO
    if name == "git":
        return sub not in _GIT_RO
    if name == "journalctl":
        return any(a.startswith("--vacuum") or a == "--rotate" for a in cmd.args)
    if name == "ip":
        return any(a in ("add", "del", "delete", "set", "flush", "change", "replace") for a in cmd.args)
    if name == "mount":
        return bool(cmd.args)
    if name == "top":
        return False
    return False


def _option_value(cmd: Command, *names: str) -> str:
    args = cmd.args
    for i, word in enumerate(args):
        for n in names:
            if word == n and i + 1 < len(args):
                return args[i + 1]
            if word.startswith(n) and len(word) > len(n) and n.startswith("-") and not n.startswith("--"):
                return word[len(n):]
            if word.startswith(n + "="):
                return word[len(n) + 1:]
    return ""


def first_change(text: str) -> int | None:
    """Offset of the first thing in ``text`` that may change the system, or None if read-only."""
    redirect = writes_file(text)
    found = [redirect.start(2)] if redirect else []
    found += [c.offset for c in simple_commands(text) if changes_something(c)]
    found += [m.start() for m in db_writes(text)]
    return min(found) if found else None


# --- databases -------------------------------------------------------------

_SQL_WRITE = re.compile(
    r"\b(?:(?:alter|drop|truncate)\s+(?:table|database|schema|index|view|column|role|user|sequence"
    r"|type|function|extension|materialized|constraint|trigger)"
    r"|truncate\s+[\w.\"]+|delete\s+from|insert\s+into|update\s+[\w.\"]+\s+set"
    r"|create\s+(?:unique\s+)?(?:table|index|database|schema|view|extension)|vacuum\s+full|reindex"
    r"|grant\s+\w+|revoke\s+\w+)\b",
    re.IGNORECASE,
)
_MIGRATION = re.compile(
    r"\b(?:flyway\s+(?:migrate|repair|clean|undo)|liquibase\s+(?:update|rollback)"
    r"|alembic\s+(?:upgrade|downgrade)|manage\.py\s+migrate|(?:rails|rake)\s+db:\w+"
    r"|knex\s+migrate\S*|prisma\s+migrate|sqitch\s+(?:deploy|revert)|goose\s+\w+|dbmate\s+\w+"
    r"|[\w./-]*migrat(?:e|ion|ions)[\w./-]*)\b",
    re.IGNORECASE,
)
_DB_CLIENT = re.compile(r"\b(?:psql|mysql|mariadb|mongosh|mongo|sqlite3|redis-cli|cqlsh)\b")
# A client fed a script from a file (psql -f, mysql < dump.sql, sqlite3 db
# ".read dump.sql"): what the file holds is unknown, so it counts as both a
# change and a restore. A heredoc or here-string is not on this list: its
# statements are in the text, so they are judged by what they are.
_CLIENT_FROM_FILE = re.compile(
    r"\b(?:psql|mysql|mariadb|sqlite3)\b[^\n;|&]*?"
    r"(?:\s-f\s?\S|\s--file[= ]|(?<!<)<(?![<(])\s*\S|[\s'\"]\.read\s+\S)"
)
_RESTORE_TOOL = re.compile(
    r"\b(?:pg_restore|mongorestore|myloader|mariabackup\s+--copy-back|xtrabackup\s+--copy-back"
    r"|pgbackrest\b[^\n]*\brestore|barman\s+recover|wal-g\s+backup-fetch)\b"
)
# Restore statements inside a client's script (a heredoc, a here-string, -c/-e):
# SQLite's .restore, psql's \i, the mysql client's source and \. commands.
_RESTORE_STATEMENT = re.compile(
    r"(?:^|(?<=[\s'\";]))(?:\.restore\s+\S|\\i(?:nclude)?\s+\S|\\\.\s+\S|source\s+\S+\.sql\b)",
    re.IGNORECASE | re.MULTILINE,
)
_BACKUP_TOOL = re.compile(
    r"\b(?:pg_dump|pg_dumpall|pg_basebackup|mysqldump|mariadb-dump|mysqlpump|mydumper|mongodump"
    r"|xtrabackup\s+--backup|mariabackup\s+--backup|pgbackrest\b[^\n]*\bbackup|barman\s+backup"
    r"|wal-g\s+backup-push)\b"
)
# SQLite's own backups: the .backup and .dump dot-commands and VACUUM INTO.
_SQLITE_BACKUP = re.compile(
    r"(?:^|(?<=[\s'\";]))\.(?:backup|dump)\b|\bvacuum\s+into\b", re.IGNORECASE | re.MULTILINE
)
_SQLITE = re.compile(r"\bsqlite3\b")
_DB_ANY = re.compile(
    r"\b(?:psql|mysql|mariadb|mongosh|mongo|sqlite3|redis-cli|cqlsh|pg_dump|pg_dumpall|pg_restore"
    r"|pg_amcheck|pg_isready|mysqldump|mysqlcheck|mariadb-check|amcheck)\b"
)


def db_writes(text: str) -> Iterator[re.Match[str]]:
    """Every place where ``text`` changes a database (SQL DDL/DML, migrations, restores, scripts)."""
    for pattern in (_SQL_WRITE, _MIGRATION, _CLIENT_FROM_FILE, _RESTORE_TOOL):
        yield from pattern.finditer(text)
    if _DB_CLIENT.search(text):
        yield from _RESTORE_STATEMENT.finditer(text)


def first_db_write(text: str) -> re.Match[str] | None:
    """The earliest database change in ``text``."""
    found = sorted(db_writes(text), key=lambda m: m.start())
    return found[0] if found else None


def is_db_backup(text: str) -> bool:
    """Whether ``text`` takes a database backup."""
    if _BACKUP_TOOL.search(text) is not None:
        return True
    return _SQLITE.search(text) is not None and _SQLITE_BACKUP.search(text) is not None


def is_db_restore(text: str) -> bool:
    """Whether ``text`` restores a database.

    A restore tool, a client fed a script from a file, or a client whose own
    statements restore (SQLite's ``.restore``, psql's ``\\i dump.sql``).
    A heredoc of ``DELETE`` statements is a change, not a restore.
    """
    if _RESTORE_TOOL.search(text) is not None or _CLIENT_FROM_FILE.search(text) is not None:
        return True
    return _DB_CLIENT.search(text) is not None and _RESTORE_STATEMENT.search(text) is not None


def queries_db(text: str) -> bool:
    """Whether ``text`` talks to a database at all (a client or a check tool)."""
    return _DB_ANY.search(text) is not None or _DB_CLIENT.search(text) is not None
