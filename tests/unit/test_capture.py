"""Captured values: the format, the scoping errors, the lean playbook and the runbook (goldens).

The real runs are in tests/run/test_capture.py; these read the model, the
diagnostics (each with its position and code), the playbook's data and the
runbook's text of PROC-TEST-050 (stdout, JSON and regex captures used by
later steps, validations, rollbacks, a metric threshold and a post action).
"""

from __future__ import annotations

import re

import pytest
import yaml

from compiler import params, playbook, quickcard, runbook
from compiler.errors import CompileError, UsageError
from compiler.i18n import Lang
from compiler.parse import parse_text
from tests.conftest import FIXTURES
from tests.support.golden import REPO, check_golden

SOURCE = (FIXTURES / "procedures" / "PROC-TEST-050-captures.yml").read_text(encoding="utf-8")
GOLDEN = REPO / "tests" / "golden" / "capture"


def diags(text: str) -> list[str]:
    try:
        parse_text(text, "p.yml")
    except CompileError as exc:
        return [d.format() for d in exc.diagnostics]
    return []


def edit(old: str, new: str) -> str:
    assert old in SOURCE, old
    return SOURCE.replace(old, new, 1)


def test_the_fixture_compiles() -> None:
    proc = parse_text(SOURCE, "p.yml")
    assert list(proc.steps[1].capture) == ["version", "offset"]
    assert proc.steps[1].capture["offset"].kind == "regex" and proc.steps[1].capture["offset"].group


# -- scoping and positioned errors -----------------------------------------------------------


def test_a_capture_used_in_an_earlier_step_is_an_error_at_the_use() -> None:
    text = edit("      wc -l < {{ workdir }}/rows\n", "      wc -l < {{ workdir }}/rows {{ banner }}\n")
    (d,) = diags(text)
    assert d.startswith("p.yml:34:34: error: '{{ banner }}' is used in Paso 1 (steps[0]) but captured only "
                        "by Paso 3 (steps[2])")
    assert d.endswith("[capture-used-too-early]")


def test_a_step_command_cannot_read_its_own_capture_but_its_validation_can() -> None:
    (d,) = diags(edit("      cat {{ workdir }}/meta.json\n", "      cat {{ workdir }}/meta.json {{ version }}\n"))
    assert ":45:35: error: '{{ version }}' is captured by this step (Paso 2 (steps[1]))" in d
    assert "[capture-used-too-early]" in d
    # The fixture's step 2 validation reads {{ version }}: no error there.
    assert diags(SOURCE) == []


def test_pre_flight_cannot_read_a_capture() -> None:
    (d,) = diags(edit("    run: test -d {{ workdir }}\n", "    run: test -d {{ workdir }}{{ rows_before }}\n"))
    assert "is used in pre-flight but captured only by Paso 1" in d and "[capture-used-too-early]" in d


def test_a_typo_in_a_captured_name_gets_did_you_mean() -> None:
    (d,) = diags(edit("> {{ workdir }}/rolled4", "> {{ workdir }}/rolled4 {{ rows_befor }}"))
    assert "'{{ rows_befor }}' is not a declared parameter (did you mean '{{ rows_before }}'?)" in d
    assert d.endswith("[undeclared-parameter]")


@pytest.mark.parametrize(("name", "why"), [
    ("workdir", "a parameter is named 'workdir' too"),
    ("procc_run_id", "must be a lowercase identifier not starting with procc_"),
    ("inventory_hostname", "is reserved by Ansible or Jinja"),
    ("version", "Paso 2 (steps[1]) captures 'version' already"),
])
def test_a_name_clash_is_an_error_at_the_capture(name: str, why: str) -> None:
    text = edit("      banner: {stdout: true}\n", f"      {name}: {{stdout: true}}\n      banner: {{stdout: true}}\n")
    found = [d for d in diags(text) if "[capture-name-clash]" in d]
    assert len(found) == 1 and why in found[0], diags(text)
    assert re.match(r"p\.yml:6[0-9]:[0-9]+: error: ", found[0])


@pytest.mark.parametrize(("spec", "code", "message"), [
    ("{regex: 'offset=(\\d+'}", "capture-bad-regex", "invalid regular expression: missing )"),
    ("{regex: 'x*'}", "capture-bad-regex", "matches the empty text"),
    ("{json: 'data..version'}", "capture-bad-json-path", "invalid JSON path 'data..version'"),
    ("{json: '{{ x }}'}", "capture-bad-json-path", "invalid JSON path"),
    ("{stdout: true, regex: x}", "invalid-value", "exactly one of stdout: true, json: <path> or regex: <regex>"),
    ("{stdout: false}", "invalid-choice", ""),
    ("{regexp: x}", "unknown-key", "did you mean 'regex'"),
    ("{stdout: true, type: bool}", "invalid-choice", ""),
])
def test_a_bad_capture_spec_is_an_error_with_its_code(spec: str, code: str, message: str) -> None:
    found = diags(edit("      banner: {stdout: true}\n", f"      banner: {spec}\n"))
    assert found and all(f"[{code}]" in d for d in found), found
    assert message in found[0]
    assert found[0].startswith("p.yml:6")


