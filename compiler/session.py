"""One ``procc run`` from start to record: lock, history, signals, progress, outcome.

The first SIGINT/SIGTERM asks for a graceful stop: procc creates the run's
cancel flag file, the playbook notices it (between steps, and inside
interruptible steps through their ``async_status`` loop), fails the step and
its rescue rolls back every started step. A second signal aborts at once:
ansible-runner kills ansible-playbook's process group, procc kills the
asynchronous step jobs left on the targets, records the run as interrupted
and prints the rollback commands of the started steps.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import re
import shlex
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from filelock import FileLock, Timeout

from compiler import history
from compiler.errors import UsageError
from compiler.history.events import Tracker
from compiler.history.store import HistoryWriteError
from compiler.parse import Source
from compiler.progress import Display
from compiler.runner import RunRequest, RunResult, check_inventory, execute, masker_for

# The outcome of a run whose hosts pattern or --limit matched no host.
NO_HOSTS = "no-hosts"


class AlreadyRunning(UsageError):
    """Another run of the same procedure against the same targets is in progress."""


def executor_name() -> str:
    """Who runs procc: $PROCC_EXECUTOR, else the login name."""
    try:
        return os.environ.get("PROCC_EXECUTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class RunContext:
    """What the CLI decided before running (gates passed)."""

    environment: str | None = None
    approved_by: str | None = None
    forced: str | None = None
    executor: str = field(default_factory=executor_name)
    record: bool = True


class RunLock:
    """One run per procedure and targets: a file lock holding the run id.

    The OS releases the lock when the process dies, even by SIGKILL.
    """

    def __init__(self, root: Path, proc_id: str, targets: str) -> None:
        # The key never includes --limit: two runs against parts of the same
        # inventory may share hosts, so they exclude each other.
        key = hashlib.sha256(targets.encode("utf-8")).hexdigest()[:12]
        d = root / ".procc" / "locks"
        d.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(str(d / f"run-{proc_id}-{key}.lock"), timeout=0)
        self.id_file = d / f"run-{proc_id}-{key}.id"

    def acquire(self, run_id: str) -> None:
        try:
            self.lock.acquire()
        except Timeout:
            try:
                other = self.id_file.read_text(encoding="utf-8").strip()
            except OSError:
                other = "unknown"
            raise AlreadyRunning(f"procc: refused: run {other} of this procedure is in progress "
                                 "against the same targets") from None
        self.id_file.write_text(run_id + "\n", encoding="utf-8")

    def release(self) -> None:
        self.lock.release()


def lock_targets(environment: str | None, inventory: str | None) -> str:
    """What a run lock is keyed by: the environment, else the inventory, else the local run."""
    if environment:
        return f"env:{environment}"
    return f"inventory:{inventory}" if inventory else "local"


class Interrupts:
    """SIGINT/SIGTERM: first = graceful stop (flag file), second = abort now."""

    STOPPING = ("stopping: the running step is being stopped and the started steps "
                "rolled back (press Ctrl-C again to abort at once, without rollback)")
    # A rollback run has no step to stop: its rollbacks are not cut short.
    ROLLING_BACK = ("a rollback run is not stopped half-way: its rollbacks go on to the end "
                    "(press Ctrl-C again to abort at once)")

    def __init__(self, flag: Path, notify: Callable[[str], None], first: str = STOPPING) -> None:
        self.flag = flag
        self.notify = notify
        self.first = first
        self.count = 0
        self._old: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1:
            self.flag.parent.mkdir(parents=True, exist_ok=True)
            self.flag.write_text("stop\n", encoding="utf-8")
            self.notify(self.first)
        elif self.count == 2:
            self.notify("aborting now")

    @property
    def abort(self) -> bool:
        return self.count >= 2

    def __enter__(self) -> Interrupts:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


@dataclass
class Outcome:
    """How a run ended, with what the summary and the history need."""

    result: RunResult
    outcome: str
    tracker: Tracker
    interrupted: bool
    aborted: bool
    record: dict[str, Any]
    # Why the end record could not be written (the run then exits non-zero).
    history_error: str | None = None


def _outcome(res: RunResult, t: Tracker, drill: bool, interrupted: bool, check: bool = False) -> str:
    """The run's label, from the playbook's per-host results (compiler.protocol).

    Any host failed (or lost) -> failed; every other host rolled back (or
    never started) -> rolled-back: the same label for a step failure and a
    final-validation failure whose rollbacks all succeeded. A check run is
    ``check`` (or failed).
    """
    if interrupted and res.rc != 0:
        return "interrupted"
    if check:
        # Check mode changes nothing and rolls nothing back: it ends "check" or failed.
        return "check" if res.rc == 0 else "failed"
    if drill:
        return "rolled-back" if res.drill_passed else "failed"
    if res.rc == 0:
        return "success"
    outcomes = {str(r.get("outcome")) for r in res.results.values()}
    lost = set(res.unreachable) - set(res.results)
    if outcomes and not lost and outcomes <= {"rolled-back", "not-run"} and "rolled-back" in outcomes:
        return "rolled-back"
    return "failed"


def run(req: RunRequest, ctx: RunContext, display: Display, tracker: Tracker,
        kill_jobs: Callable[[RunRequest, dict[str, str]], None] | None = None) -> Outcome:
    """Execute ``req`` under the lock, recording it in the history."""
    src: Source = req.source
    proc = src.procedure
    check_inventory(req)  # a missing inventory is refused before anything is recorded
    lock = RunLock(req.root, proc.id, lock_targets(ctx.environment, req.inventory))
    lock.acquire(req.run_id)
    hpath = history.history_path(req.root, proc.id)
    base: dict[str, Any] = {
        "run_id": req.run_id, "procedure": proc.id, "version": proc.version,
        "source_sha256": src.sha256, "environment": ctx.environment or "local",
        "executor": ctx.executor, "approved_by": ctx.approved_by, "forced": ctx.forced,
        "drill": bool(req.fail_at), "fail_at": req.fail_at, "check": req.check,
        "limit": req.limit, "params": {k: v for k, v in sorted(req.params.items())
                                       if k not in req.secret_names},
    }
    if req.rollback_of is not None:
        base["rollback_of"] = req.rollback_of
    started_at = dt.datetime.now(dt.UTC)
    try:
        if ctx.record:
            try:
                history.append(hpath, {"kind": "start", **base, "start": now_iso()})
            except HistoryWriteError as exc:
                raise HistoryWriteError(f"{exc}; nothing was run") from None
        state = req.data_dir / "state.json"
        first = Interrupts.ROLLING_BACK if req.rollback_of is not None else Interrupts.STOPPING
        with Interrupts(req.cancel_file, display.notice, first) as irq:

            def on_event(event: dict[str, Any]) -> None:
                before = len(tracker.started)
                kind, ref, task = tracker.feed(event)
                data = event.get("event_data") or {}
                display.event(kind, ref, task, data if isinstance(data, dict) else {})
                if len(tracker.started) != before:
                    state.write_text(json.dumps({"run_id": req.run_id, "started": tracker.started}),
                                     encoding="utf-8")

            display.start(f"procc run {proc.id} v{proc.version} (run {req.run_id})"
                          + (f" env {ctx.environment}" if ctx.environment else ""))
            try:
                res = execute(req, on_event=on_event, cancel=lambda: irq.abort)
            finally:
                display.stop()
            interrupted = irq.count > 0
            aborted = irq.abort
        interrupted = interrupted and res.rc != 0  # a stop asked too late to matter
        if interrupted:
            tracker.mark_interrupted()
        if aborted and tracker.jobs and kill_jobs is not None:
            kill_jobs(req, dict(tracker.jobs))
        ended = dt.datetime.now(dt.UTC)
        # A run that matched no host did nothing: never a success, and the
        # statistics skip it (compiler.history.kpis).
        outcome = NO_HOSTS if res.no_hosts is not None else _outcome(res, tracker, bool(req.fail_at), interrupted,
                                                                      req.check)
        record: dict[str, Any] = {
            "kind": "end", "run_id": req.run_id, "end": now_iso(),
            "start": started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "duration": round((ended - started_at).total_seconds(), 3),
            "outcome": outcome, "rc": res.rc, "aborted": aborted, "check": req.check,
            "failed_step": tracker.failed_step, "started": tracker.started,
            "rollbacks": list(tracker.rollbacks), "rollbacks_failed": list(tracker.rollbacks_failed),
            "irreversible": list(tracker.irreversible),
            "drill_passed": res.drill_passed, "summary": _scrub(res.summary, req),
            "hosts": _host_records(res, req),
            "steps": [s.to_json() for s in tracker.steps.values()],
        }
        history_error = None
        if ctx.record:
            try:
                history.append(hpath, record)
            except HistoryWriteError as exc:
                history_error = str(exc)
        return Outcome(res, outcome, tracker, interrupted, aborted, {**base, **record}, history_error)
    finally:
        lock.release()


def _scrub(text: str, req: RunRequest) -> str:
    return masker_for(req).text(text)


def _host_records(res: RunResult, req: RunRequest) -> dict[str, dict[str, Any]]:
    """Each host's outcome and failure cause for the end record (masked again: values are hostile)."""
    keys = ("outcome", "phase", "failed_step", "failed_task", "message", "rc", "stderr", "stdout",
            "rolled_back", "covered", "rollback_failed", "rollback_errors", "irreversible", "started", "done")
    out: dict[str, dict[str, Any]] = {}
    masker = masker_for(req)
    for host, r in sorted(res.results.items()):
        out[host] = masker.scrub(json.loads(json.dumps({k: r.get(k) for k in keys}, default=str)))
    for host in sorted(set(res.unreachable) - set(res.results)):
        out[host] = {"outcome": "unreachable", "message": "dropped by Ansible outside a step"}
    return out


def rollback_commands(src: Source, steps: list[int], params: dict[str, str],
                      secrets: set[str]) -> list[tuple[int, str]]:
    """The rollback command of each started step, newest first, parameters filled in."""
    out: list[tuple[int, str]] = []
    for k in sorted(steps, reverse=True):
        step = src.procedure.steps[k - 1]
        if step.none_needed is not None:
            out.append((k, f"# nothing to undo: {step.none_needed}"))
            continue
        if step.rollback is None:
            out.append((k, f"# irreversible: {step.irreversible or 'no rollback declared'}"))
            continue
        rb = step.rollback
        text = rb.run if rb.run is not None else json.dumps(rb.task or {"role": rb.role})
        for name, value in params.items():
            if name not in secrets:
                # Printed for a person to paste into a shell: a value that is not
                # one plain word is shell-quoted, so pasting never runs it.
                word = value if re.fullmatch(r"[A-Za-z0-9_./:@%+,=-]+", value) else shlex.quote(value)
                text = re.sub(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", word.replace("\\", "\\\\"), text)
        out.append((k, text.rstrip("\n")))
    return out
