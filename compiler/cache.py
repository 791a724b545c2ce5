"""The output cache: generated texts kept under ``.procc/cache/``, keyed on everything they depend on.

An unchanged catalog then costs start-up plus hashing. A key is the SHA-256
of every input of an output, framed so that no two different inputs give the
same byte string: the source bytes and its displayed path, procc's version
and the hash of its own code and templates (:func:`code_key`: a dev edit
invalidates everything), the procedure's history file, the roles' docs, the
language and the options. Keys are never derived from a clock or a listing
that could change without a byte changing.

Entries are small files ``.procc/cache/<2 hex>/<64 hex>``: a header line
``procc-cache-1 <sha256 of the body>`` and a JSON body (the SHA-256 of each
output, the index row, the skipped history lines). The texts themselves are
blobs ``.procc/cache/blobs/<2 hex>/<sha256 of the text>``, read only when
a file on disk differs from what it must be: an unchanged catalog is checked
by hashing its files, not by reading the cache's copies. Everything is
written to a temporary file and renamed into place (atomic, safe under
concurrent procc processes: a reader sees a whole entry or none). An entry
or blob that does not verify against its hash (truncated, edited, from
another format) is ignored and rewritten, never a crash. Only generic outputs are stored (runbooks, playbooks, quick
cards, index rows), never an environment's runbook or a parameter value:
those can hold secrets.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

CACHE_DIR = Path(".procc") / "cache"
_MAGIC = b"procc-cache-1"


def digest(*parts: str | bytes) -> str:
    """SHA-256 of ``parts``, each length-prefixed (so ("ab", "c") and ("a", "bc") differ)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part
        h.update(b"%d:" % len(data))
        h.update(data)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    """The digest of a file's bytes, or of its absence (a missing file is an input too)."""
    try:
        return digest(b"file", path.read_bytes())
    except OSError:
        return digest(b"no file")


def files_digest(root: Path, paths: Iterable[Path]) -> str:
    """One digest of several files: their paths (relative to ``root``) and bytes."""
    parts: list[str | bytes] = []
    for p in sorted(paths):
        try:
            rel = p.relative_to(root).as_posix()
        except ValueError:
            rel = str(p)
        parts += [rel, file_digest(p)]
    return digest(b"files", *parts)


def package_digest(pkg: Path) -> str:
    """The bytes of every file of a package directory (code, templates, defaults; not bytecode)."""
    files = [p for p in pkg.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return files_digest(pkg, files)


@lru_cache(maxsize=1)
def code_key() -> str:
    """procc's version and the bytes of its own code and templates (the compiler package, wherever installed)."""
    import compiler

    return digest(b"code", str(compiler.__version__), package_digest(Path(compiler.__file__).resolve().parent))


def roles_key(root: Path) -> str:
    """The roles' documentation a runbook quotes: argument specs, translated docs, the collection's name."""
    roles = root / "roles"
    paths = [*roles.glob("*/meta/argument_specs.yml"), *roles.glob("*/meta/docs*.yml"), root / "galaxy.yml"]
    return files_digest(root, paths)


class Cache:
    """Entries under ``root/.procc/cache/`` (``enabled`` False: every lookup misses, nothing is written)."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.dir = root / CACHE_DIR
        self.enabled = enabled

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / key

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry stored under ``key``, or None (missing, or not a verified entry)."""
        if not self.enabled:
            return None
        try:
            raw = self._path(key).read_bytes()
            head, _, body = raw.partition(b"\n")
            magic, _, sha = head.partition(b" ")
            if magic != _MAGIC or hashlib.sha256(body).hexdigest().encode() != sha:
                return None
            value = json.loads(body)
        except (OSError, ValueError):  # unreadable, not UTF-8, not JSON: a miss
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` under ``key`` (best effort: a cache that cannot be written is only slower)."""
        if not self.enabled:
            return
        body = json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8", "surrogateescape")
        self._store(self._path(key), _MAGIC + b" " + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)

    def blob(self, sha: str) -> str | None:
        """The text whose SHA-256 (of its UTF-8 bytes) is ``sha``, or None."""
        if not self.enabled:
            return None
        try:
            raw = (self.dir / "blobs" / sha[:2] / sha).read_bytes()
            if hashlib.sha256(raw).hexdigest() != sha:
                return None
            return raw.decode("utf-8")
        except (OSError, ValueError):
            return None

    def put_blob(self, text: str) -> str:
        """Store ``text`` (if not there yet); returns its SHA-256."""
        raw = text.encode("utf-8")
        sha = hashlib.sha256(raw).hexdigest()
        target = self.dir / "blobs" / sha[:2] / sha
        if self.enabled and not target.is_file():
            self._store(target, raw)
        return sha

    def _store(self, target: Path, data: bytes) -> None:
        tmp = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
