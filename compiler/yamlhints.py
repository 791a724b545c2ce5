"""The fix for the YAML mistakes people make when they write commands in a procedure.

PyYAML says what it could not parse ("mapping values are not allowed in this
context"); the writer needs to know what to change. Each hint is chosen from
the parser's message and the source line it points at.
"""

from __future__ import annotations

import re

# "key: {{ x }}" or "- {{ x }}": an unquoted value that starts with Jinja is
# read as a flow mapping.
_STARTS_WITH_JINJA = re.compile(r"^\s*(?:-\s+)?(?:[^\s:#][^:#]*:\s+)?\{\{")
_FLOW_WITH_JINJA = re.compile(r"[{\[][^\n]*\{\{")

QUOTE_JINJA = ("a value that starts with '{{' must be quoted, or YAML reads it as a mapping: "
               "write run: \"{{ name }}/...\"")
QUOTE_COLON = ("a plain value cannot contain ': ' (as in 'Authorization: Bearer ...'): quote the whole "
               "value ('...'), or write it as a block: 'run: |' and the command on the next line")
QUOTE_IN_FLOW = ("inside '{ ... }' or '[ ... ]', a value with '{{ }}', ': ' or ',' must be quoted "
                 "('{{ name }}'); or write the mapping in block style, one key per line")
NO_TABS = "YAML indentation is spaces only: replace the tab with spaces"
UNCLOSED_FLOW = ("the '[' or '{' that opens here is not closed on its line: close it, or quote the value "
                 "if the bracket is part of the text")
UNCLOSED_QUOTE = "the quote that opens here is never closed: close it, or use a block scalar ('|')"


def hint(message: str, line: str) -> str | None:
    """The fix for a YAML error ``message`` reported on the source ``line``, if one is known."""
    if _STARTS_WITH_JINJA.match(line) and not _FLOW_WITH_JINJA.search(line.split("{{", 1)[0]):
        return QUOTE_JINJA
    if "mapping values are not allowed" in message:
        return QUOTE_COLON
    if ("flow mapping" in message or "flow sequence" in message) and re.search(r"\{\{|:\s", line):
        return QUOTE_IN_FLOW
    if "tab" in message:
        return NO_TABS
    if "quoted scalar" in message and "end of stream" in message:
        return UNCLOSED_QUOTE
    return None
