"""Compiling a catalog to files (``procc compile`` and ``procc check``): cached, parallel where it pays, streamed.

For each source, in path order:

1. its outputs (runbook, playbook, quick card when wanted) and its index row
   come from the cache (:mod:`compiler.cache`) when every input they depend
   on is unchanged, else from parsing and rendering it (then stored);
2. each output is written at once when it changed (compile) or compared with
   the file on disk (check), and dropped: nothing accumulates, so memory
   stays flat whatever the catalog's size;
3. what comes back is small: which files changed or are stale, the
   diagnostics (``path:line:col: error: ...``), the skipped history lines,
   the index row.

Sources that miss the cache are compiled in a pool of worker processes when
there are at least :data:`PARALLEL_MIN` of them (below that, starting the
workers costs more than it saves); results are reported in path order
whatever order the workers finish in, so the output is the same as a serial
run's.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler import cache as cachemod
from compiler.errors import CompileError, Diagnostic
from compiler.i18n import Lang

if TYPE_CHECKING:
    from compiler.history.store import HistoryProblem
    from compiler.loader import RoleDoc

# Measured on the 2-core machine (30-step procedures, about 45 ms of CPU each
# to compile): starting two forked workers costs about 0.1 s of CPU each
# (copy-on-write of the parent's heap), so the pool pays from about 6 misses
# on idle cores; with the cores busy (load 9-12 during the session) it did
# not pay at 4, 8 or 16 (k=16: 8.2 s wall pooled vs 7.9 s serial) and paid
# a little at 40 (11.1 s vs 11.7 s). 8 is the compromise.
PARALLEL_MIN = 8


@dataclass(frozen=True)
class Settings:
    """What every output of a build depends on besides its own source and history."""

    root: Path
    docs_dir: Path
    playbooks_dir: Path
    lang: Lang
    quick: bool  # also each procedure's quick card
    write: bool  # compile (write what changed) or check (compare only)
    cache: bool = True
    code: str = field(default_factory=cachemod.code_key)
    roles: str = ""  # cache.roles_key(root), filled in by :func:`settings`


def settings(root: Path, docs_dir: Path, playbooks_dir: Path, lang: Lang, quick: bool, write: bool,
             cache: bool = True) -> Settings:
    """The settings of a build of the project at ``root``."""
    return Settings(root, docs_dir, playbooks_dir, lang, quick, write, cache, roles=cachemod.roles_key(root))


@dataclass
class FileResult:
    """What building one source did: small, so that it can come back from a worker."""

    file: Path
    outputs: int = 0
    changed: list[tuple[Path, str]] = field(default_factory=list)  # (path, "wrote" | "missing" | "stale")
    diags: list[Diagnostic] = field(default_factory=list)
    problems: list[HistoryProblem] = field(default_factory=list)
    row: dict[str, str] | None = None  # for the catalog index; None when the source does not parse


_ROLES: dict[tuple[Path, str], Mapping[str, RoleDoc]] = {}


def _roles(s: Settings) -> Mapping[str, RoleDoc]:
    """The project's role docs, read once per process and per version of their files."""
    from compiler.loader import project_role_docs

    if (s.root, s.roles) not in _ROLES:
        _ROLES[(s.root, s.roles)] = project_role_docs(s.root)
    return _ROLES[(s.root, s.roles)]


_KINDS = ("runbook", "playbook", "quick")


def _render(file: Path, display: str, s: Settings) -> tuple[str, dict[str, Any], dict[str, str]]:
    """Parse and render one source: its procedure id, its cache entry and its texts. Raises CompileError."""
    from compiler import catalog_index, playbook, quickcard, runbook, yamlout
    from compiler.history.kpis import kpis_and_problems
    from compiler.parse import parse_file

    yamlout.trim()  # bounded across a catalog: its caches grew with it (peak memory)
    src = parse_file(file, display)
    figures, problems = kpis_and_problems(src, s.root, s.lang)
    roles = _roles(s)
    texts = {"runbook": runbook.render(src.procedure, s.lang, source=src.display, kpis=figures, roles=roles),
             "playbook": playbook.render(src.procedure, s.lang, source=src.display)}
    if s.quick:
        texts["quick"] = quickcard.render(src.procedure, s.lang, src.display, roles)
    entry: dict[str, Any] = {
        "outputs": {kind: hashlib.sha256(text.encode("utf-8")).hexdigest() for kind, text in texts.items()},
        "row": catalog_index.row(src, file.stem, figures),
        "problems": [[p.path, p.line, p.message] for p in problems],
        # The parser read the file again: what it parsed must be what the key was made of.
        "sha256": src.sha256,
    }
    return src.procedure.id, entry, texts


def _keys(display: str, raw: bytes, s: Settings) -> tuple[str, str]:
    """The key of the source alone (it gives the procedure id) and the digest of the options."""
    def rel(path: Path) -> str:
        return path.relative_to(s.root).as_posix() if path.is_relative_to(s.root) else str(path)

    source_key = cachemod.digest(b"source", s.code, display, raw)
    opts = cachemod.digest(b"opts", s.lang, rel(s.docs_dir), rel(s.playbooks_dir), "quick" if s.quick else "-",
                           s.roles)
    return source_key, opts


