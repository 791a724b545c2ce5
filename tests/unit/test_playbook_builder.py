"""compiler.playbook's builder on a procedure that uses every feature, and on minimal ones.

The golden pins the whole playbook of tests/unit/fixtures/PROC-TEST-090-every-feature.yml
(every parameter type, serial/throttle/become/max_fail_percentage, probes with
expectations and retries, run/task/role actions on the targets and the
controller, changes conditions, secrets, validations, rollbacks, an
irreversible step, health checks, metrics, smoke tests, the full rollback and
post-execution); the other tests assert on branches one procedure cannot take.
Regenerate after an intended change:
    .venv/bin/pytest tests/unit/test_playbook_builder.py --update-goldens
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler import playbook as pb
from compiler.parse import parse_file, parse_text
from compiler.yamlout import Unsafe
from tests.conftest import ROOT
from tests.support.golden import check_golden

EVERY = Path(__file__).parent / "fixtures" / "PROC-TEST-090-every-feature.yml"
CLEAN = (Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_feature_golden(request: pytest.FixtureRequest, lang: str) -> None:
    src = parse_file(EVERY, EVERY.relative_to(ROOT).as_posix())
    text = pb.render(src.procedure, lang, source=src.display)  # type: ignore[arg-type]
    check_golden(request, text, ROOT / "tests" / "golden" / f"{EVERY.stem}.{lang}.yml")


def builder(text: str = CLEAN) -> pb._Builder:
    return pb._Builder(parse_text(text, "p.yml"), "en")


NO_PARAMS = CLEAN.replace("parameters:\n  workdir:\n    description: Directorio de trabajo\n"
                          "    default: /tmp/procc-lint\n", "").replace("{{ workdir }}", "/tmp/w")


def test_without_parameters_the_check_asserts_nothing() -> None:
    task = builder(NO_PARAMS).parameter_check()
    assert task == {
        "name": "Procc | Check parameters",
        "ansible.builtin.assert": {"that": ["true"], "fail_msg": "procc: invalid or missing parameters",
                                   "quiet": True},
        "vars": {"procc_kind": "init"},
        "tags": ["always"],
    }


def test_without_defaults_text_is_left_as_templated() -> None:
    b = builder(NO_PARAMS)
    assert b.text("a {{ procc_run_id }} b") == "a {{ procc_run_id }} b"
    assert b.parameter_defaults() == {}
    d = builder()
    assert d.text("{{ workdir }}/x {{workdir}} {{- workdir }} {{ procc_run_id }}") == (
        "{{ workdir | default(procc_default_workdir) }}/x {{workdir | default(procc_default_workdir)}}"
        " {{- workdir | default(procc_default_workdir) }} {{ procc_run_id }}")
    assert d.text("no reference") == "no reference"
    # A name that is not declared is not templated (see compiler.templating.to_ansible).
    assert "{{ other }}" not in d.text("{{ other }}")


def test_data_treats_every_nested_string_as_text() -> None:
    b = builder()
    assert b.data({"a": ["{{ workdir }}", 3, {"b": "{{ workdir }}"}], "c": None}) == {
        "a": ["{{ workdir | default(procc_default_workdir) }}", 3,
              {"b": "{{ workdir | default(procc_default_workdir) }}"}], "c": None}


def test_uses_secret_reads_the_command_the_module_and_the_role_vars() -> None:
    text = CLEAN.replace("    default: /tmp/procc-lint", "    default: /tmp/procc-lint\n  tok: {secret: true}")
    b = builder(text)
    proc = parse_text(text.replace("    run: touch {{ workdir }}/marca", "    run: echo {{ tok }}"), "p.yml")
    assert b.uses_secret(proc.steps[0])
    for action in ("task: {ansible.builtin.debug: {msg: '{{ tok }}'}}", "role: demo\n    vars: {a: '{{ tok }}'}"):
        proc = parse_text(text.replace("    run: touch {{ workdir }}/marca", "    " + action), "p.yml")
        assert b.uses_secret(proc.steps[0]), action
    plain = parse_text(text, "p.yml").steps[0]
    assert not b.uses_secret(plain)
    echo = parse_text(text.replace("    run: touch {{ workdir }}/marca", "    run: echo {{ tok }}"), "p.yml").steps[0]
    assert not builder().uses_secret(echo)  # a procedure without secrets


SECRET = CLEAN.replace("    default: /tmp/procc-lint", "    default: /tmp/procc-lint\n  tok: {secret: true}")


def test_a_health_check_expecting_a_secret_is_hidden() -> None:
    text = SECRET.replace('{url: "http://localhost:8080/health", status: 200}',
                          '{url: "http://localhost:8080/health", status: 200, contains: "{{ tok }}"}')
    b = builder(text)
    [health] = b.proc.final_validation.health
    request, verdict = b._health("Final", health, ["final_validation"])
    # The request and its verdict both carry the expected text.
    assert request["no_log"] is True and verdict["no_log"] is True
    assert request["vars"]["procc_expect_contains"] == "{{ tok }}"
    assert verdict["vars"]["procc_expect_contains"] == "{{ tok }}"
    [plain] = builder(SECRET).proc.final_validation.health
    assert all("no_log" not in t for t in builder(SECRET)._health("Final", plain, ["final_validation"]))


def test_a_rollback_block_without_a_condition_only_skips_check_mode() -> None:
    # procc rollback (compiler.rollbackplay) builds its blocks without a condition.
    b = builder()
    step = b.proc.steps[0]
    assert step.rollback is not None
    block = b.rollback_block("Step 1 | Rollback", "Step 1 | Rollback | Crear marca", step.rollback, "Step 1 |", "1")
    assert block["when"] == "not ansible_check_mode"
    assert block["vars"] == {"procc_step": 1, "procc_kind": "rollback"}
    full = b.rollback_block("Step R1 | Full", "Step R1 | Borrar", step.rollback, "Step R1 |", "'R1'", "x")
    assert full["when"] == "x and not ansible_check_mode"
    assert full["vars"] == {"procc_step": "R1", "procc_kind": "rollback"}
    assert full["block"][1]["ansible.builtin.set_fact"] == {"procc_rolled_back": "{{ procc_rolled_back + ['R1'] }}"}


def test_add_when_keeps_a_condition_whole() -> None:
    task: dict[str, Any] = {"when": "procc_a"}
    pb._add_when(task, "procc_b")
    assert task == {"when": ["procc_a", "procc_b"]}


def probe(text: str, *, mutating: bool, when: str | None = None, kind: str = "run") -> dict[str, Any]:
    b = builder(text)
    check = b.proc.preflight[0]
    return b.checked("P", check.title, check, check.expect, check.retries, check.delay, ["t"],
                     mutating=mutating, when=when)


def test_a_mutating_command_probe_is_skipped_under_check_a_module_probe_is_not() -> None:
    assert probe(CLEAN, mutating=True)["when"] == "not ansible_check_mode"
    assert probe(CLEAN, mutating=True, when="x")["when"] == "x"
    assert "when" not in probe(CLEAN, mutating=False)
    module = CLEAN.replace("    run: test -d {{ workdir }}\n", "    task: {ansible.builtin.stat: {path: /tmp}}\n")
    task = probe(module, mutating=True)
    assert "when" not in task
    assert task["ansible.builtin.stat"] == {"path": "/tmp"}


def test_a_role_probe_is_judged_by_the_role_alone() -> None:
    role = CLEAN.replace("    run: test -d {{ workdir }}\n", "    role: demo\n    retries: 2\n    delay: 1\n")
    task = probe(role, mutating=False)
    assert task["tags"] == ["t"]
    assert not {"until", "retries", "delay", "failed_when"} & set(task)


def test_a_probe_matching_a_secret_pattern_is_hidden() -> None:
    text = SECRET.replace("    run: test -d {{ workdir }}\n",
                          "    run: test -d {{ workdir }}\n    expect: {stdout_regex: \"{{ tok }}\"}\n")
    assert probe(text, mutating=False)["no_log"] is True
    assert "no_log" not in probe(SECRET, mutating=False)


def test_without_a_full_rollback_a_failed_final_validation_is_a_failure() -> None:
    bare = CLEAN.replace("  steps:\n    - title: Borrar la marca\n      run: rm -f {{ workdir }}/marca\n", "")
    outcome = [next(t for t in builder(src).outcome_play()["tasks"] if t["name"] == "Procc | Result")["vars"]
               ["procc_o"] for src in (bare, CLEAN)]
    assert "{{ 'rolled-back' if false else 'failed' }}" in outcome[0]
    assert "{{ 'rolled-back' if true else 'failed' }}" in outcome[1]


def test_a_text_default_is_never_templated() -> None:
    text = CLEAN.replace("    default: /tmp/procc-lint", "    default: /tmp/{{ x }}\n  count: {type: int, default: 3}")
    defaults = builder(text).parameter_defaults()
    assert defaults == {"procc_default_count": 3, "procc_default_workdir": "/tmp/{{ x }}"}
    assert isinstance(defaults["procc_default_workdir"], Unsafe)
    assert not isinstance(defaults["procc_default_count"], Unsafe)
    assert 'procc_default_workdir: !unsafe "/tmp/{{ x }}"' in pb.render(parse_text(text, "p.yml"))


def test_a_required_parameter_with_a_default_is_checked_through_its_default() -> None:
    text = CLEAN.replace("    default: /tmp/procc-lint", "    default: /tmp/procc-lint\n    required: true")
    that = builder(text).parameter_check()["ansible.builtin.assert"]["that"]
    assert that[0] == "((workdir | default(procc_default_workdir)) | string | length) > 0"


def test_ordered_leaves_a_plays_vars_in_their_order() -> None:
    play = {"hosts": "all", "vars": {"block": 1, "a": 2}, "tasks": []}
    assert list(pb._ordered(play)["vars"]) == ["block", "a"]


def test_without_any_rollback_the_outcome_play_has_no_fleet_rollback() -> None:
    bare = CLEAN.replace("    rollback:\n      run: rm -f {{ workdir }}/marca\n", "")
    assert len(builder(bare).outcome_play()["tasks"]) == 4  # fleet, result, drill passed, summary
    # With a rollback, the fleet's is in a play of its own (compiler.playbook.fleet_play), not here.
    assert builder(bare).fleet_play() is None
    assert len([t for t in builder(CLEAN).fleet_play()["tasks"] if "block" in t]) == 1  # type: ignore[index]
    assert not [t for t in builder(CLEAN).outcome_play()["tasks"] if "block" in t]


def test_a_validation_that_changes_something_says_so() -> None:
    text = CLEAN.replace("      run: test -f {{ workdir }}/marca\n", "      run: test -f {{ workdir }}/marca\n"
                         "      changes: true\n")
    b = builder(text)
    [check] = [t for t in b.step(1, b.proc.steps[0])["block"] if t.get("vars", {}).get("procc_kind") == "validate"]
    assert check["changed_when"] is True
    assert check["when"] == ["not ansible_check_mode", "procc_lost | length == 0"]
    assert "check_mode" not in check


def test_render_and_build_default_to_spanish() -> None:
    proc = parse_text(CLEAN, "p.yml")
    assert pb.render(proc) == pb.render(proc, "es")
    assert pb.build(proc) == pb.build(proc, "es")


def test_a_command_with_a_changes_condition_outside_a_step_registers_its_result() -> None:
    from compiler.model import ChangesWhen, RollbackAction

    act = RollbackAction(run="echo x", changes=ChangesWhen(rc=3))
    task = builder().action(act, mutating=True)
    assert task["register"] == "procc_out"
    assert task["changed_when"] == "procc_out.rc == 3"
    assert task["failed_when"] == "procc_out.rc not in [0, 3]"


def test_jinja_left_in_a_command_is_printed_literally() -> None:
    # parse() refuses an undeclared reference; the builder still never lets one reach Ansible's templating.
    from compiler.model import RollbackAction

    task = builder().action(RollbackAction(run="echo {{ undeclared }}"), mutating=True)
    cmd = task["ansible.builtin.shell"]["cmd"]
    assert "{{ undeclared }}" not in cmd
    assert cmd.endswith("echo {{ '{{' }} undeclared }}")
