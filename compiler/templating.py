"""Which parts of a text are parameter references, checked with Jinja's own parser.

A reference is ``{{ name }}`` or ``{{ name | filter('literal', 1) }}`` where
``name`` is a declared parameter (or one of the run-time names procc
provides). Anything Jinja would evaluate beyond that (calls, lookups,
attribute or item access, operators, names inside filter arguments) is an
error in the source, reported at its position. Text that merely looks like
Jinja but is not a Jinja expression (``docker inspect -f '{{.State}}'``, an
unclosed ``{{``) is plain text: it is passed on literally and does not change
how the rest of the text is read.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError

# Names every playbook provides at run time, usable where parameters are.
BUILTIN_NAMES = frozenset(
    {
        "inventory_hostname",
        "inventory_hostname_short",
        "ansible_host",
        "ansible_hostname",
        "ansible_user",
        "procc_run_id",
        "procc_proc_id",
    }
)

# Built-in names defined only where post-execution actions run (the outcome play).
POST_ONLY_NAMES = frozenset({"procc_outcome"})

_OPEN = re.compile(r"\{\{")
_DELIMS = re.compile(r"\{\{|\{%|\{#")
# One environment, used only to parse: nothing is ever rendered with it.
_PARSER = Environment(autoescape=False)


@dataclass(frozen=True)
class Ref:
    """A ``{{ name | filters }}`` reference: where it is and what it applies."""

    name: str
    offset: int
    end: int
    filters: tuple[str, ...] = ()

    @property
    def text_len(self) -> int:
        return self.end - self.offset


@dataclass(frozen=True)
class Problem:
    """A Jinja expression that is not a plain reference, at ``offset``."""

    offset: int
    message: str


def scan(text: str, allowed: frozenset[str] | None = None) -> tuple[list[Ref], list[Problem]]:
    """The references in ``text`` and the expressions that are not allowed.

    With ``allowed`` given, a reference to any other name is a problem too.
    """
    refs: list[Ref] = []
    problems: list[Problem] = []
    pos = 0
    while True:
        match = _OPEN.search(text, pos)
        if match is None:
            break
        start = match.start()
        close = text.find("}}", start + 2)
        if close < 0:
            break  # an unclosed "{{" is text; nothing after it can be a reference
        parsed = _parse(text[start : close + 2])
        if parsed is None:
            # Not Jinja at all ({{.State}}, "{{ ;"): literal text. Look for
            # references again right after this "{{", so an unclosed one
            # never swallows the parameters that follow it.
            pos = start + 2
            continue
        name, filters, message = parsed
        ref = Ref(name, start, close + 2, filters) if name is not None else None
        if message is not None:
            problems.append(Problem(start, message))
        elif ref is not None:
            if allowed is not None and ref.name not in allowed:
                problems.append(Problem(start, undeclared(ref.name, allowed)))
            else:
                refs.append(ref)
        pos = close + 2
    return refs, problems


def undeclared(name: str, allowed: frozenset[str]) -> str:
    """The message for a reference to ``name``, which is not in ``allowed``: what it may have meant."""
    close = difflib.get_close_matches(name, sorted(allowed), n=1)
    hint = f" (did you mean '{{{{ {close[0]} }}}}'?)" if close else ""
    if name in POST_ONLY_NAMES:
        return (f"'{{{{ {name} }}}}' is defined only in post-execution actions (post.cleanup, post.notify), "
                "where the host's outcome is known")
    if name.startswith(("procc_", "ansible_")):
        # procc's and Ansible's own names are not something to declare: say which exist.
        builtins = ", ".join(sorted(BUILTIN_NAMES))
        return f"'{{{{ {name} }}}}' is not one of the built-in variables ({builtins}){hint}"
    return f"'{{{{ {name} }}}}' is not a declared parameter{hint}; declare it under 'parameters'"


@functools.lru_cache(maxsize=4096)
def _parse(expr: str) -> tuple[str | None, tuple[str, ...], str | None] | None:
    """``(name, filters, problem)`` of one ``{{ ... }}``, or None when it is not Jinja.

    Cached: a catalog repeats the same few references thousands of times.
    """
    try:
        tree = _PARSER.parse(expr)
    except TemplateSyntaxError:
        return None
    ref, problem = _reference(tree)
    if problem is not None:
        return None, (), problem
    assert ref is not None
    return ref


def _reference(tree: nodes.Template) -> tuple[tuple[str, tuple[str, ...], None] | None, str | None]:
    """The name and filters an expression ``{{ ... }}`` refers to, or why it is not a reference."""
    body = tree.body
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        return None, "only '{{ parameter }}' is allowed here"
    node = body[0].nodes[0]
    filters: list[str] = []
    while isinstance(node, nodes.Filter):
        if node.node is None:
            return None, "a filter block is not allowed here"
        for arg in [*node.args, *(kw.value for kw in node.kwargs)]:
            if not isinstance(arg, nodes.Const):
                return None, f"the arguments of filter '{node.name}' must be literals"
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            return None, f"the arguments of filter '{node.name}' must be literals"
        filters.append(node.name)
        node = node.node
    if isinstance(node, nodes.Name):
        return (node.name, tuple(reversed(filters)), None), None
    what = {
        nodes.Call: "a call", nodes.Getattr: "attribute access", nodes.Getitem: "item access",
        nodes.Const: "a constant",
    }.get(type(node), "an expression")
    return None, (f"{what} inside '{{{{ }}}}' is not allowed: only a declared parameter, "
                  "optionally with filters taking literal arguments")


def references(text: str) -> Iterator[Ref]:
    """Yield every well-formed ``{{ name ... }}`` reference in ``text``."""
    yield from scan(text)[0]


def to_ansible(text: str, allowed: frozenset[str]) -> str:
    """``text`` for a templated Ansible field: references kept, any other Jinja printed literally.

    Only used for module arguments, role variables, expected strings and
    URLs: the source was validated, so every reference here is allowed.
    """
    if not _DELIMS.search(text):
        return text
    refs, _ = scan(text, allowed)
    out: list[str] = []
    pos = 0
    for ref in refs:
        out.append(_escape(text[pos : ref.offset]))
        out.append(text[ref.offset : ref.end])
        pos = ref.end
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
