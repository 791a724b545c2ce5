"""Following a run from ansible-runner events: which step, which host, how long.

Every event maps back to a step of the procedure through the structured
protocol of :mod:`compiler.protocol` (task variables ``procc_step`` and
``procc_kind``), never through task names, which are translated. The
:class:`Tracker` is fed every event and holds the figures the live display,
the history record and the final summary need.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler import protocol
from compiler.i18n import Lang
from compiler.model import Procedure

Event = dict[str, Any]

OK_EVENTS = {"runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_skipped": "skipped",
             "runner_on_unreachable": "unreachable", "runner_item_on_failed": "failed"}


def _ts(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _reason(res: dict[str, Any]) -> str:
    """Why a task failed, from its (already masked) result."""
    text = str(res.get("msg", "") or res.get("stderr", ""))
    rc = res.get("rc")
    if isinstance(rc, int) and rc and f"rc {rc}" not in text:
        text = f"rc {rc}: {text}" if text else f"rc {rc}"
    if not text and res.get("censored"):
        text = "output hidden by no_log (the task sees a secret)"
    return text[:300]


@dataclass
class StepState:
    """What happened to one step of the procedure during a run."""

    number: int
    title: str
    minutes: float
    status: str = "not-run"  # not-run | started | ok | failed | interrupted
    rollback: str | None = None  # None | ok | failed | irreversible
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    hosts: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @property
    def seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return max(0.0, (self.end - self.start).total_seconds())

    def to_json(self) -> dict[str, Any]:
        secs = self.seconds
        return {"step": self.number, "title": self.title, "status": self.status,
                "rollback": self.rollback, "estimated_minutes": self.minutes,
                "duration": round(secs, 3) if secs is not None else None,
                "hosts": dict(sorted(self.hosts.items()))}


class Tracker:
    """Per-step state of a run, built from its events as they arrive.

    Events map to steps through :mod:`compiler.protocol` (the ``procc_step``
    and ``procc_kind`` task variables, read from the playbook the event's
    ``task_path`` points at), never through task names.
    """

    def __init__(self, proc: Procedure, lang: Lang = "es") -> None:
        self.proc = proc
        self.lang = lang
        self.steps = {k: StepState(k, s.title, s.minutes) for k, s in enumerate(proc.steps, 1)}
        self.current: int = 0
        self.phase = "init"
        # The phase of the task of the last event (a skipped rollback task is in
        # "rollback" while the run's phase is not): what displays label by.
        self.event_phase = "init"
        self.task = ""
        self.hosts: dict[str, str] = {}
        self.rollbacks: list[str] = []
        self.rollbacks_failed: list[str] = []
        self.failed_task = ""
        self.failed_msg = ""
        self.jobs: dict[str, str] = {}  # host -> async job id of the running step
        self.results: dict[str, dict[str, Any]] = {}  # host -> the playbook's procc_result
        self.host_step: dict[str, int] = {}  # host -> the step it is running (for role tasks)
        self.first: dt.datetime | None = None
        self.last: dt.datetime | None = None

    # -- feeding -------------------------------------------------------------

    def tag(self, data: dict[str, Any], host: str) -> protocol.Tag:
        """The protocol tag of an event's task; a task outside the playbook belongs to the host's step."""
        path, line = protocol.split_task_path(str(data.get("task_path", "")))
        if line is not None and path:
            tag = protocol.task_map(Path(path)).get(line)
            if tag is not None:
                return tag
        k = self.host_step.get(host) or self.current
        if path and k and self.phase == "step":
            return protocol.Tag(k, "run")
        return protocol.Tag(None, None)

    def feed(self, event: Event) -> tuple[str, int | str | None, str]:
        """Update from one event; returns (kind, step ref, task) for displays."""
        data = event.get("event_data") or {}
        kind = str(event.get("event", ""))
        task = str(data.get("task", ""))
        host = str(data.get("host", ""))
        when = _ts(data.get("end")) or _ts(event.get("created"))
        start = _ts(data.get("start")) or when
        if when is not None:
            self.first = self.first or start
            self.last = when
        if kind == "playbook_on_task_start":
            self.task = task
        tag = self.tag(data, host) if task else protocol.Tag(None, None)
        ref = tag.step
        status = OK_EVENTS.get(kind)
        res = data.get("res") if isinstance(data.get("res"), dict) else {}
        assert isinstance(res, dict)
        if status and host:
            self.hosts[host] = status
        if tag.kind in protocol.PHASES and (
                status in ("ok", "failed", "unreachable")
                # A skipped task moves the run on too (check mode skips post-execution
                # commands), except into a rollback: a skipped rollback did not happen.
                or (status == "skipped" and protocol.PHASES[tag.kind] != "rollback")):
            self.phase = protocol.PHASES[tag.kind]
        self.event_phase = protocol.PHASES.get(tag.kind or "", self.phase)
        if tag.kind == "result" and status == "ok":
            facts = res.get("ansible_facts")
            if isinstance(facts, dict) and isinstance(facts.get("procc_result"), dict):
                self.results[host] = facts["procc_result"]
        if status in ("failed", "unreachable") and not data.get("ignore_errors") and tag.kind != "summary":
            self.failed_task = task
            self.failed_msg = _reason(res)
        if kind == "runner_on_start" and tag.kind == "run" and isinstance(ref, int) and ref in self.steps:
            # The step's action begins on this host: the step is started (a
            # lean playbook has no "start" task; the state file must know
            # before the action ends, in case procc is killed meanwhile).
            self.phase = "step"
            self._step_event(self.steps[ref], "start", "ok", host, start, None, {})
        elif isinstance(ref, int) and ref in self.steps and status:
            self._step_event(self.steps[ref], tag.kind or "run", status, host, start, when, res)
        elif isinstance(ref, str) and ref.startswith("R") and status == "ok":
            if tag.kind == "rollback-ok":
                self.rollbacks.append(ref)
            elif tag.kind == "rollback-failed":
                self.rollbacks_failed.append(ref)
        return kind, ref, task

    def _step_event(self, st: StepState, kind: str, status: str, host: str,
                    start: dt.datetime | None, when: dt.datetime | None, res: dict[str, Any]) -> None:
        if kind in ("rollback", "rollback-ok", "rollback-failed", "irreversible"):
            if kind == "rollback-ok" and status == "ok":
                st.rollback = "ok"
                if str(st.number) not in self.rollbacks:
                    self.rollbacks.append(str(st.number))
            elif kind == "rollback-failed" and status == "ok":
                st.rollback = "failed"
                if str(st.number) not in self.rollbacks_failed:
                    self.rollbacks_failed.append(str(st.number))
            elif kind == "irreversible" and status == "ok":
                st.rollback = "irreversible"
            return
        if kind == "guard" and (status == "skipped" or (
                status == "failed" and str(res.get("msg", "")).startswith("procc-cancel: stop requested"))):
            # The step's closing check: skipped, the step is done; failing on a
            # stop asked before the next step, it is done too.
            kind, status = "done", "ok"
        # Only what ran counts: a skipped task, or the stop check before a
        # step (it fails before the step starts), never starts a step.
        elif status == "skipped" or kind == "cancel":
            return
        if kind == "start" and status == "ok":
            self.current = st.number
            if host:
                self.host_step[host] = st.number
            if st.status == "not-run":
                st.status = "started"
        if st.status == "not-run":
            return
        if st.start is None or (start is not None and start < st.start):
            st.start = start
        if when is not None and (st.end is None or when > st.end):
            st.end = when
        if status in ("failed", "unreachable"):
            st.status = "failed"
            st.message = _reason(res)
        elif kind == "done" and st.status != "failed":
            st.status = "ok"
        if host:
            st.hosts[host] = status if status in ("failed", "unreachable") else (
                "ok" if kind == "done" else "running")
        job = res.get("ansible_job_id")
        if isinstance(job, str) and host:
            self.jobs[host] = job

    # -- reading -------------------------------------------------------------

    @property
    def started(self) -> list[int]:
        return [k for k, s in self.steps.items() if s.status != "not-run"]

    @property
    def irreversible(self) -> list[int]:
        """The started steps declared irreversible (they ran; nothing can undo them)."""
        return [k for k in self.started if self.proc.steps[k - 1].irreversible is not None]

    @property
    def failed_step(self) -> int | None:
        for k, s in self.steps.items():
            if s.status == "failed":
                return k
        return None

    def mark_interrupted(self) -> None:
        """A started step that never completed was stopped by the user."""
        for s in self.steps.values():
            if s.status == "started" or (s.status == "failed" and s.message.startswith("procc-cancel")):
                s.status = "interrupted"
