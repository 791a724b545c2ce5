"""Direct tests of compiler.parse: every validation problem with its exact position, message and code."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from compiler import model, parse
from compiler.errors import CompileError, Diagnostic, Position
from compiler.loader import load_text
from compiler.parse import parse_file, parse_text, validate

CLEAN = (Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")


def diags(text: str) -> list[str]:
    with pytest.raises(CompileError) as exc:
        parse_text(text, "p.yml")
    return [d.format() for d in exc.value.diagnostics]


def edit(old: str, new: str) -> str:
    assert old in CLEAN, old
    return CLEAN.replace(old, new, 1)


def test_clean_source_parses() -> None:
    proc = parse_text(CLEAN, "p.yml")
    assert proc.id == "PROC-TEST-100"
    assert [s.title for s in proc.steps] == ["Crear marca"]


def test_parse_file_keeps_the_display_name_and_the_digest(tmp_path: Path) -> None:
    path = tmp_path / "x.yml"
    path.write_text(CLEAN, encoding="utf-8")
    src = parse_file(path, "shown.yml")
    assert (src.path, src.display, src.sha256) == (path, "shown.yml", hashlib.sha256(CLEAN.encode()).hexdigest())
    assert src.smap.path == "shown.yml"
    assert src.procedure.id == "PROC-TEST-100"
    assert parse_file(path).display == str(path)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("title: Fixture de lint", "titel: Fixture de lint",
     ["p.yml:3:1: error: missing required key 'title' in the procedure [missing-key]",
      "p.yml:5:1: error: unknown key 'titel' (did you mean 'title'?) [unknown-key]"]),
    ("    minutes: 2", "    minuts: 2",
     ["p.yml:27:5: error: missing required key 'minutes' in Paso 1 (steps[0]) [missing-key]",
      "p.yml:28:5: error: unknown key 'minuts' (did you mean 'minutes'?) [unknown-key]"]),
    ("    validate:\n      run: test", "    validate:\n      rnu: x\n      run: test",
     ["p.yml:32:7: error: unknown key 'rnu' (did you mean 'run'?) [unknown-key]"]),
    ("  tools:\n    - {name: bash,", "  tools:\n    - {nmae: x, name: bash,",
     ["p.yml:20:8: error: unknown key 'nmae' (did you mean 'name'?) [unknown-key]"]),
    ("hosts: all", "hosts: all\nzzzzzz: 1", ["p.yml:14:1: error: unknown key 'zzzzzz'; allowed here: id, type, category, title, criticality, "
      "frequency, estimated_minutes, version, updated, author, reviewers, hosts, serial, max_fail_percentage, "
      "throttle, forks, become, backups, parameters, purpose, prerequisites, preflight, steps, final_validation, rollback, "
      "troubleshooting, post, references, annexes, changelog, approvals, continuous_improvement, lint [unknown-key]"]),
    ("criticality: medium", "criticality: extreme",
     ["p.yml:6:14: error: criticality: Input should be 'critical', 'high', 'medium' or 'low' [invalid-choice]"]),
    ("estimated_minutes: 10", "estimated_minutes: -1",
     ["p.yml:8:20: error: estimated_minutes: Input should be greater than 0 [invalid-value]"]),
    ("estimated_minutes: 10", "estimated_minutes: [1]",
     ["p.yml:8:20: error: estimated_minutes: Input should be a valid number [wrong-type]"]),
    ("    default: /tmp/procc-lint", "    default: /tmp/procc-lint\n    env: 'bad name'",
     ["p.yml:18:10: error: parameters.workdir.env: env must be an environment variable name [invalid-value]"]),
    ("  - title: Crear marca", "  - id: a\n    title: Uno\n    minutes: 1\n    run: 'true'\n    irreversible: x\n"
     "  - id: a\n    title: Crear marca",
     ["p.yml:32:9: error: duplicate step id 'a' (first used by Paso 1 (steps[0])) [duplicate-step-id]"]),
    ("    run: touch {{ workdir }}/marca", "    run: touch {{ nope }}/marca",
     ["p.yml:29:16: error: '{{ nope }}' is not a declared parameter; declare it under 'parameters' "
      "[undeclared-parameter]"]),
    ("    run: touch {{ workdir }}/marca", "    run: |\n      touch x\n      ls {{ a.b }}",
     ["p.yml:31:10: error: attribute access inside '{{ }}' is not allowed: only a declared parameter, "
      "optionally with filters taking literal arguments [template-expression]"]),
    ("    run: touch {{ workdir }}/marca", "    task: {ansible.builtin.shell: 'echo {{ workdir }}'}",
     ["p.yml:29:41: error: '{{ workdir }}' in the command of 'ansible.builtin.shell' would become shell syntax: "
      "use 'run:' instead, where parameters reach bash as variables [unsafe-shell-use]"]),
    ("    run: touch {{ workdir }}/marca", "    task: {ansible.builtin.command: {cmd: 'echo {{ workdir }}'}}",
     ["p.yml:29:49: error: '{{ workdir }}' in the 'cmd' of 'ansible.builtin.command' is split into words or run "
      "by a shell: use 'argv:' (one list item per argument), or 'run:' [unsafe-shell-use]"]),
    ("    run: touch {{ workdir }}/marca", "    task: {ansible.builtin.win_shell: {cmd: 'echo {{ workdir }}'}}",
     ["p.yml:29:51: error: '{{ workdir }}' in the 'cmd' of 'ansible.builtin.win_shell' is split into words or run "
      "by a shell: use 'argv:' (one list item per argument), or 'run:' [unsafe-shell-use]"]),
])
def test_validation_problems(old: str, new: str, expected: list[str]) -> None:
    assert diags(edit(old, new)) == expected


@pytest.mark.parametrize("task", [
    "{ansible.builtin.copy: {content: '{{ workdir }}', dest: /tmp/x}}",
    "{ansible.builtin.command: {argv: [echo, '{{ workdir }}']}}",
    "{ansible.builtin.shell: 'echo hola'}",
    "{ansible.builtin.command: {cmd: 'echo hola'}}",
    "{ansible.builtin.copy: {cmd: '{{ workdir }}'}}",
])
def test_tasks_that_are_accepted(task: str) -> None:
    parse_text(edit("    run: touch {{ workdir }}/marca", f"    task: {task}"), "p.yml")


def test_documentation_only_sections_are_not_checked_for_parameters() -> None:
    parse_text(edit("    solution: Crearlo con mkdir -p", "    solution: 'mkdir {{ x.y }}'\n    commands: '{{ x.y }}'"),
               "p.yml")


def test_purpose_text_is_not_executed() -> None:
    parse_text(edit("  what: Fixture", "  what: Fixture {{ x.y }}"), "p.yml")


def test_a_run_outside_an_executed_key_is_still_checked_where_executed() -> None:
    # "vars" values are executed: a reference there must be declared.
    text = edit("    run: touch {{ workdir }}/marca",
                "    role: demo\n    vars: {a: '{{ nope }}'}")
    assert diags(text) == ["p.yml:30:16: error: '{{ nope }}' is not a declared parameter; "
                           "declare it under 'parameters' [undeclared-parameter]"]


def test_a_procedure_must_be_a_mapping() -> None:
    assert diags("- 1\n") == ["p.yml:1:1: error: a procedure must be a YAML mapping [type]"]
    assert diags("text\n") == ["p.yml:1:1: error: a procedure must be a YAML mapping [type]"]


def test_validate_collects_semantic_problems_even_when_the_model_fails() -> None:
    data, smap = load_text(edit("criticality: medium", "criticality: x").replace("{{ workdir }}/marca\n    expected",
                                                                                 "{{ nope }}/marca\n    expected"),
                           "p.yml")
    with pytest.raises(CompileError) as exc:
        validate(data, smap)
    assert [d.code for d in exc.value.diagnostics] == ["invalid-choice", "undeclared-parameter"]


def test_dedupe_keeps_the_first_of_identical_diagnostics() -> None:
    a = Diagnostic("p", Position(1, 2), "m", "c")
    b = Diagnostic("p", Position(1, 2), "other", "c")
    c = Diagnostic("q", Position(1, 2), "m", "c")
    d = Diagnostic("p", Position(1, 3), "m", "c")
    e = Diagnostic("p", Position(2, 2), "m", "c")
    f = Diagnostic("p", Position(1, 2), "m", "k")
    out = parse._dedupe([a, a, b, c, d, e, f, b])
    assert [(x.path, x.pos, x.message, x.code) for x in out] == [
        ("p", Position(1, 2), "m", "c"), ("p", Position(1, 2), "other", "c"), ("q", Position(1, 2), "m", "c"),
        ("p", Position(1, 3), "m", "c"), ("p", Position(2, 2), "m", "c"), ("p", Position(1, 2), "m", "k")]


def test_model_at_follows_keys_and_indexes() -> None:
    assert parse._model_at(()) is model.Procedure
    assert parse._model_at(("steps", 0)) is model.Step
    assert parse._model_at(("purpose",)) is model.Purpose
    assert parse._model_at(("nope",)) is None
    assert parse._model_at(("title", "x")) is None
    assert parse._model_at(("title",)) is None


def test_inner_model() -> None:
    assert parse._inner_model(model.Step) is model.Step
    assert parse._inner_model(list[model.Step]) is model.Step
    assert parse._inner_model(dict[str, list[model.Step] | None]) is model.Step
    assert parse._inner_model(int) is None
    assert parse._inner_model(list[int]) is None


def test_field_by_key_uses_the_alias() -> None:
    assert parse._field_by_key(model.Purpose, "what") is model.Purpose.model_fields["what"]
    assert parse._field_by_key(model.Purpose, "nope") is None
    assert parse._keys_of(model.Impact) == ["users", "systems", "data", "sla"]


@pytest.mark.parametrize(("loc", "text"), [
    ((), "document"), (("steps",), "steps"), (("steps", 1, "run"), "Paso 2 (steps[1].run)"), ((0, "a"), "[0].a"),
    (("a", "b", 2, 3), "a.b[2][3]"),
])
def test_loc_text(loc: tuple[str | int, ...], text: str) -> None:
    assert parse._loc_text(loc) == text


@pytest.mark.parametrize(("kind", "code"), [
    ("value_error", "invalid-value"), ("assertion_error", "invalid-value"), ("greater_than", "invalid-value"),
    ("greater_than_equal", "invalid-value"), ("less_than", "invalid-value"), ("less_than_equal", "invalid-value"),
    ("literal_error", "invalid-choice"), ("enum", "invalid-choice"), ("int_type", "wrong-type"),
    ("string_type", "wrong-type"), ("missing", "wrong-type"),
])
def test_code_for(kind: str, code: str) -> None:
    assert parse._code_for(kind) == code


def test_duplicate_step_ids_skip_what_is_not_a_step() -> None:
    _, smap = load_text("steps: [{id: a}, 3, {id: 5}, {id: a}, {id: b}, {id: b}, {id: a}]", "p.yml")
    data = {"steps": [{"id": "a"}, 3, {"id": 5}, {"id": "a"}, {"id": "b"}, {"id": "b"}, {"id": "a"}]}
    assert [d.message for d in parse._duplicate_step_ids(data, smap)] == [
        "duplicate step id 'a' (first used by Paso 1 (steps[0]))", "duplicate step id 'b' (first used by Paso 5 (steps[4]))",
        "duplicate step id 'a' (first used by Paso 1 (steps[0]))"]
    assert list(parse._duplicate_step_ids({"steps": {"a": 1}}, smap)) == []
    assert list(parse._duplicate_step_ids({}, smap)) == []


def test_executed_strings() -> None:
    data = {"troubleshooting": [{"run": "x"}], "steps": [{"run": "a", "title": "t", "task": {"m": {"k": ["b"]}}}],
            "url": "u", "annexes": {"run": "y"}, "n": {"contains": 5}}
    assert list(parse._executed_strings(data, (), executed=False)) == [
        (("steps", 0, "run"), "a"), (("steps", 0, "task", "m", "k", 0), "b"), (("url",), "u")]
    assert list(parse._executed_strings({"x": {"troubleshooting": "z"}}, (), executed=True)) == [
        (("x", "troubleshooting"), "z")]


def test_shell_problems_point_inside_block_scalars() -> None:
    assert diags(edit("    run: touch {{ workdir }}/marca", "    run: |\n      touch x\n      echo $(( {{ workdir }} + 1 ))")) == [
        "p.yml:31:16: error: '{{ workdir }}' is used in bash arithmetic, where a value is evaluated as code: declare "
        "'workdir' with type: int (or port), or compare it as text [unsafe-shell-use]"]
    assert diags(edit("    run: touch {{ workdir }}/marca",
                      "    task:\n      ansible.builtin.shell: |\n        ls\n        echo {{ workdir }}")) == [
        "p.yml:32:14: error: '{{ workdir }}' in the command of 'ansible.builtin.shell' would become shell syntax: "
        "use 'run:' instead, where parameters reach bash as variables [unsafe-shell-use]"]


def test_a_parameter_with_choices_is_inert_in_bash() -> None:
    text = edit("    default: /tmp/procc-lint", "    default: a\n    choices: [a, b]").replace(
        "    run: touch {{ workdir }}/marca", "    run: echo $(( {{ workdir }} + 1 ))")
    parse_text(text, "p.yml")


def test_unknown_key_hint_comes_from_the_owning_model() -> None:
    assert diags(edit("  what: Fixture", "  wat: Fixture")) == [
        "p.yml:22:3: error: missing required key 'what' in purpose [missing-key]",
        "p.yml:22:3: error: unknown key 'wat' (did you mean 'what'?) [unknown-key]"]


def test_model_at_skips_indexes_and_keeps_going() -> None:
    assert parse._model_at(("steps", 0, "rollback")) is model.RollbackAction
    assert parse._model_at(("rollback", "steps", 0)) is model.RollbackStep
    assert parse._model_at(("final_validation", "health", 0)) is model.HealthCheck
    assert parse._model_at(("steps", 0, "validate")) is parse._inner_model(model.Step.model_fields["validate_"].annotation)


def test_parse_text_default_display_name() -> None:
    with pytest.raises(CompileError) as exc:
        parse_text("- 1\n")
    assert [d.format() for d in exc.value.diagnostics] == [
        "<string>:1:1: error: a procedure must be a YAML mapping [type]"]


def test_short_module_names_are_checked_too() -> None:
    assert diags(edit("    run: touch {{ workdir }}/marca", "    task: {command: {cmd: 'echo {{ workdir }}'}}")) == [
        "p.yml:29:33: error: '{{ workdir }}' in the 'cmd' of 'command' is split into words or run by a shell: "
        "use 'argv:' (one list item per argument), or 'run:' [unsafe-shell-use]"]
    assert diags(edit("    run: touch {{ workdir }}/marca", "    task: {shell: 'echo {{ workdir }}'}")) == [
        "p.yml:29:25: error: '{{ workdir }}' in the command of 'shell' would become shell syntax: "
        "use 'run:' instead, where parameters reach bash as variables [unsafe-shell-use]"]
