"""Rendering a lint result: text, JSON, SARIF 2.1.0 and GitHub annotations.

Pure functions from a :class:`LintResult` to text; the CLI prints them.
"""

from __future__ import annotations

import json
from typing import Any

import compiler
from compiler.errors import Diagnostic
from compiler.lint.result import LintResult

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def render(result: LintResult, fmt: str) -> str:
    """``result`` in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n"
    if fmt == "sarif":
        return json.dumps(to_sarif(result), indent=2, ensure_ascii=False) + "\n"
    if fmt == "github":
        return github(result)
    return text(result)


def summary(result: LintResult) -> str:
    """One line: files, errors, warnings, infos, suppressed."""
    return (f"procc lint: {result.files} file(s), {result.count('error')} error(s), "
            f"{result.count('warning')} warning(s), {result.count('info')} info, "
            f"{len(result.suppressed)} suppressed")


def text(result: LintResult) -> str:
    """``path:line:col: severity: message [rule]`` lines, suppressions, then a summary."""
    lines = [d.format() for d in result.findings]
    for s in result.suppressed:
        d = s.diagnostic
        lines.append(f"{d.path}:{d.pos.line}:{d.pos.col}: suppressed: {d.message} [{d.code}] "
                     f"(reason: {s.reason})")
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


def _perspectives(code: str) -> list[str]:
    from compiler.lint.registry import by_id  # the rules (and the model): only for json and sarif

    rule = by_id().get(code)
    return list(rule.perspectives) if rule else []


def _finding(d: Diagnostic) -> dict[str, Any]:
    return {"path": d.path, "line": d.pos.line, "col": d.pos.col, "severity": d.severity,
            "rule": d.code, "message": d.message, "perspectives": _perspectives(d.code)}


def to_json(result: LintResult) -> dict[str, Any]:
    """A JSON-ready dict: findings, suppressed findings (with reasons) and counts."""
    return {
        "version": 1,
        "tool": f"procc {compiler.__version__}",
        "findings": [_finding(d) for d in result.findings],
        "suppressed": [{**_finding(s.diagnostic), "reason": s.reason} for s in result.suppressed],
        "summary": {"files": result.files, "errors": result.count("error"),
                    "warnings": result.count("warning"), "infos": result.count("info"),
                    "suppressed": len(result.suppressed)},
    }


def _sarif_rules(codes: set[str]) -> list[dict[str, Any]]:
    from compiler.lint.registry import RULES

    out: list[dict[str, Any]] = []
    for cls in RULES:
        out.append({
            "id": cls.id,
            "name": "".join(p.capitalize() for p in cls.id.split("-")),
            "shortDescription": {"text": cls.summary},
            "fullDescription": {"text": cls.doc().split("\n\n", 1)[0]},
            "help": {"text": cls.doc()},
            "defaultConfiguration": {"level": _SARIF_LEVEL[cls.severity]},
            "properties": {"tags": list(cls.perspectives)},
        })
    known = {cls.id for cls in RULES}
    for code in sorted(codes - known):  # parse errors, output linters
        out.append({"id": code, "shortDescription": {"text": code}})
    return out


def _sarif_result(d: Diagnostic, index: dict[str, int]) -> dict[str, Any]:
    return {
        "ruleId": d.code,
        "ruleIndex": index[d.code],
        "level": _SARIF_LEVEL[d.severity],
        "message": {"text": d.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": d.path},
            "region": {"startLine": d.pos.line, "startColumn": d.pos.col},
        }}],
    }


def to_sarif(result: LintResult) -> dict[str, Any]:
    """A SARIF 2.1.0 log for code scanning; suppressed findings carry their justification."""
    codes = {d.code for d in result.findings} | {s.diagnostic.code for s in result.suppressed}
    rules = _sarif_rules(codes)
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = [_sarif_result(d, index) for d in result.findings]
    for s in result.suppressed:
        res = _sarif_result(s.diagnostic, index)
        res["suppressions"] = [{"kind": "inSource", "justification": s.reason}]
        results.append(res)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "procc", "version": compiler.__version__,
                                "informationUri": "https://procc.dev/lint", "rules": rules}},
            "results": results,
        }],
    }


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(result: LintResult) -> str:
    """GitHub Actions workflow commands: ``::error file=...,line=...,col=...::message``."""
    lines = []
    for d in result.findings:
        lines.append(
            f"::{_GITHUB_LEVEL[d.severity]} file={_escape_prop(d.path)},line={d.pos.line},"
            f"col={d.pos.col},title={_escape_prop(d.code)}::{_escape_data(d.message)} [{d.code}]"
        )
    for s in result.suppressed:
        d = s.diagnostic
        lines.append(f"::notice file={_escape_prop(d.path)},line={d.pos.line},col={d.pos.col},"
                     f"title={_escape_prop('suppressed ' + d.code)}::"
                     f"{_escape_data(d.message)} (suppressed: {_escape_data(s.reason)})")
    lines.append(summary(result))
    return "\n".join(lines) + "\n"
