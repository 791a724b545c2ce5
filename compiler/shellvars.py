"""Parameters in shell commands become bash variables, never bash syntax.

A command written as ``ln -sfn releases/{{ release }} {{ base_dir }}/current``
reaches bash as ``ln -sfn releases/"${release}" "${base_dir}"/current``, with
the values in the task's environment. Bash then expands each value once, as
data: quotes, ``$()``, backticks, newlines or ``{{`` in a value can never
change the command's syntax, on any route (``procc run``, ``ansible-playbook``,
AWX). The runbook shows the same text, so a human pastes what bash receives.

Each reference is rewritten for the quoting context it sits in, found by a
small bash lexer: a bare word gets ``"${x}"``; inside double quotes or an
unquoted here-document ``${x}``; inside single quotes the quote is closed
around it (``'a'"${x}"'b'``). Contexts where a variable cannot stand in for
the text (a quoted here-document, ``$'...'``, arithmetic, a filter) are
errors with the fix, unless the parameter's type makes its value inert.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from compiler import templating
from compiler.model import Procedure, captures
from compiler.templating import Ref

# Parameter types whose validated values are digits or a fixed word: inert
# in any bash context, arithmetic included.
INERT_TYPES = frozenset({"int", "float", "duration", "port", "bool"})
_ARITH_TEST = re.compile(r"-(eq|ne|lt|le|gt|ge)\b")
_WORD_END = frozenset(" \t\n;&|()<>")
_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'([^'\n]*)'|\"([^\"\n]*)\"|\\?([A-Za-z0-9_.+-]+))")


@dataclass(frozen=True)
class Problem:
    """A reference that cannot be turned into a variable here, with the fix."""

    offset: int
    message: str


@dataclass(frozen=True)
class Rendered:
    """A command as bash receives it, and the variables it reads."""

    text: str
    names: tuple[str, ...]


def render(text: str, refs: list[Ref], inert: frozenset[str] = frozenset()) -> tuple[Rendered, list[Problem]]:
    """Rewrite the references of ``text`` into bash variable expansions.

    ``refs`` are the validated references (from :func:`templating.scan`);
    ``inert`` the names whose values are validated digits or words.
    """
    contexts = _contexts(text, [r.offset for r in refs])
    out: list[str] = []
    problems: list[Problem] = []
    names: list[str] = []
    pos = 0
    for ref in refs:
        ctx = contexts[ref.offset]
        out.append(text[pos : ref.offset])
        pos = ref.end
        var = "${" + ref.name + "}"
        if ref.filters:
            problems.append(Problem(ref.offset, (
                f"filters are not applied in shell commands ('{ref.filters[0]}' on '{ref.name}'): "
                f"use bash instead, e.g. \"${{{ref.name}:-default}}\", or a parameter default")))
            continue
        if ctx in ("word",):
            out.append(f'"{var}"')
        elif ctx in ("dq", "heredoc", "comment"):
            out.append(var)
        elif ctx == "sq":
            out.append(f"'\"{var}\"'")
        elif ctx in ("arith", "quoted-heredoc", "ansi") and ref.name in inert:
            out.append(var)
        elif ctx == "arith":
            problems.append(Problem(ref.offset, (
                f"'{{{{ {ref.name} }}}}' is used in bash arithmetic, where a value is evaluated as code: "
                f"declare '{ref.name}' with type: int (or port), or compare it as text")))
        elif ctx == "quoted-heredoc":
            problems.append(Problem(ref.offset, (
                f"'{{{{ {ref.name} }}}}' is inside a quoted here-document, where bash expands nothing: "
                f"pass the value as an argument (psql -v {ref.name}={{{{ {ref.name} }}}} and :'{ref.name}' "
                "in the SQL), or use an unquoted delimiter (<<EOF) so that ${" + ref.name + "} expands")))
        else:
            problems.append(Problem(ref.offset, (
                f"'{{{{ {ref.name} }}}}' is inside $'...', where a variable cannot expand: "
                "move it outside the $'...' quotes")))
        if ref.name not in names:
            names.append(ref.name)
    out.append(text[pos:])
    return Rendered("".join(out), tuple(names)), problems


def double_quoted(text: str, refs: list[Ref]) -> str:
    """``text`` as one double-quoted bash word, references as ``${name}`` (runbook curl lines)."""
    out: list[str] = []
    pos = 0
    for ref in refs:
        out.append(_dq_escape(text[pos : ref.offset]))
        out.append("${" + ref.name + "}")
        pos = ref.end
    out.append(_dq_escape(text[pos:]))
    return '"' + "".join(out) + '"'


def _dq_escape(literal: str) -> str:
    return re.sub(r'([\\"$`])', r"\\\1", literal)


def _contexts(text: str, offsets: list[int]) -> dict[int, str]:
    """The bash quoting context at each offset of ``text`` (see :class:`_Lexer`)."""
    if not offsets:
        return {}
    lexer = _Lexer(text, set(offsets))
    lexer.run()
    return lexer.found


class _Lexer:
    """Just enough of bash's lexer to know how text at a position is quoted.

    The stack holds the open constructs: ``word`` (top level, ``$(...)``,
    backticks, ``${...}``), ``dq``, ``sq``, ``ansi``, ``arith`` and
    ``test`` (``[[ ... ]]``, arithmetic when it compares with -eq and co).
    """

    def __init__(self, text: str, wanted: set[int]) -> None:
        self.text = text
        self.wanted = wanted
        self.found: dict[int, str] = {}
        self.stack: list[tuple[str, int]] = [("word", 0)]  # (context, paren depth)
        self.heredocs: list[tuple[str, bool, bool]] = []  # (delimiter, quoted, strip tabs)

    def note(self, i: int, ctx: str) -> None:
        if i in self.wanted:
            self.found[i] = ctx

    def run(self) -> None:
        text = self.text
        i = 0
        n = len(text)
        last = max(self.wanted)
        while i < n and i <= last:  # nothing after the last reference matters
            top, depth = self.stack[-1]
            c = text[i]
            if top == "sq":
                self.note(i, "sq")
                if c == "'":
                    self.stack.pop()
                i += 1
                continue
            if top == "ansi":
                self.note(i, "ansi")
                if c == "\\":
                    i += 2
                    continue
                if c == "'":
                    self.stack.pop()
                i += 1
                continue
            if top == "dq":
                self.note(i, "dq")
                if c == "\\":
                    i += 2
                elif c == '"':
                    self.stack.pop()
                    i += 1
                else:
                    i = self.dollar(i, c)
                continue
            if top == "arith":
                self.note(i, "arith")
                if c == "$" and text.startswith("$(", i) and not text.startswith("$((", i):
                    self.stack.append(("word", 0))
                    i += 2
                    continue
                if c == "(":
                    self.stack[-1] = (top, depth + 1)
                elif c == ")":
                    if depth == 0 and text.startswith("))", i):
                        self.stack.pop()
                        i += 2
                        continue
                    self.stack[-1] = (top, depth - 1)
                i += 1
                continue
            # word-like contexts: top level, $(...), `...`, ${...}, [[ ... ]]
            self.note(i, "arith" if top == "test-arith" else "word")
            if c == "\\":
                i += 2
            elif c == "'":
                self.stack.append(("sq", 0))
                i += 1
            elif c == '"':
                self.stack.append(("dq", 0))
                i += 1
            elif c == "#" and (i == 0 or text[i - 1] in _WORD_END):
                end = text.find("\n", i)
                end = n if end < 0 else end
                for j in range(i, end):
                    self.note(j, "comment")
                i = end
            elif c == "\n":
                i = self.newline(i)
            elif c == "<" and text.startswith("<<", i) and not text.startswith("<<<", i):
                i = self.heredoc(i)
            elif c == "(" and text.startswith("((", i) and (i == 0 or text[i - 1] in _WORD_END):
                self.stack.append(("arith", 0))
                i += 2
            elif c == "(" and top in ("word", "test", "test-arith"):
                self.stack[-1] = (top, depth + 1)
                i += 1
            elif c == ")":
                if depth == 0 and len(self.stack) > 1 and top == "word":
                    self.stack.pop()  # end of $( ... )
                else:
                    self.stack[-1] = (top, max(0, depth - 1))
                i += 1
            elif c == "`":
                if top == "backtick":
                    self.stack.pop()
                else:
                    self.stack.append(("backtick", 0))
                i += 1
            elif c == "}" and top == "brace":
                self.stack.pop()
                i += 1
            elif c == "[" and text.startswith("[[", i) and (i == 0 or text[i - 1] in _WORD_END):
                close = text.find("]]", i)
                body = text[i : close if close >= 0 else n]
                self.stack.append(("test-arith" if _ARITH_TEST.search(body) else "test", 0))
                i += 2
            elif c == "]" and text.startswith("]]", i) and top in ("test", "test-arith"):
                self.stack.pop()
                i += 2
            else:
                i = self.dollar(i, c)

    def dollar(self, i: int, c: str) -> int:
        """Open ``$(``, ``$((``, ``${`` or ``$'`` at ``i``; otherwise step over one character."""
        text = self.text
        top = self.stack[-1][0]
        if c == "`" and top == "dq":
            self.stack.append(("backtick", 0))
            return i + 1
        if c != "$":
            return i + 1
        if text.startswith("$((", i):
            self.stack.append(("arith", 0))
            return i + 3
        if text.startswith("$(", i):
            self.stack.append(("word", 0))
            return i + 2
        if text.startswith("${", i):
            self.stack.append(("brace", 0))
            return i + 2
        if text.startswith("$'", i) and top != "dq":
            self.stack.append(("ansi", 0))
            return i + 2
        return i + 1

    def heredoc(self, i: int) -> int:
        match = _HEREDOC.match(self.text, i)
        if match is None:
            return i + 2
        quoted = match.group(2) is not None or match.group(3) is not None or self.text[i:match.end()].find("\\") >= 0
        delim = match.group(2) if match.group(2) is not None else (
            match.group(3) if match.group(3) is not None else match.group(4))
        self.heredocs.append((delim, quoted, match.group(1) == "-"))
        return match.end()

    def newline(self, i: int) -> int:
        """After a newline, read the bodies of the here-documents opened on that line."""
        text = self.text
        i += 1
        pending, self.heredocs = self.heredocs, []
        for delim, quoted, strip in pending:
            while i < len(text):
                end = text.find("\n", i)
                end = len(text) if end < 0 else end
                line = text[i:end]
                if (line.lstrip("\t") if strip else line) == delim:
                    i = end + 1 if end < len(text) else end
                    break
                if quoted:
                    for j in range(i, end):
                        self.note(j, "quoted-heredoc")
                else:
                    self.body(i, end)
                i = end + 1
        return i

    def body(self, start: int, end: int) -> None:
        """An unquoted here-document line: only ``$`` constructs are special there."""
        for j in range(start, end):
            self.note(j, "heredoc")


def command(text: str, proc: Procedure) -> Rendered:
    """The command ``text`` of ``proc`` as bash receives it (and the runbook shows it).

    Trailing newlines are dropped on both sides alike. The source was
    validated, so every reference here is allowed and renderable.
    """
    caps = captures(proc)
    # A typed capture is its checked digits or '' (compiler.capture): inert like a typed parameter.
    inert = frozenset(n for n, p in proc.parameters.items() if p.inert) | frozenset(
        n for n, (_, c) in caps.items() if c.type != "string")
    names = frozenset(proc.parameters) | templating.BUILTIN_NAMES | templating.POST_ONLY_NAMES | frozenset(caps)
    return _command(text.rstrip("\n"), names, inert)


@functools.lru_cache(maxsize=65536)
def _command(body: str, allowed: frozenset[str], inert: frozenset[str]) -> Rendered:
    # Cached: the playbook, the runbook and its variables block render each command.
    refs, _ = templating.scan(body, allowed)
    rendered, _ = render(body, refs, inert)
    return rendered
