"""devops: executed commands never wait for a person at a keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint import shell
from compiler.lint.base import Rule, commands
from compiler.parse import Source

_EDITORS_PAGERS = frozenset(
    {"vi", "vim", "nvim", "nano", "emacs", "pico", "joe", "less", "more", "most", "man", "htop",
     "iftop", "nmtui", "visudo", "vipw", "passwd", "mc", "screen", "tmux", "select"}
)
_FOLLOW = frozenset({"tail", "journalctl"})
_PKG = frozenset({"apt", "apt-get", "yum", "dnf", "zypper"})
_PKG_CHANGE = frozenset({"install", "remove", "purge", "upgrade", "dist-upgrade", "update",
                         "autoremove", "erase", "reinstall"})
_SUDO = re.compile(r"(?:^|[;&|(\s])sudo(?![\w-])(?![^\n;&|]*\s-n\b)(?![^\n;&|]*--non-interactive)")


def why_interactive(cmd: shell.Command) -> str | None:
    """Why this simple command would wait for input or never end, or None."""
    name, sub = cmd.name, cmd.sub()
    if name in _EDITORS_PAGERS:
        return f"'{name}' waits for a person"
    if name == "read" and cmd.has("-p", "-s"):
        return "'read -p' prompts a person"
    if name in ("top", "iotop", "atop") and not cmd.has("-b", "--batch"):
        return f"'{name}' without -b (batch mode) never ends"
    if name in _FOLLOW and cmd.has("-f", "-F", "--follow"):
        return f"'{name} -f' follows forever"
    if name in ("kubectl", "docker", "podman") and cmd.has("-f", "--follow") and sub == "logs":
        return f"'{name} logs -f' follows forever"
    if name in ("kubectl", "docker", "podman") and sub in ("exec", "run", "attach") and (
        cmd.has("-i", "--interactive") or cmd.has("-t", "--tty")
    ):
        return f"'{name} {sub} -it' opens an interactive terminal"
    if name in ("kubectl", "systemctl") and sub == "edit":
        return f"'{name} edit' opens an editor"
    if name == "crontab" and cmd.has("-e"):
        return "'crontab -e' opens an editor"
    if name == "watch":
        return "'watch' never ends"
    if name in _PKG and sub in _PKG_CHANGE and not cmd.has("-y", "--yes", "--assume-yes",
                                                           "-q", "--non-interactive"):
        return f"'{name} {sub}' asks for confirmation without -y"
    if name in ("rm", "cp", "mv") and cmd.has("-i", "--interactive"):
        return f"'{name} -i' asks for confirmation"
    if name in ("mysql", "mariadb", "mysqldump") and "-p" in cmd.args:
        return f"'{name} -p' prompts for a password"
    if name in ("psql", "pg_dump", "pg_restore") and cmd.has("-W", "--password"):
        return f"'{name} -W' prompts for a password"
    if name == "git" and sub == "commit" and not cmd.has("-m", "-F", "--message", "--file",
                                                          "--no-edit", "-C"):
        return "'git commit' without -m opens an editor"
    if name == "git" and sub in ("rebase", "add") and cmd.has("-i", "-p", "--interactive", "--patch"):
        return f"'git {sub} -i' is interactive"
    return None


class InteractiveCommand(Rule):
    """An executed command waits for a person or never ends.

    Commands run by the playbook (and pasted at 3am) must be batch:
    no editors or pagers (``vim``, ``less``, ``more``), no ``top`` without
    ``-b``, no ``read`` prompts, no ``tail -f``/``watch``, no ``apt-get
    install`` without ``-y``, no ``sudo`` without ``-n`` (use ``become``),
    no password prompts (``mysql -p``, ``psql -W``). Commands in
    troubleshooting and annexes are for people and are not checked.

    Bad::

        steps:
          - title: Ver la carga
            minutes: 1
            run: top

    Good::

        steps:
          - title: Ver la carga
            minutes: 1
            run: top -b -n 1 | head -n 20
    """

    id = "interactive-command"
    severity = "error"
    perspectives = ("devops", "sre")
    summary = "commands are non-interactive (no vim, less, top without -b, read prompts)"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for text in commands(source.procedure):
            for cmd in shell.simple_commands(text.text):
                why = why_interactive(cmd)
                if why:
                    yield self.report(source, text.pos(source, cmd.offset),
                                      f"interactive command: {why}")
            masked = shell.mask(text.text)
            for m in _SUDO.finditer(masked):
                start = m.start() + (0 if masked[m.start()] == "s" else 1)
                yield self.report(source, text.pos(source, start),
                                  "interactive command: 'sudo' may prompt for a password; "
                                  "use 'become: true' (or sudo -n)")
