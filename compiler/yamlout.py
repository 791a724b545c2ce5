"""Deterministic YAML emission of Python data (playbooks, inventories).

Playbooks are built as Python data and dumped here, never produced by text
templates. Strings that must never be templated by Ansible are wrapped in
:class:`Unsafe` and carry the ``!unsafe`` tag.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_LITERAL_LINE = 110  # plus indentation, stays under the 160 of yamllint and ansible-lint
_DELIMS = re.compile(r"\{\{|\{%|\{#")


class Unsafe(str):
    """A string Ansible must print verbatim (emitted as ``!unsafe``)."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    """Indents sequences under their key, as yamllint and ansible-lint expect."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, data: str, tag: str = "tag:yaml.org,2002:str") -> yaml.ScalarNode:
    if "\n" in data:
        lines = data.split("\n")
        if all(len(line) <= MAX_LITERAL_LINE and line == line.rstrip() for line in lines):
            return dumper.represent_scalar(tag, data, style="|")
        return dumper.represent_scalar(tag, data, style='"')
    return dumper.represent_scalar(tag, data)


def _unsafe(dumper: yaml.SafeDumper, data: Unsafe) -> yaml.ScalarNode:
    if not _DELIMS.search(data):
        # Nothing to template; and Ansible's !unsafe constructor would turn
        # "yes" into a boolean, so plain text stays a plain string.
        return _str(dumper, str(data))
    node = _str(dumper, str(data), "!unsafe")
    if node.style is None:
        # A tagged plain scalar would be resolved by tag anyway; quote it so
        # that readers see a string.
        node.style = '"'
    return node


_Dumper.add_representer(str, _str)
_Dumper.add_representer(Unsafe, _unsafe)


def dump(data: Any, explicit_start: bool = True) -> str:
    """Dump ``data`` as a YAML document that yamllint and ansible-lint accept."""
    text = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        explicit_start=explicit_start,
        default_flow_style=False,
        width=120,
        indent=2,
    )
    return str(text)



class _UnsafeValue(str):
    """A value written with the ``!unsafe`` tag in extra vars."""

    __slots__ = ()


class _VarsDumper(yaml.SafeDumper):
    pass


_VarsDumper.add_representer(
    _UnsafeValue, lambda dumper, data: dumper.represent_scalar("!unsafe", str(data), style='"'))
_RESOLVER = yaml.resolver.Resolver()


def extravars(values: dict[str, Any]) -> str:
    """Values as an extra-vars file (``-e @file``) that Ansible never templates and never retypes.

    Strings are tagged ``!unsafe``, so a value holding ``{{ lookup(...) }}``
    is data at every stage. But ansible-core 2.19 resolves the scalar under
    ``!unsafe`` as if it were plain, quotes or not (``!unsafe "no"`` loads as
    false, ``"00"`` as 0, ``""`` as None): a string that would not resolve as
    a string is written as an ordinary quoted string instead. Such strings
    (booleans, numbers, dates, null, ``=``, ``<<``) cannot hold a delimiter.
    """

    def wrap(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        plain_tag = _RESOLVER.resolve(yaml.ScalarNode, v, (True, False))  # type: ignore[no-untyped-call]
        return _UnsafeValue(v) if plain_tag == "tag:yaml.org,2002:str" or "{" in v else v

    text = yaml.dump({k: wrap(v) for k, v in values.items()}, Dumper=_VarsDumper, allow_unicode=True,
                     sort_keys=True, width=2**16)
    return str(text)
