"""Reading and appending history records (JSONL, crash- and writer-safe).

A record is one JSON object per line with ``kind`` ``start`` or ``end`` and
the ``run_id`` it belongs to. Appends take a :mod:`filelock` lock, write one
whole line with a single ``write`` and ``fsync`` before releasing it, so two
writers never interleave and a crash loses at most the line being written.
Reading never fails on bad data: a corrupt line becomes a
:class:`HistoryProblem` with its line number and is skipped.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from compiler.errors import ProccError

HISTORY_DIR = Path("procedures") / "history"
SCHEMA = 1

# A start without an end reads as UNFINISHED.
UNFINISHED = "unfinished"


def history_path(root: Path, proc_id: str) -> Path:
    """Where the history of ``proc_id`` lives in the project at ``root``."""
    return root / HISTORY_DIR / f"{proc_id}.jsonl"


def _lock_path(path: Path) -> Path:
    # Beside the history in a hidden, git-ignored name would litter the
    # committed folder; the project's .procc/ is private and ignored.
    root = path.parent.parent.parent
    locks = root / ".procc" / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    return locks / f"history-{path.stem}.lock"


class HistoryWriteError(ProccError):
    """A history record could not be written whole (disk full, permissions, a symlink)."""


def append(path: Path, record: dict[str, Any]) -> None:
    """Append one signed record durably (lock, single write, fsync), or raise :class:`HistoryWriteError`.

    The record is signed (:mod:`compiler.history.trust`) so that gates can
    tell it from a hand-written line. All or nothing: on a short or failed
    write the file is cut back to its previous size, so no truncated line is
    left behind. The history file itself is never followed as a symlink.
    """
    from compiler.history import trust

    line = json.dumps(trust.sign({"schema": SCHEMA, **record}), ensure_ascii=False, sort_keys=True) + "\n"
    data = line.encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(_lock_path(path)), timeout=30):
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            try:
                size = os.fstat(fd).st_size
                # A previous writer killed mid-line leaves no newline at the end:
                # start on a fresh line so only that one line is corrupt.
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data
                try:
                    written = os.write(fd, data)
                    if written != len(data):
                        raise OSError(errno.ENOSPC, f"short write ({written} of {len(data)} bytes)")
                    os.fsync(fd)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, size)
                        os.fsync(fd)
                    raise
            finally:
                os.close(fd)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ELOOP:
            reason = "it is a symlink"
        raise HistoryWriteError(f"procc: ERROR: cannot write the history record to {path}: {reason}") from None


@dataclass(frozen=True)
class HistoryProblem:
    """A line of a history file that could not be read."""

    path: str
    line: int
    message: str

    def format(self) -> str:
        """``path:line: warning: message`` like every other diagnostic."""
        return f"{self.path}:{self.line}: warning: {self.message} (line skipped)"


@dataclass
class Run:
    """One run: its start record merged with its end record (if any)."""

    run_id: str
    start: dict[str, Any]
    end: dict[str, Any] | None = None
    line: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """A field of the end record, else of the start record."""
        if self.end is not None and key in self.end:
            return self.end[key]
        return self.start.get(key, default)

    @property
    def finished(self) -> bool:
        return self.end is not None

    @property
    def outcome(self) -> str:
        return str(self.end.get("outcome", UNFINISHED)) if self.end else UNFINISHED

    @property
    def drill(self) -> bool:
        return bool(self.get("drill", False))

    @property
    def succeeded(self) -> bool:
        """A real run that succeeded, or a drill whose rollbacks all worked."""
        if self.drill:
            return bool(self.get("drill_passed", False))
        return self.outcome == "success"

    @property
    def duration(self) -> float | None:
        value = self.get("duration")
        return float(value) if isinstance(value, int | float) else None

    def to_json(self) -> dict[str, Any]:
        """The merged record as shown by ``procc history --json``."""
        merged = {**self.start, **(self.end or {})}
        merged.pop("kind", None)
        merged.pop("schema", None)
        merged["outcome"] = self.outcome
        merged["finished"] = self.finished
        return merged


# The type each field the readers rely on must have (None: absent or null is
# fine). Other fields are kept as they are, so newer writers stay readable.
_NUM = (int, float)
_FIELDS: dict[str, tuple[type, ...]] = {
    "schema": (int,), "start": (str,), "end": (str,), "procedure": (str,), "version": (str,),
    "source_sha256": (str,), "environment": (str,), "executor": (str,), "approved_by": (str,),
    "forced": (bool, str), "drill": (bool,), "drill_passed": (bool,), "check": (bool,), "aborted": (bool,),
    "fail_at": (int,), "failed_step": (int,), "rc": (int,), "duration": _NUM,
    "outcome": (str,), "limit": (str,), "rollback_of": (str,), "summary": (str,),
    "params": (dict,), "steps": (list,), "started": (list,), "rollbacks": (list,),
    "rollbacks_failed": (list,), "irreversible": (list,),
}
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               dict: "an object", list: "a list"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _invalid(rec: dict[str, Any]) -> str | None:
    """Why ``rec`` cannot be trusted by the readers (a field of the wrong type), or None."""
    for key, types in _FIELDS.items():
        value = rec.get(key)
        if value is None:
            continue
        # JSON true is a Python int too: a boolean is never a count or a number.
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            want = " or ".join(dict.fromkeys(_TYPE_NAMES[t] for t in types))
            return f"field '{key}' must be {want}, not {_json_type(value)}"
    for key in ("steps",):
        if any(not isinstance(item, dict) for item in rec.get(key) or []):
            return f"every item of '{key}' must be an object"
    for key in ("started", "rollbacks", "rollbacks_failed"):
        if any(isinstance(item, bool) or not isinstance(item, int | str) for item in rec.get(key) or []):
            return f"every item of '{key}' must be a step number or name"
    return None


def read(path: Path, display: str | None = None) -> tuple[list[Run], list[HistoryProblem]]:
    """The runs recorded in ``path`` (oldest first) and the unreadable lines.

    A line that is not JSON, not an object, lacks ``run_id`` or ``kind``, or
    has a field of the wrong type is skipped and reported with its line, so
    one bad record never stops a compile of the catalog.
    """
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [HistoryProblem(name, 1, f"cannot read the history: {exc.strerror}")]
    runs: dict[str, Run] = {}
    problems: list[HistoryProblem] = []
    for n, bline in enumerate(raw.split(b"\n"), 1):
        if not bline.strip():
            continue
        try:
            rec = json.loads(bline.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            # ValueError covers JSONDecodeError and integers too long to convert.
            problems.append(HistoryProblem(name, n, f"corrupt history record: {exc}"))
            continue
        if not isinstance(rec, dict):
            problems.append(HistoryProblem(name, n, f"history record is {_json_type(rec)}, not an object"))
            continue
        if not isinstance(rec.get("run_id"), str) or not rec["run_id"]:
            problems.append(HistoryProblem(name, n, "history record without a run_id"))
            continue
        why = _invalid(rec)
        if why is not None:
            problems.append(HistoryProblem(name, n, f"malformed history record: {why}"))
            continue
        kind = rec.get("kind")
        rid = rec["run_id"]
        if kind == "start":
            if rid in runs:
                problems.append(HistoryProblem(name, n, f"duplicate start of run {rid}"))
                continue
            runs[rid] = Run(rid, rec, line=n)
        elif kind == "end":
            run = runs.get(rid)
            if run is None:
                # An end whose start line was lost: keep what it says.
                runs[rid] = Run(rid, rec, rec, line=n)
            else:
                run.end = rec
        else:
            problems.append(HistoryProblem(name, n, f"unknown record kind {kind!r}"))
    ordered = sorted(runs.values(), key=lambda r: (str(r.get("start", "")), r.line))
    return ordered, problems
