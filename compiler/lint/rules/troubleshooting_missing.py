"""sre: at least one known problem with its solution."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source


class TroubleshootingMissing(Rule):
    """The procedure has no ``troubleshooting`` entry.

    The SRE on call needs the common problems, their symptoms and the fix
    written down before the incident, not during it.

    Bad::

        troubleshooting: []

    Good::

        troubleshooting:
          - problem: El servicio no arranca
            symptoms: [systemctl is-active devuelve failed]
            cause: Puerto 8080 ocupado
            solution: Liberar el puerto y reiniciar
            commands: ss -ltnp | grep 8080
    """

    id = "troubleshooting-missing"
    severity = "warning"
    perspectives = ("sre",)
    summary = "at least one troubleshooting entry"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        if not proc.troubleshooting:
            loc = ("troubleshooting",) if "troubleshooting" in proc.model_fields_set else ("id",)
            yield self.report(source, source.smap.key(loc),
                              "no troubleshooting entry; document at least one common problem")