def test_a_capture_needs_a_run_step() -> None:
    text = edit("    run: |\n      cat {{ workdir }}/banner\n",
                "    task: {ansible.builtin.command: {argv: [cat, banner]}}\n")
    assert any("'capture' reads a command's output: it is only for 'run' steps" in d for d in diags(text))


def test_a_threshold_names_a_numeric_capture() -> None:
    (d,) = diags(edit('above: "{{ rows_before }}"', 'above: "{{ version }}"'))
    assert "names a value captured as type 'string' (Paso 2 (steps[1]))" in d and "[invalid-value]" in d
    (d,) = diags(edit('above: "{{ rows_before }}"', 'above: "{{ rows_befor }}"'))
    assert "did you mean '{{ rows_before }}'" in d and "[undeclared-parameter]" in d


# -- the playbook: lean, and every value data ---------------------------------------------------


def plays() -> list[dict[str, object]]:
    return yaml.safe_load(playbook.render(parse_text(SOURCE, "p.yml"), "en").replace("!unsafe", ""))


def test_one_check_per_capturing_step_and_none_for_the_others() -> None:
    run_play = plays()[0]
    text = yaml.safe_dump(run_play)
    names = re.findall(r"name: (Step \d \| Capture [a-z_, ]+)", text)
    assert names == ["Step 1 | Capture rows_before", "Step 2 | Capture version, offset", "Step 3 | Capture banner"]


def test_the_captured_values_are_play_vars_of_both_plays_reading_the_step_results() -> None:
    run_play, outcome = plays()[:2]
    for play in (run_play, outcome):
        pvars = play["vars"]  # type: ignore[index]
        assert "procc_step_1.stdout" in pvars["rows_before"]
        assert "procc_step_2" in pvars["offset"] and "procc_step_3.stdout" in pvars["banner"]
        assert pvars["procc_captures"]["offset"]["re"] == "offset=(\\d+)"
        assert pvars["procc_captures"]["version"]["path"] == ["data", "version"]


def test_a_regex_with_jinja_reaches_ansible_unsafe() -> None:
    text = edit("offset: {regex: 'offset=(\\d+)', type: int}", "offset: {regex: 'o={{ 7*7 }}(\\d+)', type: int}")
    out = playbook.render(parse_text(text, "p.yml"), "en")
    assert 're: !unsafe "o={{ 7*7 }}(\\\\d+)"' in out
    assert 'how: !unsafe "regex o={{ 7*7 }}(\\\\d+) on the output, as int"' in out


def test_a_command_reads_a_capture_from_its_environment() -> None:
    text = yaml.safe_dump(plays()[0])
    assert "rows_before: '{{ rows_before }}'" in text
    assert '"${rows_before}"' in text


# -- the runbook (es and en) ------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["es", "en"])
def test_runbook_golden(request: pytest.FixtureRequest, lang: Lang) -> None:
    text = runbook.render(parse_text(SOURCE, "p.yml"), lang, source="p.yml")
    check_golden(request, text, GOLDEN / f"PROC-TEST-050-captures.{lang}.md")


def test_the_runbook_says_where_a_value_is_captured_and_where_it_is_used() -> None:
    es = runbook.render(parse_text(SOURCE, "p.yml"), "es", source="p.yml")
    en = runbook.render(parse_text(SOURCE, "p.yml"), "en", source="p.yml")
    assert "_`version`: valor capturado en Paso 2._" in es
    assert "_`version`: value captured in step 2._" in en
    assert "rows_before=''  # valor capturado en Paso 1" in es
    assert "- `offset`: el grupo 1 de la primera coincidencia de `offset=(\\d+)` en la salida (tipo `int`)" in es
    assert "- `version`: field `data.version` of the output, read as JSON" in en
    assert "`filas > {{ rows_before }}` (valor capturado en Paso 1)" in es


def test_the_quick_card_says_what_a_step_captures() -> None:
    card = quickcard.render(parse_text(SOURCE, "p.yml"), "en", source="p.yml")
    assert ("**Captured values:** `version`: field `data.version` of the output, read as JSON; `offset`: group 1 "
            "of the first match of `offset=(\\d+)` in the output (type `int`)") in card


# -- the values of procc rollback -------------------------------------------------------------


def test_procc_run_refuses_a_captured_name_and_procc_rollback_takes_it_checked() -> None:
    proc = parse_text(SOURCE, "p.yml")
    with pytest.raises(UsageError, match="'rows_before' is captured by Paso 1 during the run: it cannot be set"):
        params.resolve(proc, {"workdir": "/tmp", "rows_before": "3"})
    values, _ = params.resolve(proc, {"workdir": "/tmp", "rows_before": "3", "version": "v7"}, captured=True)
    assert values == {"workdir": "/tmp", "rows_before": "3", "version": "v7"}
    with pytest.raises(UsageError, match=r"captured value 'rows_before' \(int\) = '3; id' is not an integer"):
        params.resolve(proc, {"workdir": "/tmp", "rows_before": "3; id"}, captured=True)
    with pytest.raises(UsageError, match="unknown parameter 'nope'"):
        params.resolve(proc, {"workdir": "/tmp", "nope": "1"}, captured=True)
