"""Read a procedure's YAML text into plain data plus a source map.

This is the only module that parses YAML source. It composes the node tree
(so every key and value keeps its line and column), rejects duplicate keys,
and builds ordinary Python data. The :class:`SourceMap` answers "where in the
file is ``steps[2].validate.run``?" for every later stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.errors import CompileError, Diagnostic, Position

try:  # the C loader is several times faster when libyaml is present
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the platform build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

PathKey = tuple[str | int, ...]

# Aliases share one composed node, so a few hundred bytes can stand for
# billions of nodes ("billion laughs"). Building the data visits every use of
# an alias: past this many revisited nodes the file is refused. A procedure
# that uses anchors for shared settings stays orders of magnitude below.
MAX_ALIAS_NODES = 10_000
# Deeper nesting than any procedure needs would exhaust Python's recursion.
MAX_DEPTH = 100


class _TooBig(Exception):
    """The document expands past a limit; carries the diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass
class SourceMap:
    """Positions of keys and values, by their path in the document."""

    path: str
    keys: dict[PathKey, Position] = field(default_factory=dict)
    values: dict[PathKey, Position] = field(default_factory=dict)
    block_scalars: dict[PathKey, Position] = field(default_factory=dict)

    def value(self, loc: PathKey) -> Position:
        """Position of the value at ``loc``, or of its nearest known ancestor."""
        for end in range(len(loc), -1, -1):
            pos = self.values.get(loc[:end])
            if pos is not None:
                return pos
        return Position(1, 1)

    def key(self, loc: PathKey) -> Position:
        """Position of the key that introduces ``loc`` (falls back to the value)."""
        pos = self.keys.get(loc)
        return pos if pos is not None else self.value(loc)

    def in_text(self, loc: PathKey, offset: int, text: str) -> Position:
        """Position of character ``offset`` inside the string value at ``loc``.

        Exact for literal/folded block scalars (``|``), whose lines map one to
        one onto the file; other scalars report the value's start.
        """
        start = self.block_scalars.get(loc)
        if start is None:
            return self.value(loc)
        before = text[:offset]
        line_in_text = before.count("\n")
        col_in_line = offset - (before.rfind("\n") + 1)
        return Position(start.line + line_in_text, start.col + col_in_line)


def _pos(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


class _Builder:
    """Turn a composed node tree into Python data while filling the source map."""

    def __init__(self, smap: SourceMap, lines: list[str]) -> None:
        self.smap = smap
        self.lines = lines
        self.errors: list[Diagnostic] = []
        self.constructor = yaml.SafeLoader("")
        self.seen: set[int] = set()
        self.revisited = 0

    def _where(self, loc: PathKey) -> Position:
        # The innermost key on the way to ``loc``: where the alias is used
        # (a node's own mark is where its anchor was defined).
        for end in range(len(loc), 0, -1):
            pos = self.smap.keys.get(loc[:end])
            if pos is not None:
                return pos
        return Position(1, 1)

    def build(self, node: yaml.Node, loc: PathKey) -> Any:
        if len(loc) > MAX_DEPTH:
            raise _TooBig(Diagnostic(self.smap.path, _pos(node.start_mark),
                                     f"nesting deeper than {MAX_DEPTH} levels", "yaml-too-deep"))
        if id(node) in self.seen:
            self.revisited += 1
            if self.revisited > MAX_ALIAS_NODES:
                raise _TooBig(Diagnostic(
                    self.smap.path, self._where(loc),
                    f"aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?); "
                    "write the values out or use fewer aliases", "yaml-alias-limit"))
        else:
            self.seen.add(id(node))
        self.smap.values[loc] = _pos(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*loc, i)) for i, child in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if node.style in ("|", ">"):
            # Block scalar text starts on the line after the indicator; its
            # column is the content indentation, found from the end mark.
            first = node.start_mark.line + 1
            indent = self._block_indent(node)
            self.smap.block_scalars[loc] = Position(first + 1, indent + 1)
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            mark = exc.problem_mark or node.start_mark
            self.errors.append(
                Diagnostic(self.smap.path, _pos(mark), str(exc.problem), "yaml-value")
            )
            return node.value
        except (ValueError, KeyError, AttributeError, TypeError):
            # An explicit tag on a value it cannot hold ("!!int x", "!!bool x",
            # "!!timestamp 2024-13-45"): PyYAML's constructors raise plain errors.
            self.errors.append(
                Diagnostic(self.smap.path, _pos(node.start_mark),
                           f"the value {node.value!r} is not a valid {node.tag}", "yaml-value")
            )
            return node.value

    def _block_indent(self, node: yaml.ScalarNode) -> int:
        # The C loader keeps no buffer in its marks, so read the source lines.
        for line in self.lines[node.start_mark.line + 1 :]:
            stripped = line.lstrip(" ")
            if stripped:
                return len(line) - len(stripped)
        return node.start_mark.column + 2

    def _mapping(self, node: yaml.MappingNode, loc: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, Position] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.errors.append(
                    Diagnostic(self.smap.path, _pos(key_node.start_mark),
                               "mapping keys must be plain strings", "yaml-key")
                )
                continue
            key = str(key_node.value)
            here = _pos(key_node.start_mark)
            if key in seen:
                first = seen[key]
                self.errors.append(
                    Diagnostic(
                        self.smap.path, here,
                        f"duplicate key '{key}' (first defined at line {first.line})",
                        "duplicate-key",
                    )
                )
                continue
            seen[key] = here
            self.smap.keys[(*loc, key)] = here
            out[key] = self.build(value_node, (*loc, key))
        return out


