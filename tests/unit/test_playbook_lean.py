"""Lean playbooks (issue 14): a step costs its own tasks and one closing check, nothing more.

The per-step bookkeeping tasks (start, done, drill, stop check) are gone:
started and done come from each step's registered result, the drill and the
stop asked before the next step are conditions of the step's closing check
(the lost-host guard it had anyway). These tests pin the count, so a change
that re-adds a task to every step fails here; the semantics are pinned by
the real runs (tests/core/test_runs.py, tests/run/test_interrupts.py,
tests/ssh/test_unreachable.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler import playbook as pb
from compiler.parse import parse_text

CLEAN = (Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")
FIXTURES = Path(__file__).parent.parent / "fixtures" / "procedures"


def _proc(n: int, validate: bool = True) -> Any:
    """A procedure of ``n`` short command steps, each with a validation when ``validate``."""
    steps = "".join(
        f"  - title: Paso {k}\n    minutes: 1\n    run: touch /tmp/x{k}\n"
        + (f"    validate:\n      run: test -f /tmp/x{k}\n      expect: {{rc: 0}}\n" if validate else "")
        + f"    rollback:\n      run: rm -f /tmp/x{k}\n"
        for k in range(1, n + 1))
    head, _, tail = CLEAN.partition("steps:\n")
    rest = tail[tail.index("\nfinal_validation:") + 1:] if "\nfinal_validation:" in tail else ""
    return parse_text(head + "steps:\n" + steps + rest, "p.yml")


def _kinds(block: dict[str, Any]) -> list[str | None]:
    return [t.get("vars", {}).get("procc_kind") for t in block["block"]]


def test_a_validated_step_is_its_command_its_validation_and_one_closing_check() -> None:
    proc = _proc(10)
    b = pb._Builder(proc, "es")
    for k in range(2, 11):
        assert _kinds(b.step(k, proc.steps[k - 1])) == [None, "validate", "guard"], k
    # Step 1 also checks for a stop asked during pre-flight (nothing before it closes a step).
    assert _kinds(b.step(1, proc.steps[0])) == ["cancel", None, "validate", "guard"]


def test_a_step_without_validation_is_two_tasks() -> None:
    proc = _proc(3, validate=False)
    b = pb._Builder(proc, "en")
    assert [len(b.step(k, s)["block"]) for k, s in enumerate(proc.steps, 1)] == [3, 2, 2]


def test_the_run_play_grows_by_the_steps_own_tasks_only() -> None:
    def count(node: Any) -> int:
        if isinstance(node, list):
            return sum(count(n) for n in node)
        if isinstance(node, dict) and any(k in node for k in ("block", "rescue", "always")):
            return sum(count(node.get(k, [])) for k in ("block", "rescue", "always"))
        return 1

    def run_tasks(n: int) -> int:
        play = pb.build(_proc(n))[0]
        return count(play["tasks"])

    # Each added step costs its command, its validation, its closing check
    # and, in the rescue, its rollback (the command, its OK and its FAILED record).
    assert run_tasks(6) - run_tasks(5) == 3 + 3
    assert run_tasks(10) - run_tasks(5) == 5 * (3 + 3)


def test_the_closing_check_is_the_guard_the_drill_and_the_stop_before_the_next_step() -> None:
    proc = _proc(3)
    b = pb._Builder(proc, "en")
    end = b.step(2, proc.steps[1])["block"][-1]
    assert end["when"] == "procc_lost | length > 0 or procc_fail_at | int == 2 or procc_cancel_file is exists"
    msg = end["ansible.builtin.fail"]["msg"]
    assert "'procc-drill: procc_fail_at=2'" in msg
    assert "'procc-cancel: stop requested before step 3'" in msg
    assert msg.index("procc-unreachable") < msg.index("procc-drill") < msg.index("procc-cancel")
    # After the last step final validation follows: no stop check there (as before).
    last = b.step(3, proc.steps[2])["block"][-1]
    assert last["when"] == "procc_lost | length > 0 or procc_fail_at | int == 3"
    assert "procc-cancel" not in last["ansible.builtin.fail"]["msg"]


def test_started_comes_from_the_steps_registered_results() -> None:
    proc = _proc(3)
    b = pb._Builder(proc, "en")
    assert [b.step(k, s)["block"][-3]["register"] for k, s in enumerate(proc.steps, 1)] == [
        "procc_step_1", "procc_step_2", "procc_step_3"]
    play = pb.build(proc)[0]
    init = play["tasks"][0]["ansible.builtin.set_fact"]
    assert {k: init[k] for k in ("procc_step_1", "procc_step_2", "procc_step_3")} == {
        "procc_step_1": {}, "procc_step_2": {}, "procc_step_3": {}}
    assert "range(1, 4)" in play["vars"]["procc_reached"]


def test_a_successful_run_leaves_the_fleet_rollback_play_after_one_task() -> None:
    # The fleet's rollback is a play of its own: a host with nothing to roll back
    # for another host ends that play (meta: end_host) before the rollback's
    # two dozen tasks, instead of skipping each one (issue 14's lean goal).
    plays = pb.build(_proc(10))
    assert len(plays) == 3
    fleet = plays[1]
    decision, leave, block = fleet["tasks"]
    assert decision["vars"]["procc_kind"] == "result" and "procc_fleet_stop" in decision["ansible.builtin.set_fact"]
    assert leave["ansible.builtin.meta"] == "end_host"
    # Exactly the hosts the rollback is not for leave: the two conditions are each other's negation.
    assert leave["when"] == f"not ({block['when']})"
    assert "procc_fleet_stop" in block["when"] and "not ansible_check_mode" in block["when"]
    assert len(block["block"]) == 10
    # The outcome play evaluates no rollback at all.
    assert not [t for t in plays[2]["tasks"] if "procc_fleet_stop" in str(t.get("when", ""))]
    assert plays[2]["hosts"] == plays[0]["hosts"] == fleet["hosts"]
