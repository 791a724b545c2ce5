"""procc lint --outputs: ansible-lint, yamllint and pymarkdown at zero findings on the outputs.

A finding here is a compiler bug (fix the emitter), never a rule to disable.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from compiler.lint import outputs
from tests.conftest import ROOT


def test_tool_output_parsing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The three tools' report formats become positioned diagnostics."""
    import subprocess

    replies = {
        "yamllint": "playbooks/P.yml:3:5: [error] wrong indentation: expected 4 (indentation)\n",
        "pymarkdown": "docs/P.md:10:1: MD022: Headings should be surrounded by blank lines. (blanks-around-headings)\n",
        "ansible-lint": json.dumps([{"check_name": "[name[casing]]", "description": "All names should start with an uppercase letter.",
                                     "location": {"path": "playbooks/P.yml", "positions": {"begin": {"line": 7, "column": 9}}}}]),
    }

    def fake_run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        name = Path(argv[0]).name
        return subprocess.CompletedProcess(argv, 1 if name != "ansible-lint" else 2, replies[name], "")

    monkeypatch.setattr(outputs.subprocess, "run", fake_run)
    monkeypatch.setattr(outputs, "tool", lambda name: name)
    got = [d.format() for d in outputs.lint_outputs([ROOT / "playbooks/P.yml"], [ROOT / "docs/P.md"], ROOT)]
    assert got == [
        "docs/P.md:10:1: error: Headings should be surrounded by blank lines. (blanks-around-headings) "
        "[pymarkdown:MD022]",
        "playbooks/P.yml:3:5: error: wrong indentation: expected 4 [yamllint:indentation]",
        "playbooks/P.yml:7:9: error: All names should start with an uppercase letter. [ansible-lint:name[casing]]",
    ]


def test_missing_outputs_are_findings(tmp_path: Path) -> None:
    src = tmp_path / "procedures" / "PROC-TEST-1-x.yml"
    _, _, missing = outputs.generated_files([src], tmp_path, Path("docs"), Path("playbooks"))
    assert [(d.path, d.code) for d in missing] == [
        ("playbooks/PROC-TEST-1-x.yml", "output-missing"), ("docs/PROC-TEST-1-x.md", "output-missing")]


@pytest.mark.slow
@pytest.mark.ansible
def test_generated_outputs_pass_the_ecosystem_linters(procc: Any) -> None:
    res = procc("lint", "--outputs", "--strict", "--format=json")
    data = json.loads(res.out)
    assert data["findings"] == [], res.out
    assert res.code == 0
    n = len(list((ROOT / "procedures").glob("*.yml")))
    assert data["summary"]["files"] == 3 * n  # each source, its playbook and its runbook


@pytest.mark.slow
@pytest.mark.ansible
def test_real_linters_report_real_findings_with_positions(tmp_path: Path) -> None:
    """The three real tools on deliberately bad outputs: findings come back positioned."""
    import shutil

    for cfg in (".yamllint", ".pymarkdown.json"):
        shutil.copy(ROOT / cfg, tmp_path / cfg)
    pb = tmp_path / "bad.yml"
    pb.write_text("---\n- name: play\n  hosts: all   \n  tasks:\n    - shell: echo hi\n", encoding="utf-8")
    md = tmp_path / "bad.md"
    md.write_text("# Title\n## No blank line before\n", encoding="utf-8")
    got = [d.format() for d in outputs.lint_outputs([pb], [md], tmp_path)]
    assert "bad.md:2:1: error: Headings should be surrounded by blank lines. [Expected: 1; Actual: 0; Above] " \
           "(blanks-around-headings,blanks-around-headers) [pymarkdown:MD022]" in got, got
    assert "bad.yml:3:13: error: trailing spaces [yamllint:trailing-spaces]" in got, got
    assert "bad.yml:5:7: error: Use FQCN for builtin module actions (shell). [ansible-lint:fqcn[action-core]]" in got, got
    assert "bad.yml:2:9: error: All names should start with an uppercase letter. [ansible-lint:name[casing]]" in got, got


