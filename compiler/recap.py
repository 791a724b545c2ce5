"""What a run did, as Ansible users read it: ok or changed per result, "would run" in check mode, the recap.

:func:`status` names one task result the way the displays print it.
:class:`Recap` wraps a display: it passes every event on, and keeps the
per-host counts of Ansible's own recap (the ``playbook_on_stats`` event)
and, in check mode, what would have run, for the final summary. Nothing
here imports ansible; every value comes from (already masked) events.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compiler.progress import Display

# What check mode skips rather than simulates: commands (the shell module skips
# itself) and roles that change something (skipped by the playbook). A skipped
# event carries no result, so the action says why.
_SKIPPED_IN_CHECK = frozenset({
    "ansible.builtin.shell", "ansible.builtin.command", "ansible.builtin.include_role",
    "shell", "command", "include_role",
})
# Bookkeeping around a step's action (start, cancel, drill, wait): never the action itself.
_BOOKKEEPING = frozenset({
    "ansible.builtin.set_fact", "ansible.builtin.fail", "ansible.builtin.async_status", "ansible.builtin.debug",
    "ansible.builtin.assert", "set_fact", "fail", "async_status", "debug", "assert",
})
# Marks an event (a copy of its data) with how a display prints it in check
# mode: "would run" (a step's command or role, a post-execution action) or
# "not checked" (a validation of a step that did not run).
CHECK_STATUS = "procc_check_status"


def status(kind: str, data: dict[str, Any]) -> str | None:
    """How a display prints one result event: ok, changed, FAILED, would run ... (None: not printed)."""
    res = data.get("res") if isinstance(data.get("res"), dict) else {}
    assert isinstance(res, dict)
    if kind == "runner_on_ok":
        return "changed" if res.get("changed") else "ok"
    if kind == "runner_on_failed":
        return "failed (ignored)" if data.get("ignore_errors") else "FAILED"
    if kind == "runner_on_unreachable":
        return "UNREACHABLE"
    if kind == "runner_on_skipped" and data.get(CHECK_STATUS):
        return str(data[CHECK_STATUS])
    return None


def diff_lines(res: dict[str, Any], limit: int = 60) -> list[str]:
    """The ``--diff`` of a module result as unified diff lines (at most ``limit``)."""
    diffs = res.get("diff")
    if isinstance(diffs, dict):
        diffs = [diffs]
    if not isinstance(diffs, list):
        return []
    out: list[str] = []
    for d in diffs:
        if not isinstance(d, dict):
            continue
        if isinstance(d.get("prepared"), str):
            out.extend(d["prepared"].splitlines())
            continue
        before, after = d.get("before", ""), d.get("after", "")
        if not isinstance(before, str) or not isinstance(after, str):
            continue
        out.extend(line.rstrip("\n") for line in difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True),
            fromfile=str(d.get("before_header", "before")), tofile=str(d.get("after_header", "after"))))
    if len(out) > limit:
        out = [*out[:limit], f"... ({len(out) - limit} more lines)"]
    return out


@dataclass
class HostCounts:
    """One host's line of Ansible's recap."""

    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    def line(self) -> str:
        parts = [f"ok={self.ok}", f"changed={self.changed}", f"failed={self.failed}"]
        parts += [f"{k}={v}" for k, v in (("unreachable", self.unreachable), ("skipped", self.skipped),
                                          ("rescued", self.rescued), ("ignored", self.ignored)) if v]
        return " ".join(parts)


_STATS_KEYS = {"ok": "ok", "changed": "changed", "failures": "failed", "dark": "unreachable",
               "skipped": "skipped", "rescued": "rescued", "ignored": "ignored"}


@dataclass
class Recap:
    """A display wrapper that remembers the recap and, in check mode, what would run.

    ``phase`` reads the run's phase (rollback tasks are never "would run": under
    --check nothing is rolled back).
    """

    inner: Display
    check: bool = False
    phase: Callable[[], str] = lambda: ""
    hosts: dict[str, HostCounts] = field(default_factory=dict)
    # Steps (by number) and other tasks (by name) that check mode reported as "would run", in order.
    would_run_steps: list[int] = field(default_factory=list)
    would_run_tasks: list[str] = field(default_factory=list)
    _mains: set[tuple[int, str]] = field(default_factory=set)

    def start(self, header: str) -> None:
        self.inner.start(header)

    def notice(self, text: str) -> None:
        self.inner.notice(text)

    def stop(self) -> None:
        self.inner.stop()

    def event(self, kind: str, ref: int | str | None, task: str, data: dict[str, Any]) -> None:
        if kind == "playbook_on_stats":
            self._stats(data)
        elif self.check and self.phase() != "rollback":
            label = self._check_label(kind, ref, task, data)
            if label is not None and kind == "runner_on_skipped":
                data = {**data, CHECK_STATUS: label}
        self.inner.event(kind, ref, task, data)

    def _check_label(self, kind: str, ref: int | str | None, task: str, data: dict[str, Any]) -> str | None:
        """In check mode: "would run", "not checked" or None (shown as it is); records what would run."""
        if not self._is_action(kind, data):
            return None
        would = self._would_run(kind, data)
        if self.phase() == "final":
            return "not checked" if would else None
        if isinstance(ref, int):
            # A step's own action comes first; a command skipped after it is its validation.
            key = (ref, str(data.get("host", "")))
            main = key not in self._mains
            self._mains.add(key)
            if not would:
                return None
            if not main:
                return "not checked"
            if ref not in self.would_run_steps:
                self.would_run_steps.append(ref)
            return "would run"
        if not would:
            return None
        if task and task not in self.would_run_tasks:
            self.would_run_tasks.append(task)
        return "would run"

    @staticmethod
    def _is_action(kind: str, data: dict[str, Any]) -> bool:
        """A result of a task that does the work (a command, a module, a role), not bookkeeping."""
        action = str(data.get("resolved_action") or data.get("task_action") or "")
        return kind in ("runner_on_ok", "runner_on_skipped", "runner_on_failed") and action not in _BOOKKEEPING

    @staticmethod
    def _would_run(kind: str, data: dict[str, Any]) -> bool:
        """A command or role check mode skipped, or a module it simulated as changing something."""
        if kind == "runner_on_skipped":
            return str(data.get("resolved_action") or data.get("task_action")) in _SKIPPED_IN_CHECK
        res = data.get("res")
        return kind == "runner_on_ok" and isinstance(res, dict) and bool(res.get("changed"))

    def _stats(self, data: dict[str, Any]) -> None:
        for key, attr in _STATS_KEYS.items():
            per_host = data.get(key)
            if not isinstance(per_host, dict):
                continue
            for host, n in per_host.items():
                if isinstance(n, int):
                    setattr(self.hosts.setdefault(str(host), HostCounts()), attr, n)

    def lines(self) -> list[str]:
        """``host: ok=N changed=N failed=N ...`` per host, like Ansible's PLAY RECAP."""
        return [f"{host}: {c.line()}" for host, c in sorted(self.hosts.items())]
