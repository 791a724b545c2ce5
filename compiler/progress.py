"""Showing a run as it happens: a live ``rich`` view on a terminal, plain lines otherwise.

Both displays read the :class:`~compiler.history.events.Tracker` (which step,
which host, how long) and never import ansible. The plain display prints one
line per task result, for CI logs; the live one redraws: step i of N with its
title, each host's status, elapsed time against the step's and the
procedure's estimate, and rollbacks in their own colour.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO

from compiler.history.events import Tracker
from compiler.i18n import words
from compiler.recap import diff_lines, status


class Display(Protocol):
    """What the run session tells a display."""

    def start(self, header: str) -> None: ...
    def event(self, kind: str, ref: int | str | None, task: str, data: dict[str, Any]) -> None: ...
    def notice(self, text: str) -> None: ...
    def stop(self) -> None: ...


def _fmt(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


class PlainDisplay:
    """One line per task result (stdout not a terminal)."""

    def __init__(self, tracker: Tracker, out: TextIO | None = None) -> None:
        self.t = tracker
        self.out = out or sys.stdout

    def start(self, header: str) -> None:
        print(header, file=self.out, flush=True)

    def event(self, kind: str, ref: int | str | None, task: str, data: dict[str, Any]) -> None:
        shown = status(kind, data)
        if shown is None or not task:
            return
        mark = "  <<" if self.t.event_phase == "rollback" else ""
        print(f"{shown:>11}  {data.get('host', '')}  {task}{mark}", file=self.out, flush=True)
        res = data.get("res")
        if shown == "changed" and isinstance(res, dict):
            for line in diff_lines(res):
                print(f"             {line}", file=self.out, flush=True)

    def notice(self, text: str) -> None:
        print(f"procc: {text}", file=self.out, flush=True)

    def stop(self) -> None:
        pass


class LiveDisplay:
    """A redrawn panel built with rich (stdout is a terminal)."""

    def __init__(self, tracker: Tracker) -> None:
        from rich.console import Console
        from rich.live import Live

        self.t = tracker
        self.console = Console()
        self.began = time.monotonic()
        self.step_began: dict[int, float] = {}
        self.lines: list[str] = []
        self.live = Live(console=self.console, refresh_per_second=4, transient=False,
                         get_renderable=self._render)

    def _render(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        t = self.t
        n = len(t.steps)
        total_est = t.proc.estimated_minutes * 60
        grid = Table.grid(padding=(0, 1))
        elapsed = time.monotonic() - self.began
        grid.add_row(Text(f"{t.proc.id} v{t.proc.version}", style="bold"),
                     Text(f"total {_fmt(elapsed)} / est {_fmt(total_est)}",
                          style="red" if elapsed > total_est else "dim"))
        k = t.current
        if k and t.phase == "step":
            st = t.steps[k]
            began = self.step_began.setdefault(k, time.monotonic())
            step_el = time.monotonic() - began
            grid.add_row(Text(f"{words(t.lang)['step']} {k}/{n}: {st.title}", style="bold cyan"),
                         Text(f"{_fmt(step_el)} / est {_fmt(st.minutes * 60)}",
                              style="red" if step_el > st.minutes * 60 else "dim"))
        else:
            grid.add_row(Text(f"fase: {t.phase}", style="magenta" if t.phase == "rollback" else "cyan"),
                         Text(t.task, style="dim"))
        for host, state in sorted(t.hosts.items()):
            style = {"ok": "green", "failed": "bold red", "unreachable": "bold red"}.get(state, "yellow")
            grid.add_row(Text(f"  {host}"), Text(state, style=style))
        for line in self.lines[-8:]:
            grid.add_row(Text(line, style="magenta" if "Rollback" in line else "dim"), Text(""))
        return grid

    def start(self, header: str) -> None:
        self.console.print(header)
        self.live.start()

    def event(self, kind: str, ref: int | str | None, task: str, data: dict[str, Any]) -> None:
        if isinstance(ref, int) and ref not in self.step_began and self.t.phase == "step":
            self.step_began[ref] = time.monotonic()
        shown = status(kind, data)
        if shown and task:
            self.lines.append(f"{shown:>9} {data.get('host', '')} {task}")
            res = data.get("res")
            if shown == "changed" and isinstance(res, dict):
                diff = diff_lines(res)
                for line in diff:
                    self.live.console.print(line, markup=False, highlight=False)
        self.live.refresh()

    def notice(self, text: str) -> None:
        self.live.console.print(f"[bold yellow]procc:[/] {text}")

    def stop(self) -> None:
        self.live.stop()


def make_display(tracker: Tracker, live: bool | None = None) -> Display:
    """The live display on a terminal, plain lines otherwise."""
    if live is None:
        live = sys.stdout.isatty()
    return LiveDisplay(tracker) if live else PlainDisplay(tracker)
