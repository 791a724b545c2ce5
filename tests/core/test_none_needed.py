"""``rollback: {none-needed: <reason>}`` in the model, the runbook, the playbook, the schema and lint.

The real drills are in tests/run/test_none_needed.py; bad spellings are
fixtures in tests/fixtures/bad/ (rollback-none-needed-*).
"""

from __future__ import annotations

import yaml

from compiler import playbook, runbook
from compiler.lint.engine import lint_files
from compiler.parse import parse_file
from compiler.schema import schema
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "procedures" / "PROC-TEST-030-nothing-to-undo.yml"
REASON = "la cache se regenera sola; vaciarla no cambia ningun dato"


def test_the_model_reads_the_reason_and_tells_the_three_kinds_apart() -> None:
    steps = parse_file(FIXTURE).procedure.steps
    assert [s.undo for s in steps] == ["rollback", "none-needed", "rollback"]
    assert steps[1].none_needed == REASON and steps[1].rollback is None and steps[1].irreversible is None


def test_the_runbook_says_there_is_nothing_to_undo_in_both_languages() -> None:
    proc = parse_file(FIXTURE).procedure
    es = runbook.render(proc, "es")
    en = runbook.render(proc, "en")
    assert f"**Nada que deshacer:** {REASON}" in es
    assert f"**Nothing to undo:** {REASON}" in en
    assert "**Rollback Disponible:** NO HACE FALTA" in es and "**Rollback Available:** NOT NEEDED" in en
    assert "irreversible" not in es.lower()


def test_the_playbook_counts_a_started_none_needed_step_as_rolled_back() -> None:
    plays = yaml.safe_load(playbook.render(parse_file(FIXTURE).procedure, "en"))
    found = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("name") == "Step 2 | Nothing to undo":
                found.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(plays)
    assert found, "no 'Nothing to undo' task for step 2"
    for task in found:
        assert task["ansible.builtin.set_fact"] == {"procc_rolled_back": "{{ procc_rolled_back + [2] }}"}
        assert task["vars"] == {"procc_step": 2, "procc_kind": "rollback-ok"}
        assert "2 in procc_started" in task["when"]


def test_the_schema_offers_the_form_and_hides_the_internal_field() -> None:
    step = schema()["$defs"]["Step"]["properties"]
    assert "none-needed" not in step and "none_needed" not in step
    forms = step["rollback"]["anyOf"]
    assert {"type": "object", "title": "NoneNeeded", "required": ["none-needed"]}.items() <= forms[0].items()


def test_lint_accepts_none_needed_as_the_answer_to_a_missing_rollback() -> None:
    result = lint_files([(FIXTURE, FIXTURE.name)])
    assert not [d for d in result.findings if d.code == "step-missing-rollback"]
