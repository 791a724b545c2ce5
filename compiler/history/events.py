"""Following a run from ansible-runner events: which step, which host, how long.

The compiled playbook names its tasks ``Paso K | ...`` (``Step K`` in
English): that prefix maps every event back to a step of the procedure. The
:class:`Tracker` is fed every event and holds the figures the live display,
the history record and the final summary need.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from compiler.i18n import Lang, words
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
    """Per-step state of a run, built from its events as they arrive."""

    def __init__(self, proc: Procedure, lang: Lang = "es") -> None:
        w = words(lang)
        self.proc = proc
        self.steps = {k: StepState(k, s.title, s.minutes) for k, s in enumerate(proc.steps, 1)}
        self._re = re.compile(rf"^{re.escape(w['step'])} (R?\d+|P\d+) \| (.*)$")
        self._w = w
        self.current: int = 0
        self.phase = "init"
        self.task = ""
        self.hosts: dict[str, str] = {}
        self.rollbacks: list[str] = []
        self.rollbacks_failed: list[str] = []
        self.irreversible: list[int] = []
        self.summary = ""
        self.drill_passed = False
        self.failed_task = ""
        self.failed_msg = ""
        self.failed_host = ""
        self.jobs: dict[str, str] = {}  # host -> async job id of the running step
        self.first: dt.datetime | None = None
        self.last: dt.datetime | None = None

    # -- feeding -------------------------------------------------------------

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
        ref: int | str | None = None
        m = self._re.match(task)
        if m:
            ref = int(m.group(1)) if m.group(1).isdigit() else m.group(1)
        status = OK_EVENTS.get(kind)
        res = data.get("res") if isinstance(data.get("res"), dict) else {}
        assert isinstance(res, dict)
        if status and host:
            self.hosts[host] = status
        if task == "Procc | Resumen del fallo" and kind == "runner_on_failed":
            self.summary = str(res.get("msg", ""))
        elif task == "Procc | Simulacro superado" and kind == "runner_on_ok":
            self.summary = str(res.get("msg", ""))
            self.drill_passed = True
        elif task.startswith("Procc | Fase: pre"):
            self.phase = "preflight"
        elif task.startswith("Procc | Fase: v"):
            self.phase = "final"
        elif task == "Procc | Registrar fallo":
            self.phase = "rollback"
        elif task.startswith(self._w["post"]) or task == "Procc | Fin":
            self.phase = "post"
        if kind == "runner_on_failed" and not data.get("ignore_errors") \
                and not task.startswith("Procc | Resumen"):
            self.failed_task, self.failed_host = task, host
            self.failed_msg = _reason(res)
        if isinstance(ref, int) and ref in self.steps and status:
            self._step_event(self.steps[ref], m.group(2) if m else "", status, host, start, when, res)
        elif isinstance(ref, str) and ref.startswith("R") and status in ("ok", "failed"):
            rest = m.group(2) if m else ""
            if rest == "OK":
                self.rollbacks.append(ref)
            elif rest.startswith("FALLIDO"):
                self.rollbacks_failed.append(ref)
        return kind, ref, task

    def _step_event(self, st: StepState, rest: str, status: str, host: str,
                    start: dt.datetime | None, when: dt.datetime | None, res: dict[str, Any]) -> None:
        w = self._w
        if rest.startswith(w["rollback_of"]) or rest == w["irreversible_task"]:
            self.phase = "rollback"
            if rest == f"{w['rollback_of']} OK" and status == "ok":
                st.rollback = "ok"
                if str(st.number) not in self.rollbacks:
                    self.rollbacks.append(str(st.number))
            elif rest.startswith(f"{w['rollback_of']} FALLIDO") and status == "ok":
                st.rollback = "failed"
                self.rollbacks_failed.append(str(st.number))
            elif rest == w["irreversible_task"] and status == "ok":
                st.rollback = "irreversible"
                self.irreversible.append(st.number)
            return
        if status == "skipped":
            return
        self.phase = "step"
        if rest == w["start_task"] and status == "ok":
            self.current = st.number
            if st.status == "not-run":
                st.status = "started"
        if st.start is None or (start is not None and start < st.start):
            st.start = start
        if when is not None and (st.end is None or when > st.end):
            st.end = when
        if status == "failed":
            st.status = "failed"
            st.message = _reason(res)
        elif rest == "Completado" and st.status != "failed":
            st.status = "ok"
        if host:
            st.hosts[host] = status if status == "failed" else (
                "ok" if rest == "Completado" else "running")
        job = res.get("ansible_job_id")
        if isinstance(job, str) and host:
            self.jobs[host] = job

    # -- reading -------------------------------------------------------------

    @property
    def started(self) -> list[int]:
        return [k for k, s in self.steps.items() if s.status != "not-run"]

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

    def elapsed(self) -> float:
        if self.first is None or self.last is None:
            return 0.0
        return (self.last - self.first).total_seconds()