def test_a_project_without_linter_configuration_gets_the_shipped_defaults(tmp_path: Path) -> None:
    assert outputs.config(tmp_path, ".yamllint", "yamllint.yml") == outputs.DEFAULTS / "yamllint.yml"
    (tmp_path / ".yamllint").write_text("extends: relaxed\n")
    assert outputs.config(tmp_path, ".yamllint", "yamllint.yml") == tmp_path / ".yamllint"
    # procc's own project uses exactly the configuration it ships to others.
    assert (outputs.DEFAULTS / "yamllint.yml").read_text() == (ROOT / ".yamllint").read_text()
    assert (outputs.DEFAULTS / "pymarkdown.json").read_text() == (ROOT / ".pymarkdown.json").read_text()


@pytest.mark.slow
@pytest.mark.ansible
def test_lint_outputs_works_in_a_project_without_linter_configuration(tmp_path: Path) -> None:
    """Generated outputs copied into a bare directory: the shipped defaults apply, no tool fails."""
    import shutil

    stem = "PROC-BACKEND-000-health-check"
    pb = tmp_path / f"{stem}.yml"
    md = tmp_path / f"{stem}.md"
    shutil.copy(ROOT / "playbooks" / f"{stem}.yml", pb)
    shutil.copy(ROOT / "docs" / "backend" / "procedures" / f"{stem}.md", md)
    assert not (tmp_path / ".yamllint").exists() and not (tmp_path / ".pymarkdown.json").exists()
    yamllint_and_markdown = [d.format() for d in outputs.lint_outputs([], [md], tmp_path)]
    yamllint_and_markdown += [d.format() for d in outputs.yamllint([pb], tmp_path)]
    assert yamllint_and_markdown == []
    # The defaults are really in force: a line over their 160 limit is a finding.
    long = tmp_path / "long.yml"
    long.write_text("---\nkey: " + "x" * 170 + "\n", encoding="utf-8")
    assert [d.code for d in outputs.yamllint([long], tmp_path)] == ["yamllint:line-length"]


