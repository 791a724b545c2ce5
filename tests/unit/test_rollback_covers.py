"""``rollback.covers``: its diagnostics (exact position, message, code) and what the playbooks do with it.

The procedure here has four steps; the real runs are in tests/run/test_rollback_covers.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from compiler import covers, playbook, rollbackplay
from compiler.codes import explain
from compiler.errors import CompileError
from compiler.lint.engine import lint_files
from compiler.model import Procedure
from compiler.parse import parse_text

HEAD = """\
id: PROC-TEST-104
type: maintenance
title: Covers
criticality: low
frequency: on-demand
estimated_minutes: 5
version: 1.0.0
updated: 2026-11-30
author: Tester
purpose:
  what: Probar covers
steps:
"""


def step(sid: str, rollback: str) -> str:
    """One step with id ``sid`` and a rollback given as YAML flow text (or irreversible)."""
    return f"  - id: {sid}\n    title: {sid}\n    minutes: 1\n    run: echo {sid}\n    {rollback}\n"


def proc(r3: str = "rollback: {run: echo undo-c, covers: [b]}", r2: str = "rollback: {run: echo undo-b}",
         r4: str = "rollback: {run: echo undo-d}", r1: str = "rollback: {run: echo undo-a}") -> str:
    return HEAD + step("a", r1) + step("b", r2) + step("c", r3) + step("d", r4)


def errors(text: str) -> list[str]:
    with pytest.raises(CompileError) as exc:
        parse_text(text, "p.yml")
    return [d.format() for d in exc.value.diagnostics]


def parsed(text: str) -> Procedure:
    return parse_text(text, "p.yml")


def test_ids_and_numbers_resolve_to_step_numbers_newest_first() -> None:
    p = parsed(proc(r4="rollback: {run: echo undo-d, covers: [1, c, b]}"))
    assert covers.covered(p) == {3: [2], 4: [3, 2, 1]}
    assert covers.coverers(p) == {1: [4], 2: [3, 4], 3: [4]}
    assert p.steps[3].rollback is not None and p.steps[3].rollback.covers == [1, "c", "b"]


def test_a_role_rollback_can_cover() -> None:
    p = parsed(proc(r3="rollback: {role: restore, vars: {x: 1}, covers: [b]}"))
    assert covers.covered(p) == {3: [2]}


# Each line (L) and column of the steps: step K's rollback is on line 12 + 5K.
@pytest.mark.parametrize(("r3", "expected"), [
    ("rollback: {run: echo x, covers: [bb]}",
     "p.yml:27:38: error: Paso 3 (steps[2]): covers: no step has the id 'bb' (did you mean 'b'?) [invalid-covers]"),
    ("rollback: {run: echo x, covers: [zzzzzz]}",
     "p.yml:27:38: error: Paso 3 (steps[2]): covers: no step has the id 'zzzzzz'; step ids here: a, b, c, d "
     "[invalid-covers]"),
    ("rollback: {run: echo x, covers: [c]}",
     "p.yml:27:38: error: Paso 3 (steps[2]): covers: step 3 is this step: its own rollback undoes it already; "
     "list only earlier steps [invalid-covers]"),
    ("rollback: {run: echo x, covers: [4]}",
     "p.yml:27:38: error: Paso 3 (steps[2]): covers: step 4 comes after step 3: a rollback can only cover earlier "
     "steps (rollbacks run newest first, so move 'covers' to the rollback of step 4) [invalid-covers]"),
    ("rollback: {run: echo x, covers: [9]}",
     "p.yml:27:38: error: Paso 3 (steps[2]): covers: there is no step 9 (the steps are 1-4) [invalid-covers]"),
    ("rollback: {run: echo x, covers: [b, 2]}",
     "p.yml:27:41: error: Paso 3 (steps[2]): covers: step 2 is listed twice [invalid-covers]"),
    ("rollback: {run: echo x, covers: [true]}",
     "p.yml:27:38: error: Paso 3 (steps[2]): covers: name a step by its id ('backup') or its number (1) "
     "[invalid-covers]"),
])
def test_a_wrong_reference_is_reported_where_it_is_written(r3: str, expected: str) -> None:
    assert errors(proc(r3=r3)) == [expected]


def test_an_irreversible_step_cannot_be_covered() -> None:
    (line,) = errors(proc(r2="irreversible: borra datos"))
    assert line == ("p.yml:27:43: error: Paso 3 (steps[2]): covers: step 2 is irreversible: no rollback can undo it "
                    "(if nothing needs undoing there, write 'rollback: {none-needed: <reason>}' on it instead) "
                    "[invalid-covers]")


def test_a_none_needed_rollback_cannot_cover() -> None:
    (line,) = errors(proc(r3="rollback: {none-needed: nada que deshacer, covers: [b]}"))
    assert line.startswith("p.yml:27:15: error: Paso 3 (steps[2].rollback): a 'none-needed' rollback undoes "
                           "nothing, so it cannot cover other steps")
    assert line.endswith("[invalid-value]")


def test_coverage_must_be_closed() -> None:
    # d covers c, whose rollback covers b: once d started, nothing would undo b.
    (line,) = errors(proc(r4="rollback: {run: echo undo-d, covers: [c]}"))
    assert line == ("p.yml:32:34: error: Paso 4 (steps[3]): covers step 3, whose rollback covers step 2: list 2 here "
                    "too, or once step 4 started no rollback would undo it [invalid-covers]")
    parsed(proc(r4="rollback: {run: echo undo-d, covers: [c, b]}"))  # closed: accepted


def test_covers_must_be_a_list() -> None:
    (line,) = errors(proc(r3="rollback: {run: echo x, covers: b}"))
    assert line.endswith("[wrong-type]") and "covers" in line


def _tasks(text: str) -> dict[str, dict[str, object]]:
    """The rollback tasks of the run play's rescue, by name."""
    plays = yaml.safe_load(playbook.render(parsed(text), "en"))
    rescue = plays[0]["tasks"][-3]["rescue"]
    return {t["name"]: t for t in rescue}


