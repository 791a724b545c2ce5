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

from compiler import yamlhints
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
    #: Block scalars written folded (``>``): their lines are joined with spaces.
    folded: set[PathKey] = field(default_factory=set)
    #: The source's lines, to map offsets inside folded scalars back onto them.
    lines: list[str] = field(default_factory=list, repr=False)

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

        Exact for literal (``|``) and folded (``>``) block scalars, and for a
        scalar written on one line as it is (plain or quoted, no escapes);
        other scalars report the value's start.
        """
        start = self.block_scalars.get(loc)
        if start is None:
            return self._in_line(self.value(loc), offset, text)
        if loc in self.folded:
            return self._in_folded(start, offset, text)
        before = text[:offset]
        line_in_text = before.count("\n")
        col_in_line = offset - (before.rfind("\n") + 1)
        return Position(start.line + line_in_text, start.col + col_in_line)

    def _in_line(self, start: Position, offset: int, text: str) -> Position:
        # Checked against the source line, so a scalar that spans lines or
        # holds escapes (where offsets drift) keeps the value's start.
        if not 0 < start.line <= len(self.lines):
            return start
        line = self.lines[start.line - 1]
        col = start.col - 1
        if line[col : col + 1] in ("'", '"'):
            col += 1
        if line[col : col + len(text)] == text:
            return Position(start.line, col + 1 + offset)
        return start

    def _in_folded(self, start: Position, offset: int, text: str) -> Position:
        # Folding joins the source lines with spaces (or keeps the newline), so
        # the value is the lines' contents in order: find each line's content in
        # the value and keep the last one that starts at or before ``offset``.
        best = start
        cursor = 0
        for number in range(start.line, len(self.lines) + 1):
            raw = self.lines[number - 1]
            if not raw.strip():
                continue
            if len(raw) - len(raw.lstrip(" ")) < start.col - 1:
                break  # less indented: the scalar has ended
            content = raw[start.col - 1 :]
            found = text.find(content, cursor)
            if found < 0 or found > offset:
                break
            best = Position(number, start.col + offset - found)
            cursor = found + len(content)
        return best


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
            if node.style == ">":
                self.smap.folded.add(loc)
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
                line = self.lines[key_node.start_mark.line] if key_node.start_mark.line < len(self.lines) else ""
                fix = yamlhints.hint("", line)
                self.errors.append(
                    Diagnostic(self.smap.path, _pos(key_node.start_mark),
                               "mapping keys must be plain strings" + (f"; {fix}" if fix else ""), "yaml-key")
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


#: At most this many YAML syntax errors are reported for one file.
MAX_SYNTAX_ERRORS = 10


def _syntax_error(exc: yaml.MarkedYAMLError, path: str, lines: list[str]) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    unclosed = False
    if exc.context_mark is not None and "end of stream" in (exc.problem or ""):
        # An unterminated construct: where it starts helps more than EOF.
        mark = exc.context_mark
    elif exc.context_mark is not None and exc.problem_mark is not None and "flow" in (exc.context or "") \
            and exc.problem_mark.line > exc.context_mark.line:
        # A '[' or '{' still open on a later line: the mistake is where it opened.
        mark, unclosed = exc.context_mark, True
    pos = _pos(mark) if mark is not None else Position(1, 1)
    message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
    line = lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""
    fix = yamlhints.UNCLOSED_FLOW if unclosed else yamlhints.hint(message, line)
    return Diagnostic(path, pos, f"YAML syntax: {message}" + (f"; {fix}" if fix else ""), "yaml-syntax")


def _compose(text: str, path: str) -> yaml.Node | None:
    """The node tree of ``text``, or every syntax error that can be found in one pass.

    PyYAML stops at the first error. To report the next ones, the offending
    line is blanked (line numbers stay put) and the text parsed again, as
    long as each new error comes after the previous one: an error before it
    would be an echo of the blanking, not the writer's mistake.
    """
    lines = text.splitlines()
    errors: list[Diagnostic] = []
    current = text
    while True:
        try:
            node = yaml.compose(current, Loader=_Loader)
        except yaml.reader.ReaderError as exc:
            before = current[: exc.position]
            pos = Position(before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
            errors.append(Diagnostic(path, pos, f"character {exc.character!r} is not allowed in YAML",
                                     "yaml-syntax"))
            break  # the reader refuses the whole stream: nothing after it can be trusted
        except yaml.MarkedYAMLError as exc:
            diag = _syntax_error(exc, path, lines)
            if errors and diag.pos.line <= errors[-1].pos.line:
                break
            errors.append(diag)
            if len(errors) >= MAX_SYNTAX_ERRORS:
                break
            blanked = current.split("\n")
            if diag.pos.line > len(blanked):
                break  # at the end of the text: nothing left to blank
            blanked[diag.pos.line - 1] = ""
            current = "\n".join(blanked)
            continue
        except yaml.YAMLError as exc:
            errors.append(Diagnostic(path, Position(1, 1), f"YAML: {exc}", "yaml-syntax"))
            break
        if not errors:
            return node
        break
    raise CompileError(errors)


def load_text(text: str, path: str) -> tuple[Any, SourceMap]:
    """Parse ``text`` (named ``path`` in messages) into data and its source map.

    Raises :class:`CompileError` with every syntax or duplicate-key problem.
    """
    smap = SourceMap(path)
    node = _compose(text, path)
    if node is None:
        raise CompileError([Diagnostic(path, Position(1, 1), "the file is empty", "empty-file")])
    smap.lines = text.splitlines()
    builder = _Builder(smap, smap.lines)
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
