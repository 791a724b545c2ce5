"""Where things live in a procc project, and compiling it to files.

The project root is the nearest directory (from the current one upward) that
has a ``procedures/`` folder. ``procedures/NAME.yml`` compiles to
``DOCS/NAME.md`` and ``PLAYBOOKS/NAME.yml``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from compiler import playbook, runbook
from compiler.errors import CompileError, Diagnostic, UsageError
from compiler.i18n import Lang
from compiler.loader import RoleDoc, load_role_docs
from compiler.parse import Source, parse_file

DEFAULT_DOCS = Path("docs/backend/procedures")
DEFAULT_PLAYBOOKS = Path("playbooks")
PROCEDURES = Path("procedures")

# Filled by the history package: source -> figures for the runbook.
KpisProvider = Callable[[Source, Path, Lang], runbook.Kpis]


def find_root(start: Path | None = None) -> Path:
    """The project root: nearest ancestor with a ``procedures/`` folder (else cwd)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / PROCEDURES).is_dir():
            return candidate
    return here


def display(path: Path, root: Path) -> str:
    """A path as shown to users and written in generated files: relative to root."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def sources(root: Path, paths: list[str] | None = None) -> list[Path]:
    """The procedure files named by ``paths`` (files, directories or ids), or all of them."""
    if not paths:
        return sorted((root / PROCEDURES).glob("*.yml"))
    out: list[Path] = []
    for arg in paths:
        out.extend(resolve(arg, root, many=True))
    return out


def resolve(arg: str, root: Path, many: bool = False) -> list[Path]:
    """A procedure given as a file, a directory (``many``) or an id like PROC-BACKEND-001."""
    path = Path(arg)
    if path.is_file():
        return [path]
    if path.is_dir() and many:
        return sorted(path.glob("*.yml"))
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
    stem = src.path.stem
    root = root or find_root()
    figures = kpis(src, root, lang) if kpis else None
    if roles is None:
        roles = load_role_docs(root / "roles")
    md_text = runbook.render(src.procedure, lang, source=src.display, kpis=figures, roles=roles)
    pb_text = playbook.render(src.procedure, lang, source=src.display)
    return [Output(docs_dir / f"{stem}.md", md_text), Output(playbooks_dir / f"{stem}.yml", pb_text)]


def compile_all(files: list[Path], root: Path, lang: Lang,
                docs_dir: Path, playbooks_dir: Path,
                kpis: KpisProvider | None = None) -> tuple[list[Output], list[Diagnostic]]:
    """Parse and generate every file; returns outputs and all diagnostics (nothing written)."""
    roles = load_role_docs(root / "roles")
    outs: list[Output] = []
    diags: list[Diagnostic] = []
    for f in files:
        try:
            src = parse_file(f, display(f, root))
        except CompileError as exc:
            diags.extend(exc.diagnostics)
            continue
        outs.extend(outputs(src, docs_dir, playbooks_dir, lang, kpis, root, roles))
    return outs, diags


def write(out: Output) -> bool:
    """Write ``out`` if its content changed; True when the file was written."""
    try:
        if out.path.read_text(encoding="utf-8") == out.text:
            return False
    except OSError:
        pass
    out.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.path.with_name(f".{out.path.name}.tmp")
    tmp.write_text(out.text, encoding="utf-8")
    tmp.replace(out.path)
    return True


def stale(out: Output) -> str | None:
    """Why ``out`` is not fresh on disk ("missing" or "stale"), or None."""
    try:
        current = out.path.read_text(encoding="utf-8")
    except OSError:
        return "missing"
    return None if current == out.text else "stale"
