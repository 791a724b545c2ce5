"""Deterministic YAML emission of Python data (playbooks, inventories).

Playbooks are built as Python data and dumped here, never produced by text
templates. Strings that must never be templated by Ansible are wrapped in
:class:`Unsafe` and carry the ``!unsafe`` tag.

Speed: PyYAML's pure-Python emitter took 90 % of compiling a 3,000-step
procedure. When PyYAML has libyaml, the data becomes YAML nodes directly
(:func:`_node`, much leaner than PyYAML's representer) and libyaml's emitter
writes them. libyaml puts a sequence that is a mapping value at its key's
column ("indentless"), where yamllint and ansible-lint want it indented, so
:func:`_indent_sequences` shifts those sequences by two columns, line by line.
Why the shift is exact: a block literal's lines are recognised by their
header and indentation; a scalar libyaml folds over several lines (past
column WIDTH) continues two columns deeper than its key or dash, so whatever
its continuation lines look like, they can only shift text inside that
scalar (where leading spaces do not count) and never move a line of
structure. The one form it does not know, a key written "? key" (a key
longer than 120 characters or with a line break, only from hostile task
arguments), sends the document to the pure-Python emitter instead.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator
from typing import Any

import yaml

try:  # libyaml's emitter and parser, when PyYAML was built with them
    from yaml import CSafeDumper as _CBase
    from yaml import CSafeLoader as _CLoader
except ImportError:  # pragma: no cover - depends on the platform build
    _CBase = None  # type: ignore[assignment,misc]
    _CLoader = None  # type: ignore[assignment,misc]

# Commands sit at most 20 columns deep in a playbook (a rollback block in a
# rescue): 136 + 20 stays under the 160 of yamllint and ansible-lint. Longer
# lines go double-quoted, which libyaml can only fold at spaces.
MAX_LITERAL_LINE = 136
WIDTH = 120
_DELIMS = re.compile(r"\{\{|\{%|\{#")
_STR = "tag:yaml.org,2002:str"
# Line breaks for YAML besides "\n": a string holding one is double-quoted.
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")


class Unsafe(str):
    """A string Ansible must print verbatim (emitted as ``!unsafe``)."""

    __slots__ = ()


def _str_style(data: str) -> str | None:
    """The scalar style of a plain string: a block literal when it reads well, else the emitter's choice."""
    if "\n" in data or _OTHER_BREAKS.search(data):
        lines = data.split("\n")
        if not _OTHER_BREAKS.search(data) and \
                all(len(line) <= MAX_LITERAL_LINE and line == line.rstrip() for line in lines):
            return "|"
        return '"'
    return None


def _scalar(data: str) -> tuple[str, str | None]:
    """Tag and style of a string (an :class:`Unsafe` one is tagged ``!unsafe`` when it holds Jinja)."""
    if isinstance(data, Unsafe) and _DELIMS.search(data):
        # A tagged plain scalar would be resolved by tag anyway; quote it so
        # that readers see a string.
        return "!unsafe", _str_style(data) or '"'
    # Nothing to template; and Ansible's !unsafe constructor would turn "yes"
    # into a boolean, so plain text stays a plain string.
    return _STR, _str_style(data)


class _Dumper(yaml.SafeDumper):
    """Indents sequences under their key, as yamllint and ansible-lint expect."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: Any, data: str) -> yaml.ScalarNode:
    tag, style = _scalar(data)
    node: yaml.ScalarNode = dumper.represent_scalar(tag, str(data), style=style)
    return node


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Unsafe, _represent_str)


class _Unsupported(Exception):
    """A value :func:`_node` does not convert (the representer handles it)."""


def _float(data: float) -> str:
    """A float as PyYAML's SafeRepresenter writes it."""
    if data != data:
        return ".nan"
    if data in (float("inf"), float("-inf")):
        return ".inf" if data > 0 else "-.inf"
    value = repr(data).lower()
    if "." not in value and "e" in value:
        value = value.replace("e", ".0e", 1)
    return value