def test_the_rescue_skips_a_covered_rollback_when_its_covering_step_started() -> None:
    tasks = _tasks(proc())
    assert tasks["Step 2 | Rollback"]["when"] == (
        "procc_phase == 'step' and not (procc_failure.unreachable | default(false)) and 2 in procc_started"
        " and not (3 in procc_started) and not ansible_check_mode")
    assert tasks["Step 1 | Rollback"]["when"] == (
        "procc_phase == 'step' and not (procc_failure.unreachable | default(false)) and 1 in procc_started"
        " and not ansible_check_mode")
    ok = tasks["Step 3 | Rollback"]["block"][1]["ansible.builtin.set_fact"]  # type: ignore[index]
    assert ok == {
        "procc_rolled_back": "{{ procc_rolled_back + [3] + ([2] | select('in', procc_started) | list) }}",
        "procc_covered": "{{ procc_covered + (([2] | select('in', procc_started) | list) | product([3]) | list) }}",
    }
    plain = tasks["Step 4 | Rollback"]["block"][1]["ansible.builtin.set_fact"]  # type: ignore[index]
    assert plain == {"procc_rolled_back": "{{ procc_rolled_back + [4] }}"}


def test_a_step_covered_twice_is_skipped_when_either_started() -> None:
    tasks = _tasks(proc(r4="rollback: {run: echo undo-d, covers: [c, b]}"))
    assert "2 in procc_started and not (3 in procc_started or 4 in procc_started)" in str(
        tasks["Step 2 | Rollback"]["when"])


def test_the_fleet_rollback_skips_it_too() -> None:
    plays = yaml.safe_load(playbook.render(parsed(proc()), "en"))
    fleet = next(t for t in plays[1]["tasks"] if "block" in t)
    whens = {t["name"]: t["when"] for t in fleet["block"]}
    assert whens["Step 2 | Rollback"] == "true and 2 in procc_started and not (3 in procc_started) and not ansible_check_mode"


@pytest.mark.parametrize(("steps", "ran", "counted"), [
    ([1, 2, 3, 4], ["4", "3", "1"], {"3": "[3] + [2]"}),
    ([1, 2], ["2", "1"], {}),
    ([3, 1], ["3", "1"], {"3": "[3]"}),  # 2 was rolled back already: nothing to count
])
def test_procc_rollback_runs_the_covering_rollback_instead(steps: list[int], ran: list[str],
                                                           counted: dict[str, str]) -> None:
    (play,) = yaml.safe_load(rollbackplay.steps_rollback(parsed(proc()), steps, "en"))
    blocks = [t for t in play["tasks"] if "block" in t]
    assert [str(t["vars"]["procc_step"]) for t in blocks] == ran
    for t in blocks:
        k = str(t["vars"]["procc_step"])
        if k in counted:
            facts = t["block"][1]["ansible.builtin.set_fact"]
            assert facts["procc_rolled_back"] == f"{{{{ procc_rolled_back + {counted[k]} }}}}"


def test_lint_explains_that_a_covered_step_still_needs_its_own_rollback(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text(proc(r2="rollback: {run: echo undo-b}").replace(
        "    run: echo b\n    rollback: {run: echo undo-b}\n", "    run: touch /srv/b\n"), encoding="utf-8")
    found = [d for d in lint_files([(path, "p.yml")]).findings if d.code == "step-missing-rollback"]
    assert [d.message for d in found] == [
        "Paso 2 (steps[1]) 'b' changes the system but has no rollback (the rollback of step 3 covers it, but only "
        "once that step started: a failure before needs this step's own); add 'rollback', "
        "'rollback: {none-needed: <reason>}' or 'irreversible: <reason>'"]


def test_procc_explain_documents_the_code() -> None:
    text = explain(covers.CODE)
    assert text is not None and text.startswith("invalid-covers: ") and "did you mean" in text


def test_both_summaries_say_which_rollback_undid_a_covered_step() -> None:
    import jinja2

    from compiler.playbookexpr import SUMMARY
    from compiler.protocol import host_summary

    r = {"host": "h1", "outcome": "rolled-back", "phase": "step", "failed_step": 3, "failed_task": "t",
         "message": "procc-drill: procc_fail_at=3", "rc": None, "stderr": [], "stdout": [], "drill": True,
         "drill_passed": True, "rolled_back": [3, 2, 1], "covered": [[2, 3]], "rollback_failed": [],
         "rollback_errors": [], "irreversible": []}
    ours = host_summary(r, "PROC-TEST-104", "run1")
    theirs = jinja2.Environment().from_string(SUMMARY).render(procc_result=r, procc_proc_id="PROC-TEST-104",
                                                               procc_drill_hit=True, procc_run_id="run1")
    for text in (ours, theirs):
        assert "DRILL PASSED: step 3 failed on purpose; rolled back 3, 2, 1; step 2 undone by step 3's rollback" \
            in text, text


def test_derived_tables_are_computed_once_per_procedure() -> None:
    """covered, coverers and captures are asked once per step or command: a rescan each time
    made a 3,000-step compile quadratic (35 s). They are memoized on the procedure, by identity."""
    from compiler.model import captures

    p, q = parsed(proc()), parsed(proc(r3="rollback: {run: echo undo-c}"))
    for table in (covers.covered, covers.coverers, captures):
        assert table(p) is table(p)
    # The memo follows the procedure it is given, never the one before.
    assert covers.covered(p) == {3: [2]} and covers.covered(q) == {} and covers.covered(p) == {3: [2]}
