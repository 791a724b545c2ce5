"""devops: no placeholder of the Markdown template survives in a procedure."""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.errors import Diagnostic
from compiler.lint.base import Rule, procedure_strings
from compiler.parse import Source

# The template's own placeholders: bracketed words it uses ([comando1],
# [Nombre], [Titulo del Paso], [staging|production]), its X/Y fillers
# (XXX, XXmin, vX.Y.Z, YYYY-MM-DD, PROC-BACKEND-XXX) and the usual TODO marks.
_WORDS = (
    r"comando|command|nombre|name|t[ií]tulo|title|fecha|date|descripci[oó]n|description|link|url"
    r"|servidor|server|herramienta|tecnolog[ií]a|documento|problema|s[ií]ntoma|explicaci[oó]n"
    r"|commit|ejemplo|observaciones|aspecto|acciones|resultado|sistema|servicio|tech lead|valor"
    r"|ruta|path|usuario|user|host|puerto|port|versi[oó]n|herramienta|email|slack|contacto"
)
PLACEHOLDER = re.compile(
    rf"\[(?:{_WORDS})[^\]\n]*\]"  # [comando1], [Nombre], [Titulo del Paso]
    r"|\[[A-Za-z][\w.-]*(?:\|[\w.-]+)+\]"  # [staging|production|dev]
    r"|\bPROC-[A-Z]+-X{2,}\b|\bX{2,}(?=\b|min\b|%)|\bv?X\.Y\.Z\b|\bY{4}-?M{2}-?D{2}\b"
    # Case-sensitive: the English marks are written in capitals, and "Todo"
    # ("all") is an ordinary Spanish word.
    r"|\bHHMMSS\b|(?-i:\bTODO\b|\bFIXME\b|\bTBD\b)|<(?:placeholder|cambiar|rellenar)>",
    re.IGNORECASE,
)
# mktemp's own template (mktemp "$f.XXXXXX") is a command's argument, not a filler.
_MKTEMP = re.compile(r"\bmktemp\b[^\n]*$")
# Keys holding regular expressions, where brackets are character classes.
_REGEX_KEYS = frozenset({"pattern", "stdout_regex"})


class TemplatePlaceholder(Rule):
    """A placeholder copied from the template was never filled in.

    Flags the template's fillers anywhere in the source: ``[comando1]``,
    ``[Nombre]``, ``[staging|production]``, ``XXX``, ``XXmin``,
    ``vX.Y.Z``, ``YYYY-MM-DD``, ``PROC-BACKEND-XXX``, ``TODO``/``TBD``.
    Regular expressions (``pattern``, ``stdout_regex``) are not checked.

    Bad::

        steps:
          - title: Paso de ejemplo
            minutes: 1
            run: "[comando1]"

    Good::

        steps:
          - title: Reiniciar el servicio
            minutes: 1
            run: systemctl restart backend-api
    """

    id = "template-placeholder"
    severity = "error"
    perspectives = ("devops", "dev")
    summary = "no unresolved template placeholders ([comando1], XXX, YYYY-MM-DD, [Nombre])"

    def check(self, source: Source) -> Iterator[Diagnostic]:
        for text in procedure_strings(source.procedure):
            if any(k in _REGEX_KEYS for k in text.loc if isinstance(k, str)):
                continue
            for m in PLACEHOLDER.finditer(text.text):
                if m.group(0).upper().strip("X") == "" and _MKTEMP.search(text.text, 0, m.start()):
                    continue
                yield self.report(
                    source, text.pos(source, m.start()),
                    f"unresolved template placeholder '{m.group(0)}'",
                )
