"""``procc init``: a new project a team can start from, that compiles, lints and runs at once.

The files are package data under ``templates/project/``; the blank template
and the JSON Schema are written from the code that serves ``procc template``
and ``procc schema``, so they match the installed procc. Nothing that
exists is ever overwritten.
"""

from __future__ import annotations

import os
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from compiler.errors import UsageError

# Package data cannot hold dot-files reliably (globs skip them): stored as dot-NAME.
_DOT = "dot-"


def _walk(node: Traversable, rel: Path) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        name = "." + child.name[len(_DOT):] if child.name.startswith(_DOT) else child.name
        if child.is_dir():
            out.extend(_walk(child, rel / name))
        else:
            out.append((rel / name, child.read_text(encoding="utf-8")))
    return out


def project_files() -> list[tuple[Path, str]]:
    """Every file of a new project: (path relative to its root, text)."""
    from compiler.blank import template
    from compiler.schema import schema_text

    out = _walk(files("compiler").joinpath("templates/project"), Path())
    out.append((Path("docs/backend/procedures/plantilla-procedimiento-backend.md"), template()))
    out.append((Path("docs/procedure.schema.json"), schema_text()))
    return sorted(out)


def init(target: Path) -> list[Path]:
    """Write a new project into ``target`` (created if missing); returns the files written.

    Refuses, writing nothing, when any of the files already exists.
    """
    planned = project_files()
    clashes = [rel.as_posix() for rel, _ in planned if os.path.lexists(target / rel)]
    if clashes:
        raise UsageError(f"procc init: {target} already has {', '.join(clashes[:5])}"
                         + (f" and {len(clashes) - 5} more" if len(clashes) > 5 else "")
                         + "; nothing was written")
    written: list[Path] = []
    for rel, text in planned:
        path = target / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as fh:  # exclusive: never replaces a file
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"procc init: cannot write {path}: {exc.strerror or exc}") from None
        written.append(path)
    (target / "playbooks").mkdir(exist_ok=True)
    (target / "roles").mkdir(exist_ok=True)
    return written
