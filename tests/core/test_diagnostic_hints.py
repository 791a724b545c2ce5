"""Diagnostics that say the fix (issue 13, item 8): every YAML error of a file in
one pass, a hint for each common YAML mistake, the keys allowed where an
unknown one is, "did you mean" for an undeclared name."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import yamlhints
from compiler.errors import CompileError
from compiler.loader import load_text
from compiler.parse import parse_text

CLEAN = (Path(__file__).parents[1] / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")


def _errors(text: str) -> list[str]:
    with pytest.raises(CompileError) as exc:
        parse_text(text, "p.yml")
    return [d.format() for d in exc.value.diagnostics]


def _yaml_errors(text: str) -> list[str]:
    with pytest.raises(CompileError) as exc:
        load_text(text, "p.yml")
    return [d.format() for d in exc.value.diagnostics]


def test_every_recoverable_yaml_error_is_reported_in_one_pass() -> None:
    text = ("a: 1\n"
            "run: curl -H Authorization: Bearer x\n"
            "b: 2\n"
            "task: {shell: echo {{ x }}}\n"
            "c: 'never closed\n")
    got = _yaml_errors(text)
    assert [g.split(": error: ")[0] for g in got] == ["p.yml:2:27", "p.yml:4:20", "p.yml:5:4"]
    assert yamlhints.QUOTE_COLON in got[0]
    assert yamlhints.QUOTE_IN_FLOW in got[1]
    assert yamlhints.UNCLOSED_QUOTE in got[2]
    assert all(g.endswith("[yaml-syntax]") for g in got)


def test_a_blanked_line_never_invents_an_earlier_error() -> None:
    # Blanking line 2 leaves valid YAML: one error, not an echo of the blanking.
    assert len(_yaml_errors("a:\n  - b: c: d\n  - e\n")) == 1


@pytest.mark.parametrize(("line", "fix"), [
    ("run: {{ base_dir }}/bin/start", yamlhints.QUOTE_JINJA),
    ("run: {{ base_dir }}", yamlhints.QUOTE_JINJA),
    ("run: curl -H Authorization: Bearer {{ token }}", yamlhints.QUOTE_COLON),
    ("task: {ansible.builtin.shell: echo {{ x }}}", yamlhints.QUOTE_IN_FLOW),
    ("\trun: echo", yamlhints.NO_TABS),
])
def test_each_common_yaml_mistake_gets_its_fix(line: str, fix: str) -> None:
    text = CLEAN.replace("    run: touch {{ workdir }}/marca", "    " + line.lstrip("\t") if "\t" not in line
                         else "\t" + line.lstrip("\t"), 1)
    got = _yaml_errors(text)
    assert any(fix in g for g in got), got


def test_no_hint_for_an_error_without_a_known_fix() -> None:
    assert yamlhints.hint("while parsing a block mapping did not find expected key", "b: 2") is None


def test_an_unknown_key_without_a_close_match_lists_the_keys_allowed_there() -> None:
    text = CLEAN.replace('{url: "http://localhost:8080/health", status: 200}',
                         '{url: "https://localhost:8443/health", status: 200, verify_tls_certs: false}')
    got = _errors(text)
    assert len(got) == 1 and "unknown key 'verify_tls_certs'; allowed here: url, " in got[0], got
    assert got[0].endswith("[unknown-key]")


def test_an_undeclared_name_gets_did_you_mean() -> None:
    got = _errors(CLEAN.replace("touch {{ workdir }}/marca", "touch {{ wrkdir }}/marca"))
    assert got == ["p.yml:29:16: error: '{{ wrkdir }}' is not a declared parameter (did you mean "
                   "'{{ workdir }}'?); declare it under 'parameters' [undeclared-parameter]"]


def test_a_procc_name_that_does_not_exist_is_not_to_be_declared() -> None:
    got = _errors(CLEAN.replace("touch {{ workdir }}/marca", "echo {{ procc_status }}"))
    assert len(got) == 1
    assert "'{{ procc_status }}' is not one of the built-in variables (" in got[0]
    assert "procc_run_id" in got[0] and "declare it" not in got[0]


def test_procc_workdir_is_not_a_builtin_since_no_playbook_defines_it() -> None:
    got = _errors(CLEAN.replace("touch {{ workdir }}/marca", "touch {{ procc_workdir }}/marca"))
    assert "did you mean '{{ workdir }}'?" in got[0]


def _emitted_codes() -> set[str]:
    """Every literal diagnostic code in the compiler's source (Diagnostic(..., "code") and
    the names parse.py chooses between)."""
    import ast

    root = Path(__file__).parents[2] / "compiler"
    found: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Diagnostic":
                code = node.args[3] if len(node.args) >= 4 else None
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    found.add(code.value)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and any(isinstance(t, ast.Name) and t.id in ("UNKNOWN_RULE", "UNUSED_SUPPRESSION")
                            for t in node.targets):
                found.add(str(node.value.value))
    from compiler import parse

    found |= {parse._code_for(k) for k in ("value_error", "literal_error", "int_type")}
    found |= {"undeclared-parameter", "template-expression"}  # parse.py picks one by the problem
    return found


def test_procc_explain_documents_every_diagnostic_code(procc) -> None:  # type: ignore[no-untyped-def]
    from compiler import codes

    emitted = _emitted_codes()
    assert len(emitted) >= 20
    missing = sorted(c for c in emitted if codes.explain(c) is None)
    assert missing == [], f"codes without an entry in compiler/codes.py: {missing}"
    res = procc("explain", "yaml-syntax")
    assert res.code == 0 and "'run: |'" in res.out
    res = procc("explain", "ansible-lint:fqcn[action-core]")
    assert res.code == 0 and "compiler bug" in res.out
    res = procc("explain", "no-such-code")
    assert res.code == 2 and "no rule or diagnostic code 'no-such-code'" in res.err


def test_an_unclosed_bracket_is_reported_where_it_opens_once() -> None:
    # PyYAML notices on the next line; the mistake, and the only error, is the open '['.
    text = CLEAN.replace("minutes: 2", "minutes: [2")
    got = _yaml_errors(text)
    line = text.splitlines().index("    minutes: [2") + 1
    assert len(got) == 1 and got[0].startswith(f"p.yml:{line}:14: ") and yamlhints.UNCLOSED_FLOW in got[0]


def test_text_that_yaml_read_as_a_mapping_gets_the_quoting_fix() -> None:
    # Found writing PROC-BACKEND-008: a list item with ': ' inside parses, as a one-key mapping.
    what = "  what: Fixture minimo y limpio para las reglas de lint.\n"
    text = CLEAN.replace(what, what + "  when_not:\n    - Si la CA caduca: rotarla antes\n", 1)
    assert "when_not:" in text
    (got,) = _errors(text)
    assert "purpose.when_not[0]: Input should be a valid string" in got
    assert "YAML read it as the mapping 'Si la CA caduca: ...'" in got and "quote the whole text" in got
