"""security: secrets travel only as secret parameters."""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source

SECRET_NAME = re.compile(
    r"(password|passwd|pwd|secret|token|api_?key|webhook|private_?key|credential)", re.IGNORECASE
)


class SecretParameter(Rule):
    """A parameter named like a secret is not declared ``secret: true``.

    Secret parameters are ``no_log`` in the playbook and never appear in a
    runbook, a history record or an artifact; a ``db_password`` without
    ``secret: true`` would be printed in all of them.

    Bad::

        parameters:
          db_password: {description: Clave de la base, env: DB_PASSWORD}

    Good::

        parameters:
          db_password: {description: Clave de la base, secret: true, env: DB_PASSWORD}
    """

    id = "secret-parameter"
    severity = "error"
    perspectives = ("security",)
    summary = "secrets only as secret parameters"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for name, param in source.procedure.parameters.items():
            if not param.secret and SECRET_NAME.search(name):
                yield self.report(source, source.smap.key(("parameters", name)),
                                  f"parameter '{name}' looks like a secret; declare it 'secret: true'")
