"""dev: every parameter says what it is."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule
from compiler.parse import Source


class ParameterDescription(Rule):
    """A parameter has no ``description``.

    The runbook lists parameters for the person who runs the procedure;
    ``-e release=...`` means nothing without one line of text.

    Bad::

        parameters:
          release: {required: true}

    Good::

        parameters:
          release: {description: Version a desplegar (vX.Y.Z), required: true}
    """

    id = "parameter-description"
    severity = "error"
    perspectives = ("dev",)
    summary = "every parameter has a description"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for name, param in source.procedure.parameters.items():
            if not param.description.strip():
                yield self.report(source, source.smap.key(("parameters", name)),
                                  f"parameter '{name}' has no description")
