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


def extravars(values: dict[str, str]) -> str:
    """Parameter values as an extra-vars file that Ansible never templates and never retypes.

    A value holding a Jinja delimiter is tagged ``!unsafe``; any other value
    is a plain double-quoted string. Tagging every value (as AWX does with
    survey answers) loses data under ansible-core 2.19: its ``!unsafe``
    constructor re-resolves the scalar's implicit type, so ``"00"`` arrives as
    the integer 0 and ``""`` as None. A value with a delimiter can never
    resolve to anything but a string.
    """
    lines = []
    for key, value in values.items():
        scalar = yaml.dump(value, Dumper=yaml.SafeDumper, default_style='"', allow_unicode=True,
                           width=float("inf")).rstrip("\n")
        if scalar.endswith("\n..."):
            scalar = scalar[: -len("\n...")]
        tag = "!unsafe " if _DELIMS.search(value) else ""
        name = yaml.dump(key, Dumper=yaml.SafeDumper, default_style='"').rstrip("\n")
        lines.append(f"{name}: {tag}{scalar}")
    return "".join(line + "\n" for line in lines)
