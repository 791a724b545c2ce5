"""``procc lint`` over a catalog: each file's findings cached, misses linted in a pool (issue 14).

What one file's lint yields is a pure function of, and keyed on (see
:func:`lint_key`): the file's bytes and displayed path, procc's version and
the hash of its own code (every rule is code: a new or edited rule
invalidates everything), the date staleness is measured against, the rules
selected, and the roles' docs (a rule may read them). A rule that comes to
read anything else (a history file, a config) must add it to the key, as
:mod:`compiler.build` does for the compile cache.

Entries live in the compile cache's store (:class:`compiler.cache.Cache`,
``.procc/cache/``: verified by hash, atomic, shared by concurrent processes;
a corrupt entry is a miss). An unchanged catalog costs start-up plus hashing:
no YAML parsed, no model built, no rule run. The files that miss are linted
in a pool of forked workers when there are at least
:data:`compiler.build.PARALLEL_MIN` of them, results merged in path order (the
report is the same as a serial run's).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler import cache as cachemod
from compiler.errors import Diagnostic, Position
from compiler.lint.result import LintResult, Suppressed

# Bumped when the entry's layout changes (old entries then miss).
_FORMAT = "lint-1"


@dataclass(frozen=True)
class LintSettings:
    """What every file's lint depends on besides the file itself."""

    root: Path
    today: dt.date
    only: tuple[str, ...] | None
    cache: bool = True
    code: str = ""
    roles: str = ""


def settings(root: Path, today: dt.date | None = None, only: Iterable[str] | None = None,
             cache: bool = True) -> LintSettings:
    """The settings of a lint of the project at ``root`` (today's date unless given)."""
    return LintSettings(root, today or dt.date.today(), None if only is None else tuple(sorted(set(only))),
                        cache, cachemod.code_key(), cachemod.roles_key(root))


def lint_key(display: str, raw: bytes, s: LintSettings) -> str:
    """The key of one file's lint: every input it depends on, framed (see :func:`compiler.cache.digest`)."""
    only = "\0".join(s.only) if s.only is not None else "*all*"
    return cachemod.digest(_FORMAT.encode(), s.code, s.today.isoformat(), only, s.roles, display, raw)


def _diag(d: Diagnostic) -> list[Any]:
    return [d.path, d.pos.line, d.pos.col, d.message, d.code, d.severity]


def _undiag(v: Any) -> Diagnostic:
    path, line, col, message, code, severity = v
    if not (isinstance(path, str) and isinstance(line, int) and isinstance(col, int) and isinstance(message, str)
            and isinstance(code, str) and severity in ("error", "warning", "info")):
        raise ValueError("not a diagnostic")
    return Diagnostic(path, Position(line, col), message, code, severity)


def _entry(result: LintResult) -> dict[str, Any]:
    return {"findings": [_diag(d) for d in result.findings],
            "suppressed": [[*_diag(s.diagnostic), s.reason] for s in result.suppressed]}


def _result(entry: dict[str, Any]) -> LintResult:
    """The LintResult of a cache entry; ValueError when it is not one (a miss)."""
    try:
        findings = [_undiag(v) for v in entry["findings"]]
        suppressed = []
        for v in entry["suppressed"]:
            if not isinstance(v[6], str):
                raise ValueError("not a reason")
            suppressed.append(Suppressed(_undiag(v[:6]), v[6]))
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(str(exc)) from None
    return LintResult(findings=findings, suppressed=suppressed, files=1)


def lint_one(path: Path, display: str, s: LintSettings) -> LintResult:
    """One file's LintResult: from the cache when its key is there, else linted (and stored)."""
    store = cachemod.Cache(s.root, s.cache)
    try:
        raw = path.read_bytes()
    except OSError:
        raw = b""  # lint_file reports it, with the path; nothing stored below
    key = lint_key(display, raw, s)
    entry = store.get(key)
    if entry is not None:
        try:
            return _result(entry)
        except ValueError:
            pass  # a verified entry of another layout: lint again, overwrite
    from compiler.lint.engine import lint_file, selected  # the model and the rules: only on a miss

    result = lint_file(path, display, selected(s.today, s.only))
    # Stored only when the file still has the bytes the key was made of (not edited meanwhile).
    if raw and hashlib.sha256(raw).digest() == _sha(path):
        store.put(key, _entry(result))
    return result


def _sha(path: Path) -> bytes | None:
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return None


def _would_miss(path: Path, display: str, s: LintSettings) -> bool:
    if not s.cache:
        return True
    try:
        raw = path.read_bytes()
    except OSError:
        return True
    return cachemod.Cache(s.root).get(lint_key(display, raw, s)) is None


def lint_catalog(files: list[tuple[Path, str]], s: LintSettings, jobs: int | None = None) -> LintResult:
    """Lint ``(path, display)`` pairs: cached, the misses in a pool where it pays; one sorted LintResult."""
    from compiler import build

    jobs = build.workers() if jobs is None else jobs
    done: dict[tuple[Path, str], LintResult] = {}
    if jobs > 1:
        misses = [f for f in files if _would_miss(*f, s)]
        if len(misses) >= build.PARALLEL_MIN:
            done = _parallel(misses, s, min(jobs, len(misses)))
    result = LintResult()
    for f in files:
        result.extend(done.get(f) or lint_one(*f, s))
    result.sort()
    return result


def _parallel(files: list[tuple[Path, str]], s: LintSettings, jobs: int) -> dict[tuple[Path, str], LintResult]:
    """``lint_one`` of every file in a pool of ``jobs`` processes (forked: the rules are imported once)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    fork = "fork" in multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if fork else None)
    if fork:  # what the workers need, loaded once here and inherited
        from compiler.lint import engine, registry  # noqa: F401
        from compiler.parse import parse_file  # noqa: F401
    chunk = max(1, len(files) // (jobs * 8))
    paths = [p for p, _ in files]
    shown = [d for _, d in files]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        return dict(zip(files, pool.map(lint_one, paths, shown, [s] * len(files), chunksize=chunk), strict=True))