class _Nodes:
    """Python data as YAML nodes, as PyYAML's safe representer would make them, without its overhead."""

    def __init__(self) -> None:
        # A key libyaml cannot write as a simple key (long, or with a line
        # break) is written "? key" / ": value", which the shift does not know.
        self.odd = False
        self.styles: dict[tuple[str, bool], tuple[str, str | None]] = {}

    def key(self, data: Any) -> yaml.Node:
        if isinstance(data, str) and (len(data) > 120 or "\n" in data or _OTHER_BREAKS.search(data)):
            self.odd = True
        return self.node(data)

    def node(self, data: Any) -> yaml.Node:
        if isinstance(data, str):
            unsafe = type(data) is Unsafe
            key = (data, unsafe)
            found = self.styles.get(key)
            if found is None:
                found = self.styles[key] = _scalar(data)
            return yaml.ScalarNode(found[0], str(data) if unsafe else data, style=found[1])
        if isinstance(data, bool):
            return yaml.ScalarNode("tag:yaml.org,2002:bool", "true" if data else "false")
        if isinstance(data, int):
            return yaml.ScalarNode("tag:yaml.org,2002:int", str(data))
        if data is None:
            return yaml.ScalarNode("tag:yaml.org,2002:null", "null")
        if isinstance(data, float):
            return yaml.ScalarNode("tag:yaml.org,2002:float", _float(data))
        if isinstance(data, dict):
            return yaml.MappingNode("tag:yaml.org,2002:map",
                                    [(self.key(k), self.node(v)) for k, v in data.items()], flow_style=False)
        if isinstance(data, list):
            return yaml.SequenceNode("tag:yaml.org,2002:seq", [self.node(x) for x in data], flow_style=False)
        raise _Unsupported(type(data).__name__)  # dates, tuples ...: the representer knows them

    def run(self, data: Any) -> yaml.Node:
        """The node tree of ``data``."""
        return self.node(data)


# The tag of each scalar libyaml resolves (see _CDumper.resolve).
_RESOLVED: dict[tuple[Any, ...], Any] = {}

