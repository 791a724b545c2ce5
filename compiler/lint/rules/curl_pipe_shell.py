"""security: nothing downloaded is executed unseen."""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule, commands, doc_commands
from compiler.parse import Source

PIPE_TO_SHELL = re.compile(
    r"\b(?:curl|wget|fetch)\b[^\n|;]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:ba|z|da|k)?sh\b"
    r"|\b(?:ba|z|k)?sh\s+<\(\s*(?:curl|wget)\b"
    r"|\b(?:ba|z|k)?sh\s+-c\s+[\"']?\$\(\s*(?:curl|wget)\b"
    r"|\b(?:curl|wget)\b[^\n|;]*\|\s*(?:sudo\s+)?python[0-9.]*\s*(?:-\s*)?(?:$|[;&|\n])"
)


class CurlPipeShell(Rule):
    """A downloaded script is piped straight into a shell (``curl ... | sh``).

    Whatever the server returns that day runs with the procedure's
    privileges, unreviewed and unreproducible. Download to a file, verify its
    checksum, then run it. Troubleshooting and annex commands are checked
    too: people copy them.

    Bad::

        run: curl -fsSL https://get.example.com/install.sh | sudo bash

    Good::

        run: |
          curl -fsSLo /tmp/install.sh https://get.example.com/install.sh
          echo "{{ install_sha256 }}  /tmp/install.sh" | sha256sum -c -
          bash /tmp/install.sh
    """

    id = "curl-pipe-shell"
    severity = "error"
    perspectives = ("security",)
    summary = "no curl | sh"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for text in (*commands(source.procedure), *doc_commands(source.procedure)):
            for m in PIPE_TO_SHELL.finditer(text.text):
                yield self.report(source, text.pos(source, m.start()),
                                  "downloaded script piped into a shell; download, verify, then run")
