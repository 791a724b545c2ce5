"""The Tracker follows a lean playbook: no start or done task, the action and the closing check say it.

A step is started when its action begins on a host (``runner_on_start``,
before the action ends: a run killed meanwhile still counts it) and done when
its closing check is skipped, or fails on a stop asked before the next step;
the check failing for a drill or a lost host fails the step. Events are
built as ansible-runner sends them, pointing at the lines of a real compiled
playbook (compiler.protocol maps them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler import playbook as pb
from compiler import protocol
from compiler.history.events import Tracker
from tests.unit.test_playbook_lean import _proc


def _setup(tmp_path: Path) -> tuple[Tracker, Path, dict[tuple[int, str], int]]:
    proc = _proc(3)
    path = tmp_path / "playbook.yml"
    path.write_text(pb.render(proc, "en"), encoding="utf-8")
    lines: dict[tuple[int, str], int] = {}
    for line, tag in sorted(protocol.task_map(path).items()):
        if isinstance(tag.step, int) and tag.kind in ("run", "guard") and (tag.step, tag.kind) not in lines:
            lines[(tag.step, tag.kind)] = line
    # The first (step, "run") line is the step's block; its action is the next task of that kind.
    for line, tag in sorted(protocol.task_map(path).items()):
        if tag.kind == "run" and isinstance(tag.step, int) and line > lines[(tag.step, "run")]:
            lines.setdefault((tag.step, "action"), line)
    return Tracker(proc, "en"), path, lines


def _ev(event: str, path: Path, line: int, **res: Any) -> dict[str, Any]:
    return {"event": event, "event_data": {"task": "t", "host": "h1", "task_path": f"{path}:{line}",
                                           **({"res": res} if res else {})}}


def test_a_step_starts_when_its_action_begins_and_is_done_when_its_check_is_skipped(tmp_path: Path) -> None:
    t, path, lines = _setup(tmp_path)
    t.feed(_ev("runner_on_start", path, lines[(1, "action")]))
    assert t.started == [1] and t.steps[1].status == "started" and t.current == 1 and t.phase == "step"
    t.feed(_ev("runner_on_ok", path, lines[(1, "action")], changed=True))
    t.feed(_ev("runner_on_skipped", path, lines[(1, "guard")]))
    assert t.steps[1].status == "ok"
    assert t.steps[2].status == "not-run"


def test_a_stop_asked_before_the_next_step_leaves_the_step_done(tmp_path: Path) -> None:
    t, path, lines = _setup(tmp_path)
    t.feed(_ev("runner_on_start", path, lines[(2, "action")]))
    t.feed(_ev("runner_on_failed", path, lines[(2, "guard")], msg="procc-cancel: stop requested before step 3"))
    assert t.steps[2].status == "ok" and t.started == [2]


def test_a_drill_or_a_lost_host_fails_the_step(tmp_path: Path) -> None:
    t, path, lines = _setup(tmp_path)
    t.feed(_ev("runner_on_start", path, lines[(2, "action")]))
    t.feed(_ev("runner_on_failed", path, lines[(2, "guard")], msg="procc-drill: procc_fail_at=2"))
    assert t.steps[2].status == "failed" and t.failed_step == 2
    t.feed(_ev("runner_on_start", path, lines[(3, "action")]))
    t.feed(_ev("runner_on_failed", path, lines[(3, "guard")], msg="procc-unreachable: ssh gone"))
    assert t.steps[3].status == "failed"