if _CBase is not None:

    class _CDumper(_CBase):
        """libyaml's emitter with the same representers (sequences fixed afterwards)."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            # Called twice per scalar by libyaml's serializer; keys and many
            # values repeat, and the answer depends only on the arguments.
            if kind is not yaml.ScalarNode:
                return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            key = (value, tuple(implicit))
            tag = _RESOLVED.get(key)
            if tag is None:
                tag = _RESOLVED[key] = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            return tag

    _CDumper.add_representer(str, _represent_str)
    _CDumper.add_representer(Unsafe, _represent_str)


# "- " items that open a line, and a line that is only a key (its value, a
# sequence or a mapping, follows on the next lines).
_ITEM = re.compile(r"- |-$")
# A key: plain (no ": " and no " #" inside), single- or double-quoted.
_KEY = r"""(?:[^\s'"](?:(?!: | #).)*?|'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")"""
_BARE_KEY = re.compile(_KEY + r":$")
# A block scalar header: "key: |-", "|", "key: !unsafe |2-".
_BLOCK = re.compile(r"(?:" + _KEY + r": )?(?:![^\s]+ )?[|>][-+0-9]*$")


def _indent_sequences(text: str) -> str:
    """Indent, by two columns, every block sequence libyaml wrote at its key's column."""
    out: list[str] = []
    stack: list[int] = []  # columns of the open indentless sequences (as libyaml wrote them)
    key_col: int | None = None  # column of the key that ended the previous line, if any
    block_col: int | None = None  # inside a block scalar whose node starts at this column
    block_shift = 0
    for line in text.split("\n"):
        body = line.lstrip(" ")
        col = len(line) - len(body)
        if block_col is not None:
            if not body or col > block_col:
                out.append(" " * block_shift + line if body else line)
                continue
            block_col = None
        if not body:
            out.append(line)
            key_col = None
            continue
        dashes = 0
        rest = body
        while _ITEM.match(rest):
            dashes += 1
            rest = rest[2:]
        while stack and (col < stack[-1] or (col == stack[-1] and not dashes)):
            stack.pop()
        if dashes and key_col == col and (not stack or stack[-1] != col):
            stack.append(col)
        shift = 2 * len(stack)
        out.append(" " * shift + line)
        inner = col + 2 * dashes  # where this line's node starts
        key_col = inner if _BARE_KEY.match(rest) else None
        if _BLOCK.fullmatch(rest):
            block_col, block_shift = inner, shift
    return "\n".join(out)


def _events(text: str) -> list[tuple[Any, ...]]:
    """The parse events of ``text`` without their positions (what a document means, in order)."""
    return [(type(e).__name__, getattr(e, "anchor", None), getattr(e, "tag", None),
             getattr(e, "implicit", None), getattr(e, "value", None), getattr(e, "style", None))
            for e in yaml.parse(text, Loader=_CLoader)]


def _fast(data: Any, explicit_start: bool) -> str | None:
    """``data`` through libyaml, sequences indented; None when only the slow emitter is sure to be right."""
    nodes = _Nodes()
    try:
        root = nodes.run(data)
        raw = str(yaml.serialize(root, Dumper=_CDumper, allow_unicode=True, explicit_start=explicit_start,
                                 width=WIDTH, indent=2))
    except _Unsupported:
        return None
    if nodes.odd:
        return None
    return _indent_sequences(raw)


class _Complex(Exception):
    """A document :func:`_direct` does not write itself (libyaml and the shift do)."""


# The rendering of each scalar, by (type, value): its text on one line, or a
# block scalar's header and lines (relative to the content's column).
_RENDERED: dict[tuple[type, Any], tuple[str, tuple[str, ...] | None]] = {}
_LITERAL_HEAD = re.compile(r"(?:!unsafe )?\|[1-9]?-?$")


def _parse_rendering(lines: list[str]) -> tuple[str, tuple[str, ...] | None] | None:
    """One item of a rendered sequence ("- " stripped from its first line), or None when not a simple form."""
    if len(lines) == 1:
        return lines[0], None
    if _LITERAL_HEAD.fullmatch(lines[0]) and all(not ln or ln.startswith("  ") for ln in lines[1:]):
        return lines[0], tuple(ln[2:] for ln in lines[1:])
    return None


def _key(data: Any) -> tuple[type, Any]:
    """The cache key of a scalar: its type and value (a float by its repr: 0.0 == -0.0, nan != nan)."""
    return (float, repr(data)) if type(data) is float else (type(data), data)


def _prime(data: Any) -> None:
    """Render every scalar of ``data`` not yet in :data:`_RENDERED` in one libyaml call (one call per
    scalar costs more than the rest of the writing). Items of a block sequence are written independently
    of each other, and each starts a line with "- " (block scalars' lines are indented): the output splits
    back into items exactly. Anything unexpected just leaves the scalar to :func:`_rendered`."""
    todo: dict[tuple[type, Any], Any] = {}
    stack = [data]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is dict:
            for k, v in x.items():
                if _key(k) not in _RENDERED:
                    todo[_key(k)] = k
                stack.append(v)
        elif t is list:
            stack.extend(x)
        elif _key(x) not in _RENDERED:
            todo[_key(x)] = x
    if len(todo) < 2 or len(_RENDERED) + len(todo) > _MAX_RENDERED:
        return
    values = list(todo.values())
    nodes = _Nodes()
    try:
        root = yaml.SequenceNode("tag:yaml.org,2002:seq", [nodes.node(v) for v in values], flow_style=False)
    except _Unsupported:
        return
    lines = str(yaml.serialize(root, Dumper=_CDumper, allow_unicode=True, width=2**30, indent=2)).split("\n")
    if lines[-1] != "" or lines[-2] == "...":
        return
    groups: list[list[str]] = []
    for ln in lines[:-1]:
        if ln.startswith("- "):
            groups.append([ln[2:]])
        elif groups and (not ln or ln.startswith("  ")):
            groups[-1].append(ln)
        else:
            return
    if len(groups) != len(values):
        return
    for key, group in zip(todo, groups, strict=True):
        found = _parse_rendering(group)
        if found is not None and "+" not in found[0]:
            _RENDERED[key] = found


_MAX_RENDERED = 200_000  # bounded: a huge catalog of distinct values must not grow memory forever


def _rendered(data: Any) -> tuple[str, tuple[str, ...] | None]:
    """How libyaml writes the scalar ``data`` (asked once per distinct value, in a one-item sequence)."""
    if type(data) is dict or type(data) is list:
        if data:
            raise _Complex
        return ("{}" if type(data) is dict else "[]"), None
    key = _key(data)
    found = _RENDERED.get(key)
    if found is not None:
        return found
    node = _Nodes().node(data)
    text = str(yaml.serialize(yaml.SequenceNode("tag:yaml.org,2002:seq", [node], flow_style=False),
                              Dumper=_CDumper, allow_unicode=True, width=2**30, indent=2))
    if not text.startswith("- ") or not text.endswith("\n") or text.endswith("...\n"):
        raise _Complex  # "|+" and the like: libyaml ends such a document with "..."
    found = _parse_rendering(text[2:-1].split("\n"))
    if found is None:  # a quoted scalar over several lines: its breaks depend on the column
        raise _Complex
    if len(_RENDERED) < _MAX_RENDERED:
        _RENDERED[key] = found
    return found


# The marker document of each path seen (see _folded), bounded like _RENDERED.
_MARKERS: dict[tuple[Any, ...], tuple[list[str], bool]] = {}
_MAX_MARKERS = 10_000


def trim(keep: int = 20_000) -> None:
    """Drop every scalar rendering, marker and tag cached, once they hold more than ``keep`` renderings.

    compiler.build calls it before each procedure. The caches pay off within one
    playbook (keys and values repeat) and a little across procedures (module
    names, tags). Never trimmed, they grew with the catalog up to their bounds:
    a compile's peak memory was 45 MiB at 200 procedures and 82 MiB at 1000
    (session 7's benchmarks).
    """
    if len(_RENDERED) <= keep:
        return
    _RENDERED.clear()
    _MARKERS.clear()
    _RESOLVED.clear()


def _folded(data: Any, path: tuple[Any, ...]) -> tuple[str, list[str]]:
    """A scalar libyaml may fold, as libyaml writes it at the end of ``path`` (its first line's text, then
    its other lines as libyaml writes them, before the shift).

    The context is rebuilt exactly (the same keys and items above it): the
    document holding only that path, once with the scalar and once with a
    one-character marker; where the marker stands is where the scalar starts.
    """
    def skeleton(leaf: Any) -> Any:
        for step in reversed(path):
            leaf = {step[1]: leaf} if step[0] == "m" else [leaf]
        return leaf

    nodes = _Nodes()
    try:
        with_value = str(yaml.serialize(nodes.run(skeleton(data)), Dumper=_CDumper, allow_unicode=True,
                                        width=WIDTH, indent=2)).split("\n")
        # The marker's document depends on the path alone, and the same path recurs in every step of a
        # procedure (keys, not values, name it): written once per path, not once per long scalar.
        where = tuple((step[0], _key(step[1])) if step[0] == "m" else step for step in path)
        known = _MARKERS.get(where)
        if known is None:
            mnodes = _Nodes()
            known = (str(yaml.serialize(mnodes.run(skeleton("x")), Dumper=_CDumper, allow_unicode=True,
                                        width=WIDTH, indent=2)).split("\n"), mnodes.odd)
            if len(_MARKERS) < _MAX_MARKERS:
                _MARKERS[where] = known
        marker, odd = known
    except _Unsupported:
        raise _Complex from None
    if nodes.odd or odd or marker[-1] != "" or with_value[-1] != "" or with_value[-2] == "...":
        raise _Complex
    row = len(marker) - 2
    start = len(marker[row]) - 1
    if with_value[:row] != marker[:row] or with_value[row][:start] != marker[row][:start]:
        raise _Complex
    return with_value[row][start:], with_value[row + 1:-1]


def _direct(data: Any, explicit_start: bool) -> str:
    """``data`` written as libyaml plus the shift would write it, without either (raises _Complex when unsure).

    Block structure is regular (two columns per level, sequences indented
    under their key, "- " items holding the first key of a mapping); only
    scalars need care, and each distinct one is written by libyaml itself
    (:func:`_rendered`). A scalar is placed only where libyaml could not have
    folded it (its line stays within WIDTH columns) and only as a one-line
    scalar or a literal block; anything else raises :class:`_Complex`.
    tests/unit/test_yamlout_direct.py checks the two writers agree.
    """
    _prime(data)
    out: list[str] = ["---"] if explicit_start else []
    # ``shift``: how far the shift moves this line right of where libyaml
    # writes it (two columns per indentless sequence above); libyaml folds
    # at WIDTH in its own columns. ``path``: the keys and items above, to
    # rebuild the scalar's exact context when it is long enough to fold.
    Path_ = tuple[Any, ...]

    def scalar(head: str, value: Any, col: int, shift: int, path: Path_) -> None:
        text, block = _rendered(value)
        line = head + text
        if len(line) - shift > WIDTH:  # libyaml may fold it: let libyaml write it where it stands
            first, rest = _folded(value, path)
            out.append(head + first)
            pad = " " * shift
            out.extend(pad + ln if ln else "" for ln in rest)
            return
        out.append(line)
        if block is not None:
            pad = " " * col
            out.extend(pad + ln if ln else "" for ln in block)

    def mapping(d: dict[Any, Any], col: int, head: str, shift: int, path: Path_) -> None:
        pad = " " * col
        for k, v in d.items():
            if isinstance(k, str) and ("\n" in k or _OTHER_BREAKS.search(k)):
                raise _Complex  # libyaml writes such a key "? key"
            ktext, kblock = _rendered(k)
            if kblock is not None or len(ktext) > 120:
                raise _Complex
            value(v, col, f"{head}{ktext}:", shift, (*path, ("m", k)))
            head = pad

    def items(seq: list[Any], col: int, head: str, shift: int, path: Path_) -> None:
        pad = " " * col + "- "
        for it in seq:
            item(it, col, head, shift, (*path, ("s",)))
            head = pad

    def value(v: Any, col: int, head: str, shift: int, path: Path_) -> None:  # the value of a key at ``col``
        if type(v) is dict and v:
            out.append(head)
            mapping(v, col + 2, " " * (col + 2), shift, path)
        elif type(v) is list and v:
            out.append(head)
            items(v, col + 2, " " * (col + 2) + "- ", shift + 2, path)
        else:  # a scalar, or an empty mapping or sequence ("{}", "[]")
            scalar(head + " ", v, col + 2, shift, path)

    def item(it: Any, col: int, head: str, shift: int, path: Path_) -> None:  # an item whose dash is at ``col``
        if type(it) is dict and it:
            mapping(it, col + 2, head, shift, path)
        elif type(it) is list and it:
            items(it, col + 2, head + "- ", shift, path)
        else:  # a scalar, or an empty mapping or sequence ("{}", "[]")
            scalar(head, it, col + 2, shift, path)

    if type(data) is list and data:
        items(data, 0, "- ", 0, ())
    elif type(data) is dict and data:
        mapping(data, 0, "", 0, ())
    else:
        raise _Complex
    out.append("")
    return "\n".join(out)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: dumping allocates hundreds of
    thousands of short-lived objects over a large live heap, and its repeated
    full scans cost more than the dump itself (nothing here creates cycles)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def dump(data: Any, explicit_start: bool = True) -> str:
    """Dump ``data`` as a YAML document that yamllint and ansible-lint accept."""
    with _no_gc():
        if _CBase is not None:
            try:
                return _direct(data, explicit_start)
            except (_Complex, _Unsupported):
                pass
            text = _fast(data, explicit_start)
            if text is not None:
                return text
        return _slow(data, explicit_start)


def _slow(data: Any, explicit_start: bool) -> str:
    return str(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                         explicit_start=explicit_start, default_flow_style=False, width=WIDTH, indent=2))


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
