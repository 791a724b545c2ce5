"""procc lint and procc explain from the command line: exit codes, formats, suppressions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from compiler.lint.registry import RULES
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
CLEAN = FIXTURES / "clean.yml"
BAD = FIXTURES / "step-missing-validation" / "bad.yml"
WARN = FIXTURES / "step-missing-if-fails" / "bad.yml"
TODAY = "--today=2026-11-28"

Procc = Any  # the conftest fixture: run(*argv) -> Result(code, out, err)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_catalog_is_clean_at_strict(procc: Procc) -> None:
    res = procc("lint", "--strict")
    assert res.code == 0, res.out + res.err
    assert re.search(r"procc lint: [1-9]\d* file\(s\), 0 error\(s\), 0 warning\(s\), 0 info", res.out)


def test_every_catalog_procedure_references_the_schema() -> None:
    for src in sorted((ROOT / "procedures").glob("*.yml")):
        first = src.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../docs/procedure.schema.json", src.name


def test_clean_exits_0(procc: Procc) -> None:
    res = procc("lint", TODAY, "--strict", _rel(CLEAN))
    assert res.code == 0
    assert res.out.splitlines() == [
        "procc lint: 1 file(s), 0 error(s), 0 warning(s), 0 info, 0 suppressed"]


def test_error_exits_1_with_compiler_style_lines(procc: Procc) -> None:
    res = procc("lint", TODAY, _rel(BAD))
    assert res.code == 1
    assert res.out.splitlines()[0] == (
        f"{_rel(BAD)}:27:5: error: Paso 1 (steps[0]) 'Crear marca' has commands but no validation; "
        "add 'validate' [step-missing-validation]")


def test_warning_exits_0_unless_strict(procc: Procc) -> None:
    assert procc("lint", TODAY, _rel(WARN)).code == 0
    assert procc("lint", TODAY, "--strict", _rel(WARN)).code == 1


def test_directory_argument_lints_every_file(procc: Procc) -> None:
    res = procc("lint", TODAY, "--format=json", _rel(FIXTURES / "tool-version"))
    data = json.loads(res.out)
    assert data["summary"]["files"] == 2
    assert {f["path"] for f in data["findings"]} == {_rel(FIXTURES / "tool-version" / "bad.yml")}


def test_usage_errors_exit_2(procc: Procc, capsys: pytest.CaptureFixture[str]) -> None:
    assert procc("lint", "no/such/file.yml").code == 2
    assert procc("explain", "no-such-rule").code == 2
    with pytest.raises(SystemExit) as exc:
        procc("lint", "--format=xml")
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        procc("lint", "--today=yesterday")
    assert exc.value.code == 2


def test_parse_errors_are_findings_not_tracebacks(procc: Procc, tmp_path: Path) -> None:
    broken = tmp_path / "PROC-TEST-900-broken.yml"
    broken.write_text(CLEAN.read_text(encoding="utf-8").replace("minutes: 2", "minutes: [2"),
                      encoding="utf-8")
    unknown = tmp_path / "PROC-TEST-901-unknown.yml"
    unknown.write_text(CLEAN.read_text(encoding="utf-8").replace("hosts: all", "hostz: all"),
                       encoding="utf-8")
    res = procc("lint", TODAY, "--format=json", str(broken), str(unknown))
    assert res.code == 1
    assert "Traceback" not in res.out + res.err
    found = {(Path(f["path"]).name, f["rule"], f["line"], f["col"])
             for f in json.loads(res.out)["findings"]}
    assert found == {("PROC-TEST-900-broken.yml", "yaml-syntax", 28, 14),
                     ("PROC-TEST-901-unknown.yml", "unknown-key", 13, 1)}


def _with_ignore(tmp_path: Path, source: Path, ignore: str) -> Path:
    out = tmp_path / source.name
    out.write_text(source.read_text(encoding="utf-8") + ignore, encoding="utf-8")
    return out


def test_suppression_is_reported_with_its_reason(procc: Procc, tmp_path: Path) -> None:
    src = _with_ignore(tmp_path, BAD, "lint:\n  ignore:\n    - {rule: step-missing-validation, "
                                      "reason: El paso se valida en el paso siguiente}\n")
    res = procc("lint", TODAY, "--strict", str(src))
    assert res.code == 0, res.out
    assert "suppressed: Paso 1 (steps[0]) 'Crear marca' has commands but no validation" in res.out
    assert "(reason: El paso se valida en el paso siguiente)" in res.out
    assert res.out.rstrip().endswith("1 suppressed")
    sarif = json.loads(procc("lint", TODAY, "--format=sarif", str(src)).out)
    [result] = sarif["runs"][0]["results"]
    assert result["suppressions"] == [
        {"kind": "inSource", "justification": "El paso se valida en el paso siguiente"}]
    data = json.loads(procc("lint", TODAY, "--format=json", str(src)).out)
    assert data["findings"] == []
    assert data["suppressed"][0]["reason"] == "El paso se valida en el paso siguiente"


def test_suppression_needs_a_reason(procc: Procc, tmp_path: Path) -> None:
    src = _with_ignore(tmp_path, BAD, "lint:\n  ignore:\n    - {rule: step-missing-validation}\n")
    res = procc("lint", TODAY, "--format=json", str(src))
    assert res.code == 1
    assert [(f["rule"], f["line"]) for f in json.loads(res.out)["findings"]] == [("missing-key", 51)]


def test_unknown_and_unused_suppressions_are_reported(procc: Procc, tmp_path: Path) -> None:
    src = _with_ignore(tmp_path, CLEAN, "lint:\n  ignore:\n"
                                        "    - {rule: no-such-rule, reason: x}\n"
                                        "    - {rule: tool-version, reason: y}\n")
    res = procc("lint", TODAY, "--format=json", str(src))
    got = [(f["rule"], f["severity"], f["line"], f["col"]) for f in json.loads(res.out)["findings"]]
    assert got == [("unknown-lint-rule", "error", 53, 14), ("unused-suppression", "warning", 54, 14)]
    assert res.code == 1


def test_json_format(procc: Procc) -> None:
    res = procc("lint", TODAY, "--format=json", _rel(BAD))
    data = json.loads(res.out)
    assert data["summary"] == {"files": 1, "errors": 1, "warnings": 0, "infos": 0, "suppressed": 0}
    assert data["findings"] == [{
        "path": _rel(BAD), "line": 27, "col": 5, "severity": "error",
        "rule": "step-missing-validation",
        "message": "Paso 1 (steps[0]) 'Crear marca' has commands but no validation; add 'validate'",
        "perspectives": ["devops"],
    }]


def test_sarif_format(procc: Procc) -> None:
    res = procc("lint", TODAY, "--format=sarif", _rel(BAD), _rel(WARN))
    assert res.code == 1
    log = json.loads(res.out)
    assert log["version"] == "2.1.0"
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][: len(RULES)] == [r.id for r in RULES]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"step-missing-validation": "error", "step-missing-if-fails": "warning"}
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        region = r["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (27, 5)


def test_github_format(procc: Procc) -> None:
    res = procc("lint", TODAY, "--format=github", _rel(BAD), _rel(WARN))
    lines = res.out.splitlines()
    assert lines[0] == (
        f"::warning file={_rel(WARN)},line=27,col=5,title=step-missing-if-fails::"
        "Paso 1 (steps[0]) 'Crear marca' has no 'if_fails' guidance [step-missing-if-fails]")
    assert lines[1] == (
        f"::error file={_rel(BAD)},line=27,col=5,title=step-missing-validation::"
        "Paso 1 (steps[0]) 'Crear marca' has commands but no validation; add 'validate' [step-missing-validation]")
    assert lines[-1].startswith("procc lint: 2 file(s)")


def test_list_rules(procc: Procc) -> None:
    res = procc("lint", "--list-rules")
    assert res.code == 0
    lines = res.out.splitlines()
    assert len(lines) == len(RULES)
    assert lines[0].split()[:3] == ["step-missing-validation", "error", "devops"]


def test_explain_prints_the_doc(procc: Procc) -> None:
    res = procc("explain", "db-backup-preflight")
    assert res.code == 0
    assert res.out.startswith("db-backup-preflight (error; dba)")
    assert "Bad::" in res.out and "Good::" in res.out and "pg_dump" in res.out


def test_today_is_injectable(procc: Procc) -> None:
    stale = _rel(FIXTURES / "stale-procedure" / "good.yml")  # updated 2026-05-28
    assert procc("lint", "--strict", "--today=2026-11-28", stale).code == 0
    res = procc("lint", "--strict", "--today=2026-11-29", stale)
    assert res.code == 1 and "[stale-procedure]" in res.out
    res = procc("lint", "--strict", "--today=2026-05-01", stale)
    assert "is in the future" in res.out


def test_lint_never_imports_ansible(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from compiler.cli import main; main(['lint', '--strict', '--format=json']); "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('ansible', 'ansible_runner'));"
            "print('ANSIBLE', bad, file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert "ANSIBLE []" in res.stderr, res.stderr