def load_text(text: str, path: str) -> tuple[Any, SourceMap]:
    """Parse ``text`` (named ``path`` in messages) into data and its source map.

    Raises :class:`CompileError` with every syntax or duplicate-key problem.
    """
    smap = SourceMap(path)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        pos = Position(before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        raise CompileError(
            [Diagnostic(path, pos, f"character {exc.character!r} is not allowed in YAML", "yaml-syntax")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "end of stream" in (exc.problem or ""):
            # An unterminated construct: where it starts helps more than EOF.
            mark = exc.context_mark
        pos = _pos(mark) if mark is not None else Position(1, 1)
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise CompileError([Diagnostic(path, pos, f"YAML syntax: {message}", "yaml-syntax")]) from None
    except yaml.YAMLError as exc:
        raise CompileError([Diagnostic(path, Position(1, 1), f"YAML: {exc}", "yaml-syntax")]) from None
    if node is None:
        raise CompileError([Diagnostic(path, Position(1, 1), "the file is empty", "empty-file")])
    builder = _Builder(smap, text.splitlines())
    try:
        data = builder.build(node, ())
    except _TooBig as exc:
        raise CompileError([exc.diagnostic]) from None
    if builder.errors:
        raise CompileError(builder.errors)
    return data, smap


def load_file(path: Path, display: str | None = None) -> tuple[Any, SourceMap, str]:
    """Read and parse a file; returns data, source map and the raw text."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CompileError([Diagnostic(name, Position(1, 1), f"cannot read: {exc.strerror}", "io")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CompileError([Diagnostic(name, Position(line, 1), "not valid UTF-8", "encoding")]) from None
    data, smap = load_text(text, name)
    return data, smap, text


@dataclass(frozen=True)
class RoleDoc:
    """What a role says about itself in ``meta/argument_specs.yml``.

    ``translations``: the same per language (``meta/docs.<lang>.yml``, same
    keys), for runbooks in that language; argument_specs stays the English one.
    """

    name: str
    short: str
    description: tuple[str, ...]
    translations: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def text(self, lang: str) -> tuple[str, tuple[str, ...]]:
        """The short description and description lines in ``lang`` (else argument_specs' own)."""
        for tlang, short, desc in self.translations:
            if tlang == lang:
                return short, desc
        return self.short, self.description


def _doc_lines(entry: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    desc = entry.get("description") or []
    if isinstance(desc, str):
        desc = [desc]
    return str(entry.get("short_description", "")), tuple(str(d) for d in desc)


def _translations(meta: Path) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """``meta/docs.<lang>.yml`` of one role (bad files are skipped, as bad specs are)."""
    out = []
    for path in sorted(meta.glob("docs.*.yml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict):
            out.append((path.name.split(".")[1], *_doc_lines(data)))
    return tuple(out)


def collection_name(root: Path) -> str | None:
    """``namespace.name`` of the collection whose root is ``root`` (its galaxy.yml), or None."""
    try:
        data = yaml.load((root / "galaxy.yml").read_text(encoding="utf-8"), Loader=_Loader)
        name = f"{data['namespace']}.{data['name']}"
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    return name


def load_role_docs(roles_dir: Path, collection: str | None = None) -> dict[str, RoleDoc]:
    """The documentation of every role under ``roles_dir`` (missing or bad specs are skipped).

    Keyed by the name a playbook calls the role by: ``collection.role`` when
    ``roles_dir`` is a collection's roles/ (``collection`` given), else the role's name.
    """
    docs: dict[str, RoleDoc] = {}
    if not roles_dir.is_dir():
        return docs
    for spec in sorted(roles_dir.glob("*/meta/argument_specs.yml")):
        try:
            data = yaml.load(spec.read_text(encoding="utf-8"), Loader=_Loader)
            main = data["argument_specs"]["main"]
        except (OSError, yaml.YAMLError, KeyError, TypeError):
            continue
        name = spec.parent.parent.name
        if collection:
            name = f"{collection}.{name}"
        docs[name] = RoleDoc(name, *_doc_lines(main), _translations(spec.parent))
    return docs


def project_role_docs(root: Path) -> dict[str, RoleDoc]:
    """The docs of the roles of the project at ``root`` (its roles/, by FQCN if it is a collection)."""
    return load_role_docs(root / "roles", collection_name(root))