def _out_key(source_key: str, opts: str, history: Path) -> str:
    return cachemod.digest(b"outputs", source_key, opts, cachemod.file_digest(history))


def _lookup(file: Path, display: str, raw: bytes, s: Settings, store: cachemod.Cache) -> dict[str, Any] | None:
    """The cache entry of ``file`` when every input is unchanged, else None."""
    from compiler.history.store import history_path

    source_key, opts = _keys(display, raw, s)
    ident = store.get(source_key)
    if ident is None or not isinstance(ident.get("id"), str):
        return None
    return store.get(_out_key(source_key, opts, history_path(s.root, ident["id"])))


def _fresh(file: Path, display: str, raw: bytes, s: Settings,
           store: cachemod.Cache) -> tuple[dict[str, Any], dict[str, str]]:
    """Render ``file`` and store its entry and texts. Raises CompileError."""
    from compiler.history.store import history_path

    proc_id, entry, texts = _render(file, display, s)
    if entry["sha256"] == hashlib.sha256(raw).hexdigest():  # else the file changed under us: do not store
        source_key, opts = _keys(display, raw, s)
        for text in texts.values():
            store.put_blob(text)
        store.put(source_key, {"id": proc_id})
        store.put(_out_key(source_key, opts, history_path(s.root, proc_id)), entry)
    return entry, texts


def _disk_sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def build_one(file: Path, s: Settings) -> FileResult:
    """Build one source: outputs written (compile) or compared (check); a cached text is read only when needed."""
    from compiler import quickcard
    from compiler.history.store import HistoryProblem
    from compiler.project import Output, display, write

    result = FileResult(file)
    store = cachemod.Cache(s.root, s.cache)
    shown = display(file, s.root)
    try:
        raw = file.read_bytes()
    except OSError:
        raw = b""  # the parser reports it, with the path
    texts: dict[str, str] | None = None
    try:
        entry = _lookup(file, shown, raw, s, store)
        if entry is None:
            entry, texts = _fresh(file, shown, raw, s, store)
    except CompileError as exc:
        result.diags = list(exc.diagnostics)
        return result
    paths = {"runbook": s.docs_dir / f"{file.stem}.md", "playbook": s.playbooks_dir / f"{file.stem}.yml",
             "quick": quickcard.path_for(s.docs_dir, file)}
    for kind in _KINDS:
        want = entry["outputs"].get(kind)
        if want is None:
            continue
        result.outputs += 1
        path = paths[kind]
        have = _disk_sha(path)
        if have == want:
            continue
        if not s.write:
            result.changed.append((path, "missing" if have is None else "stale"))
            continue
        text = texts[kind] if texts is not None else store.blob(want)
        if text is None:  # the cached copy is gone or corrupt: render again
            try:
                entry, texts = _fresh(file, shown, raw, s, store)
            except CompileError as exc:  # pragma: no cover - it compiled a moment ago
                result.diags = list(exc.diagnostics)
                return result
            text = texts[kind]
        # write() compares again and replaces atomically.
        if write(Output(path, text)):
            result.changed.append((path, "wrote"))
    result.problems = [HistoryProblem(str(p), int(n), str(m)) for p, n, m in entry["problems"]]
    result.row = entry["row"]
    return result


def _would_miss(file: Path, s: Settings) -> bool:
    """Whether ``file`` must be compiled (its entries are not in the cache): cheap, no parsing."""
    from compiler.project import display

    if not s.cache:
        return True
    try:
        raw = file.read_bytes()
    except OSError:
        return True
    return _lookup(file, display(file, s.root), raw, s, cachemod.Cache(s.root)) is None


def workers() -> int:
    """How many worker processes a build may use: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def build(files: list[Path], s: Settings, jobs: int | None = None) -> list[FileResult]:
    """Build every file; results in the order of ``files`` (deterministic, whatever runs in parallel)."""
    jobs = workers() if jobs is None else jobs
    misses = [f for f in files if _would_miss(f, s)] if jobs > 1 else []
    done: dict[Path, FileResult] = {}
    if jobs > 1 and len(misses) >= PARALLEL_MIN:
        done.update(_parallel(misses, s, min(jobs, len(misses))))
    return [done.get(f) or build_one(f, s) for f in files]


def _parallel(files: list[Path], s: Settings, jobs: int) -> dict[Path, FileResult]:
    """``build_one`` of every file in a pool of ``jobs`` processes (forked where possible: no imports again)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    fork = "fork" in methods
    ctx = multiprocessing.get_context("fork" if fork else None)
    if fork:  # forked workers inherit what is loaded here: import and compile the template once, not per worker
        from compiler import catalog_index, playbook, quickcard, runbook  # noqa: F401
        from compiler.history import kpis  # noqa: F401
        from compiler.parse import parse_file  # noqa: F401

        runbook.warm()
        _roles(s)
    # Small chunks keep both workers busy to the end; ordered by map, whatever finishes first.
    chunk = max(1, len(files) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        return dict(zip(files, pool.map(build_one, files, [s] * len(files), chunksize=chunk), strict=True))
