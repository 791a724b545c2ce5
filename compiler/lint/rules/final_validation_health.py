"""sre: a procedure that touches a service ends with its health check."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source


class FinalValidationHealth(Rule):
    """The final validation has no health check (``final_validation.health``).

    The template's "Validacion Final" starts with "API responde HTTP 200 en
    /health". A service without HTTP is checked all the same: a health
    check is an HTTP request (``url``, with ``ca_path``, ``headers``,
    ``json``...), a TCP connection (``tcp: host:port``: a database, a
    queue) or a command that must exit 0 (``command``: ``pg_isready``,
    ``systemctl is-active``, ``sqlite3 app.db 'PRAGMA quick_check'``).
    Troubleshooting procedures are exempt; ``final-validation-empty`` still
    applies to them.

    Bad::

        type: deployment
        final_validation:
          smoke: [{title: Version, run: curl -fsS localhost:8080/version}]

    Good::

        type: deployment
        final_validation:
          health: [{url: "http://localhost:8080/health", status: 200}]

    Good (no HTTP endpoint)::

        type: maintenance
        final_validation:
          health:
            - {tcp: "db.internal:5432"}
            - {command: "pg_isready -h db.internal", contains: accepting}
    """

    id = "final-validation-health"
    severity = "error"
    perspectives = ("sre",)
    summary = "the final validation has a health check"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        proc = source.procedure
        if proc.type == "troubleshooting" or proc.final_validation.health:
            return
        loc = ("final_validation",) if "final_validation" in proc.model_fields_set else ("id",)
        yield self.report(source, source.smap.key(loc),
                          f"a {proc.type} procedure needs a health check in final_validation.health: "
                          "an HTTP request (url), a TCP port (tcp: host:port) or a command (command)")
