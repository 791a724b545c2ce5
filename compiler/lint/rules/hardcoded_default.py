"""sre: troubleshooting and annex commands use the parameters, not their defaults written out."""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule, doc_commands
from compiler.parse import Source

# A default worth flagging looks like a path, an address or a port: it has a
# "/" or a "." or is a number of 4 digits or more. Plain words ("procc" as a
# database name) are too often part of other text (a "procc run" command).
_LOOKS_SPECIFIC = re.compile(r".*[/.].*|[0-9]{4,}")
# Characters that would make the match part of a longer word, path or number.
_WORD = r"[A-Za-z0-9_-]"


class HardcodedDefault(Rule):
    """A troubleshooting or annex command writes out a parameter's default value.

    The run used the environment's value (group_vars, ``-e``), so a command
    that hard-codes the default (``/opt/app``, port ``8080``) sends the reader
    to the wrong directory or port exactly when it matters. Write the
    parameter instead: the runbook shows it as ``"${name}"`` with the block of
    variables, and ``procc compile --env NAME`` writes the environment's value.

    Bad::

        parameters:
          base_dir: {description: Directorio base, default: /opt/app}
        troubleshooting:
          - problem: No arranca
            commands: tail -n 100 /opt/app/log/app.log

    Good::

        troubleshooting:
          - problem: No arranca
            commands: tail -n 100 {{ base_dir }}/log/app.log
    """

    id = "hardcoded-default"
    severity = "warning"
    perspectives = ("sre",)
    summary = "troubleshooting and annex commands use {{ parameter }}, not its default written out"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        defaults = sorted(
            ((name, str(p.default)) for name, p in proc.parameters.items()
             if p.default is not None and not p.secret and not isinstance(p.default, bool)
             and _LOOKS_SPECIFIC.fullmatch(str(p.default))),
            key=lambda nd: -len(nd[1]))  # the longest first: /var/backups/procc before procc
        for text in doc_commands(proc):
            taken: list[tuple[int, int]] = []
            for name, value in defaults:
                pattern = re.compile(rf"(?<!{_WORD}){re.escape(value)}(?!{_WORD}|\.[A-Za-z0-9])")
                for m in pattern.finditer(text.text):
                    if any(a < m.end() and m.start() < b for a, b in taken):
                        continue
                    if "/" not in value and text.text[:m.start()].endswith("://"):
                        # The host of a URL is the service's, not a host parameter's that has
                        # the same default (db_host 127.0.0.1 in http://127.0.0.1:8080/).
                        continue
                    taken.append((m.start(), m.end()))
                    yield self.report(
                        source, text.pos(source, m.start()),
                        f"'{value}' is the default of parameter '{name}': a run with another value "
                        f"(group_vars, -e) makes this command wrong; write '{{{{ {name} }}}}' instead",
                    )
