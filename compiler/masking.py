"""Masking secret values in everything a run writes or shows.

A secret can come back from Ansible in another spelling than the one procc
passed: URL-quoted in a health-check URL, JSON-escaped inside a result,
shell-quoted in a command line, ``repr``-escaped in a Python message. A
:class:`Masker` knows every spelling of every secret value and replaces each
one, in place, in an event (nested dicts and lists) before ansible-runner
writes it to disk or procc shows it. Masking keeps the rest of the text, so a
failed task still says why it failed.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "********"


def spellings(value: str) -> set[str]:
    """The common encodings of ``value`` (itself included) that Ansible output may carry."""
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        shlex.quote(value),
    }
    return {f for f in forms if f}


class Masker:
    """Replaces every spelling of the given secret values with :data:`MASK`."""

    def __init__(self, values: Iterable[str]) -> None:
        forms: set[str] = set()
        for v in values:
            if v:
                forms |= spellings(v)
        # Longest first: a quoted form contains the bare value.
        self.forms = sorted(forms, key=lambda f: (-len(f), f))

    def __bool__(self) -> bool:
        return bool(self.forms)

    def text(self, s: str) -> str:
        """``s`` with every secret spelling masked."""
        for f in self.forms:
            if f in s:
                s = s.replace(f, MASK)
        return s

    def hits(self, s: str) -> bool:
        """Whether ``s`` holds any spelling of a secret."""
        return any(f in s for f in self.forms)

    def scrub(self, obj: Any) -> Any:
        """Mask ``obj`` in place when it is a dict or list (keys too); returns the masked object."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            for k in list(obj):
                v = self.scrub(obj[k])
                if isinstance(k, str) and self.hits(k):
                    del obj[k]
                    obj[self.text(k)] = v
                else:
                    obj[k] = v
            return obj
        if isinstance(obj, list):
            for i, v in enumerate(obj):
                obj[i] = self.scrub(v)
            return obj
        return obj
