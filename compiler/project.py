"""Where things live in a procc project, and compiling it to files.

The project root is the nearest directory (from the current one upward) that
has a ``procedures/`` folder. ``procedures/NAME.yml`` compiles to
``DOCS/NAME.md`` and ``PLAYBOOKS/NAME.yml``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.errors import CompileError, Diagnostic, ProccError, UsageError
from compiler.i18n import Lang

if TYPE_CHECKING:  # the emitters and the parser are imported by what uses them (start-up time)
    from compiler import runbook
    from compiler.loader import RoleDoc
    from compiler.parse import Source

DEFAULT_DOCS = Path("docs/backend/procedures")
DEFAULT_PLAYBOOKS = Path("playbooks")
PROCEDURES = Path("procedures")

class OutputError(ProccError):
    """A generated file could not be written (disk full, permissions, a bad directory)."""


# Filled by the history package: source -> figures for the runbook.
KpisProvider = Callable[["Source", Path, Lang], "runbook.Kpis"]


def find_root(start: Path | None = None) -> Path:
    """The project root: nearest ancestor whose ``procedures/`` holds sources (else cwd).

    A ``procedures/`` folder without any ``*.yml`` (the generated runbooks'
    ``docs/backend/procedures/``) counts only when no ancestor has sources,
    so that procc run from ``docs/backend/`` finds the same project as from
    the root (a new, empty project still has its root).
    """
    here = (start or Path.cwd()).resolve()
    empty: Path | None = None
    for candidate in (here, *here.parents):
        if (candidate / PROCEDURES).is_dir():
            if next((candidate / PROCEDURES).glob("*.yml"), None) is not None:
                return candidate
            empty = empty or candidate
    return empty or here


def display(path: Path, root: Path) -> str:
    """A path as shown to users and written in generated files: relative to root."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except (ValueError, OSError, RuntimeError):  # outside root, or a symlink loop
        return str(path)


def sources(root: Path, paths: list[str] | None = None) -> list[Path]:
    """The procedure files named by ``paths`` (files, directories or ids), or all of them."""
    if not paths:
        return sorted((root / PROCEDURES).glob("*.yml"))
    out: list[Path] = []
    for arg in paths:
        out.extend(resolve(arg, root, many=True))
    return out


_ID_ARG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be used (missing, a symlink loop, unreadable), or None."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return "no such file or directory"
        return exc.strerror or str(exc)
    except ValueError as exc:  # an embedded NUL byte
        return str(exc)
    return None


def resolve(arg: str, root: Path, many: bool = False) -> list[Path]:
    """A procedure given as a file, a directory (``many``) or an id like PROC-BACKEND-001.

    Anything that is not a plain id (it has a slash, a glob character, or is
    absolute) is a path: when it cannot be used the error names it and says
    why (exit 2), never an internal error.
    """
    path = Path(arg)
    why = _path_problem(path)
    if why is None:
        if path.is_file():
            return [path]
        if path.is_dir():
            if many:
                return sorted(path.glob("*.yml"))
            raise UsageError(f"procc: {arg}: is a directory; name one procedure file or id")
        raise UsageError(f"procc: {arg}: not a regular file")
    if not _ID_ARG.match(arg) or path.is_absolute() or why != "no such file or directory":
        raise UsageError(f"procc: no procedure file or id '{arg}': {why}")
    matches = sorted((root / PROCEDURES).glob(f"{arg}-*.yml")) + sorted((root / PROCEDURES).glob(f"{arg}.yml"))
    if len(matches) == 1:
        return matches
    if len(matches) > 1:
        raise UsageError(f"procc: '{arg}' matches several procedures: {', '.join(m.name for m in matches)}")
    raise UsageError(f"procc: no procedure file or id '{arg}' (looked in {root / PROCEDURES})")


def resolve_one(arg: str, root: Path) -> Path:
    """Exactly one procedure source for ``arg``."""
    return resolve(arg, root)[0]


@dataclass(frozen=True)
class Output:
    """One generated file and the text it must contain."""

    path: Path
    text: str


def outputs(src: Source, docs_dir: Path, playbooks_dir: Path, lang: Lang,
            kpis: KpisProvider | None = None, root: Path | None = None,
            roles: Mapping[str, RoleDoc] | None = None) -> list[Output]:
    """The runbook and the playbook generated from one source (``roles``: read once per project)."""
    from compiler import playbook, runbook
    from compiler.loader import project_role_docs

    stem = src.path.stem
    root = root or find_root()
    figures = kpis(src, root, lang) if kpis else None
    if roles is None:
        roles = project_role_docs(root)
    md_text = runbook.render(src.procedure, lang, source=src.display, kpis=figures, roles=roles)
    pb_text = playbook.render(src.procedure, lang, source=src.display)
    return [Output(docs_dir / f"{stem}.md", md_text), Output(playbooks_dir / f"{stem}.yml", pb_text)]


def parse_all(files: list[Path], root: Path) -> tuple[list[Source], list[Diagnostic]]:
    """Every file parsed, and the diagnostics of those that could not be (all of them, in one pass)."""
    from compiler.parse import parse_file

    sources: list[Source] = []
    diags: list[Diagnostic] = []
    for f in files:
        try:
            sources.append(parse_file(f, display(f, root)))
        except CompileError as exc:
            diags.extend(exc.diagnostics)
    return sources, diags


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write(out: Output) -> bool:
    """Write ``out`` if its content changed; True when the file was written.

    The text goes to a temporary file that :func:`tempfile.mkstemp` creates
    exclusively (``O_CREAT | O_EXCL | O_NOFOLLOW``, a random name) in the same
    folder, then replaces the target atomically: a file or symlink someone
    placed there beforehand is never opened, so it cannot redirect the write.
    Raises :class:`OutputError` naming the path when the disk refuses.
    """
    try:
        if out.path.read_text(encoding="utf-8") == out.text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    try:
        out.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.path.parent, prefix=f".{out.path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"procc: cannot write {out.path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            # mkstemp creates 0600; a generated file is as readable as any
            # other. Through the descriptor: the name is never followed.
            os.fchmod(fh.fileno(), 0o666 & ~_umask())
            fh.write(out.text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out.path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"procc: cannot write {out.path}: {exc.strerror}") from None
    return True


def stale(out: Output) -> str | None:
    """Why ``out`` is not fresh on disk ("missing" or "stale"), or None."""
    try:
        current = out.path.read_text(encoding="utf-8")
    except OSError:
        return "missing"
    return None if current == out.text else "stale"
