"""Item 3 of issue 12: the runbook's Mermaid flowchart, and hostile titles in it.

Every line the diagram has must be one of the few forms it writes (a node, an
edge, a class line), whatever the titles hold: a title that could close its
label, add an edge, a click handler or HTML would show up as a line of
another form, or as a forbidden character inside a label.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from compiler import diagram, runbook
from compiler.parse import parse_file, parse_text
from tests.conftest import FOUR_STEPS, ROOT
from tests.support.golden import check_golden

GOLDEN = ROOT / "tests" / "golden"
LABEL = r'"[^"\\<>`;&|\[\]{}()#]*(?:#\d+;[^"\\<>`;&|\[\]{}()#]*)*"'
NODE = re.compile(rf"^    [a-z]+\d*(?:\[{LABEL}\]|\{{{LABEL}\}}|\(\[{LABEL}\]\))$")
EDGE = re.compile(rf"^    [a-z]+\d* -->(?:\|{LABEL}\|)? [a-z]+\d*$")
CLASS = re.compile(r"^    (?:classDef [a-z]+ [a-z0-9:#,-]+|class [a-z0-9,]+ [a-z]+)$")

HOSTILE = [
    'Paso"] --> pwned["x',
    "click s1 call alert(1)",
    "<img src=x onerror=alert(1)>",
    "`**md**` ```mermaid\nend\n```",
    "%%{init: {'securityLevel': 'loose'}}%%",
    "a; b & c | d # e {f} (g) [h] \\ i",
    "javascript:alert(document.domain)",
    "x" * 500,
]


def _four_steps(**change: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(FOUR_STEPS.read_text(encoding="utf-8"))
    data.update(change)
    return data


def _check_grammar(text: str) -> None:
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "flowchart TD"
    for line in lines[1:]:
        assert NODE.match(line) or EDGE.match(line) or CLASS.match(line), line


def test_flowchart_golden(request: pytest.FixtureRequest) -> None:
    src = parse_file(FOUR_STEPS, FOUR_STEPS.relative_to(ROOT).as_posix())
    check_golden(request, diagram.flowchart(src.procedure, "es"), GOLDEN / "diagram" / "PROC-TEST-001.es.mmd")


def test_flowchart_shows_every_step_its_check_and_the_way_back() -> None:
    proc = parse_file(FOUR_STEPS).procedure
    text = diagram.flowchart(proc, "en")
    _check_grammar(text)
    n = len(proc.steps)
    for k in range(1, n + 1):
        assert f"    s{k} --> c{k}" in text
        assert f'    c{k} -->|"fails"| r{k}' in text
        # From each rollback back to the previous one, and from the first to the start.
        assert f"    r{k} --> {'r' + str(k - 1) if k > 1 else 'back'}" in text
    assert f'    c{n} -->|"yes"| fv' in text
    assert '    fv -->|"fails"| full' in text and "    full --> back" in text
    assert '    pf -->|"fails"| stop' in text


def test_irreversible_steps_are_marked() -> None:
    data = _four_steps()
    data["steps"][1].pop("rollback")
    data["steps"][1]["irreversible"] = "borra datos"
    text = diagram.flowchart(parse_text(yaml.safe_dump(data)), "es")
    _check_grammar(text)
    assert 's2["IRREVERSIBLE Paso 2#58; ' not in text  # ":" stays readable
    assert re.search(r'^    s2\["IRREVERSIBLE Paso 2: ', text, re.M)
    assert "    r2[\"Paso 2: IRREVERSIBLE, sin rollback\"]" in text
    assert "    class s2,r2 irreversible" in text


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_stay_inside_their_labels(title: str) -> None:
    data = _four_steps(title=title)
    for s in data["steps"]:
        s["title"] = title
    data["rollback"]["steps"][0]["title"] = title
    proc = parse_text(yaml.safe_dump(data))
    text = diagram.flowchart(proc, "es")
    _check_grammar(text)
    assert "alert(" not in text and "<img" not in text and "%%" not in text
    # In the runbook the diagram is one fence: nothing closes it early.
    md = runbook.render(proc, "es")
    block = md.split("```mermaid\n", 1)[1].split("\n```\n", 1)[0]
    assert block + "\n" == text


def test_labels_are_cut_to_one_short_line() -> None:
    assert diagram.label("a\nb   c") == '"a b c"'
    long = diagram.label("x" * 500)
    assert len(long) == diagram.MAX_LABEL + 2 and long.endswith('..."')
