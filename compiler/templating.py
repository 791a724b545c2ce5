"""Which parts of a command are templated by Ansible, and how the rest is kept literal.

Only declared parameters (and a few run-time names procc provides) are ever
templated. ``{{ name }}`` or ``{{ name | filter }}`` with a declared ``name``
stays a template; an identifier that is not declared is an error in the
source; any other Jinja-looking text (``{{.State}}`` of docker, ``{%``) is
escaped so that Ansible prints it verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Names every playbook provides at run time, usable in commands.
BUILTIN_NAMES = frozenset(
    {
        "inventory_hostname",
        "inventory_hostname_short",
        "ansible_host",
        "ansible_hostname",
        "ansible_user",
        "procc_run_id",
        "procc_proc_id",
        "procc_workdir",
    }
)

_EXPR = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_PARAM_REF = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\|\s*[A-Za-z_][\w.]*(\([^{}]*\))?\s*)*$")
_DELIMS = re.compile(r"\{\{|\{%|\{#")


@dataclass(frozen=True)
class Ref:
    """A ``{{ name ... }}`` reference found in a text, with its offset."""

    name: str
    offset: int


def references(text: str) -> Iterator[Ref]:
    """Yield every parameter-looking ``{{ name }}`` reference in ``text``."""
    for match in _EXPR.finditer(text):
        ref = _PARAM_REF.match(match.group(1))
        if ref:
            yield Ref(ref.group(1), match.start())


def to_ansible(text: str, allowed: frozenset[str]) -> str:
    """Return ``text`` with every non-parameter Jinja delimiter escaped.

    References to names in ``allowed`` are kept as templates; everything else
    that Jinja would interpret is wrapped so that it prints literally.
    """
    if not _DELIMS.search(text):
        return text
    out: list[str] = []
    pos = 0
    for match in _EXPR.finditer(text):
        ref = _PARAM_REF.match(match.group(1))
        if ref and ref.group(1) in allowed:
            out.append(_escape(text[pos : match.start()]))
            out.append(match.group(0))
            pos = match.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def _escape(literal: str) -> str:
    return _DELIMS.sub(lambda m: "{{ '" + m.group(0) + "' }}", literal)


def neutralize(text: str) -> str:
    """Break Jinja delimiters apart in display-only text (task names).

    Task names are templated by Ansible for display; a title is never meant
    to run, so ``{{`` becomes ``{ {`` there. The exact text travels in vars
    marked ``!unsafe``.
    """
    return re.sub(r"([{}])(?=[{}%#])", r"\1 ", text).replace("%}", "% }").replace("#}", "# }")