@pytest.mark.slow
def test_reference_urls_are_links_for_the_markdown_linter(tmp_path: Path) -> None:
    """A troubleshooting reference, a related document and a documentation item that are bare URLs
    (the runbook prints them from source fields) come out as links: pymarkdown's MD034 passes."""
    from compiler import runbook
    from compiler.parse import parse_text

    text = (ROOT / "tests" / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")
    text = text.replace("    solution: Crearlo con mkdir -p\n",
                        "    solution: Crearlo con mkdir -p\n"
                        "    references: [https://wiki.example.com/dirs, 'Ver https://docs.example.com/x_(y).']\n")
    text += ("references: {related: [https://runbooks.example.com/api]}\n"
             "post: {documentation: ['Actualizar https://status.example.com']}\n")
    md = tmp_path / "p.md"
    md.write_text(runbook.render(parse_text(text, "p.yml"), "es", source="p.yml"), encoding="utf-8")
    body = md.read_text(encoding="utf-8")
    assert "<https://wiki.example.com/dirs>" in body and "<https://docs.example.com/x_(y)>." in body
    assert "<https://runbooks.example.com/api>" in body and "<https://status.example.com>" in body
    assert [d.format() for d in outputs.lint_outputs([], [md], tmp_path)] == []


# Every free-text field the runbook prints, each with its own bare URL (issue 13 item 7).
_URL_FIELDS: dict[str, Any] = {
    "title": "Fixture https://title.example.com/a",
    "parameters": {"workdir": {"description": "Ver https://param.example.com/b", "default": "/tmp/procc-lint"}},
    "purpose": {"what": "Que https://what.example.com/c.\n\nSegundo parrafo https://what2.example.com/d",
                "when": ["Cuando https://when.example.com/e"], "when_not": ["Nunca https://whennot.example.com/f"],
                "impact": {"users": "https://users.example.com/g", "systems": "Ver https://systems.example.com/h",
                           "data": "https://data.example.com/i", "sla": "https://sla.example.com/j"}},
    "prerequisites": {"access": ["https://access.example.com/k"], "knowledge": ["https://knowledge.example.com/l"],
                      "system_state": ["https://state.example.com/m"], "approvals": ["https://approvals.example.com/n"],
                      "tools": [{"name": "bash", "version": ">=5.0", "note": "https://tool.example.com/o"}]},
    "preflight": [{"title": "Verificar https://pftitle.example.com/p", "run": "test -d {{ workdir }}",
                   "expected": "Codigo 0, ver https://pfexpected.example.com/q",
                   "if_fails": ["Ver https://pffails.example.com/r"]}],
    "steps": [{"title": "Crear marca https://steptitle.example.com/s", "minutes": 2,
               "run": "touch {{ workdir }}/marca", "expected": "Existe https://stepexpected.example.com/t",
               "validate": {"run": "test -f {{ workdir }}/marca"},
               "if_fails": ["Revisar https://stepfails.example.com/u"],
               "rollback": {"run": "rm -f {{ workdir }}/marca", "expected": "Ver https://rbexpected.example.com/v"}},
              {"title": "Purgar", "minutes": 1, "run": "rm -rf {{ workdir }}/cache", "expected": "Sin cache",
               "if_fails": ["Revisar"], "rollback": {"none-needed": "Se regenera, ver https://none.example.com/w"}}],
    "rollback": {"triggers": ["Falla https://trigger.example.com/x"],
                 "steps": [{"title": "Borrar https://rbtitle.example.com/y", "run": "rm -f {{ workdir }}/marca",
                            "expected": "https://rbsexpected.example.com/z"}]},
    "troubleshooting": [{"problem": "Problema https://problem.example.com/1",
                         "symptoms": ["Sintoma https://symptom.example.com/2"],
                         "cause": "Causa https://cause.example.com/3",
                         "solution": "Ver https://solution.example.com/4.\n\nY https://solution2.example.com/5",
                         "references": ["https://tsref.example.com/6"]}],
    "post": {"monitoring": ["Mirar https://monitoring.example.com/7"],
             "documentation": ["Actualizar https://doc.example.com/8"]},
    "continuous_improvement": "Mejorar https://improve.example.com/9",
    "annexes": [{"title": "Anexo https://annex.example.com/10", "text": "Texto https://annextext.example.com/11"}],
}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_bare_url_in_any_free_text_field_is_a_link(tmp_path: Path, lang: str) -> None:
    """A bare http(s) URL in every free-text field the runbook prints comes out as an autolink
    (pymarkdown's MD034 passes on the runbook), and the text around it stays escaped."""
    import yaml

    from compiler import runbook
    from compiler.parse import parse_text

    data = yaml.safe_load((ROOT / "tests" / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8"))
    data.update(_URL_FIELDS)
    data["final_validation"]["monitoring"] = ["Panel https://panel.example.com/12 con *estrella*"]
    md = tmp_path / "p.md"
    md.write_text(runbook.render(parse_text(yaml.safe_dump(data, allow_unicode=True), "p.yml"), lang,  # type: ignore[arg-type]
                                 source="p.yml"), encoding="utf-8")
    body = md.read_text(encoding="utf-8")
    urls = sorted(set(re.findall(r"https://[a-z0-9]+\.example\.com/[0-9a-z]+", yaml.safe_dump(data))))
    assert len(urls) == 38
    missing = [u for u in urls if f"<{u}>" not in body]
    assert missing == []
    assert "con \\*estrella\\*" in body  # the rest of the text stays escaped
    assert [d.format() for d in outputs.lint_outputs([], [md], tmp_path)] == []
