"""Outcome-aware post-execution in the source, the playbook and the runbook (issue 13, item 2).

The real runs are tests/run/test_post_outcome.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from compiler import playbook, runbook
from compiler.errors import CompileError
from compiler.parse import parse_file, parse_text
from tests.conftest import FIXTURES

SOURCE = FIXTURES / "procedures" / "PROC-TEST-040-outcomes.yml"


def _edited(old: str, new: str) -> str:
    text = SOURCE.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1)


def _errors(text: str) -> list[str]:
    with pytest.raises(CompileError) as exc:
        parse_text(text, "p.yml")
    return [d.format() for d in exc.value.diagnostics]


def test_an_unknown_outcome_is_a_positioned_error_listing_the_outcomes() -> None:
    errs = _errors(_edited("on_outcome: [failure, drill]", "on_outcome: [failure, drills]"))
    assert len(errs) == 1 and errs[0].startswith("p.yml:84:29:"), errs
    for name in ("success", "failure", "rollback", "drill", "always"):
        assert name in errs[0]


def test_procc_outcome_outside_post_execution_says_where_it_is_defined() -> None:
    errs = _errors(_edited("touch {{ workdir }}/{{ inventory_hostname }}/one",
                           "touch {{ workdir }}/{{ procc_outcome }}/one"))
    assert len(errs) == 1 and errs[0].startswith("p.yml:47:27:"), errs
    assert "defined only in post-execution actions" in errs[0] and "[undeclared-parameter]" in errs[0]


def _post_tasks(plays: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in plays[-1]["tasks"] if str(t.get("name", "")).startswith("Post-Ejecucion | bloque")}


def test_post_runs_in_the_outcome_play_with_one_condition_per_outcome() -> None:
    plays = yaml.safe_load(playbook.render(parse_file(SOURCE, "x.yml").procedure, "es"))
    # Not in the run play (its batch ends before the fleet decides) ...
    assert "Post-Ejecucion" not in yaml.safe_dump(plays[0])
    posts = _post_tasks(plays)
    assert list(posts) == [f"Post-Ejecucion | bloque | {t}" for t in (
        "Anotar el resultado del host", "Borrar la marca uno tras el exito", "Avisar del exito",
        "Avisar del fallo o del simulacro")]
    skip = "procc_result.outcome not in ['not-run', 'unreachable']"
    conds = [p["when"] for p in posts.values()]
    assert conds == [[skip], [skip, "(procc_outcome == 'success')"], [skip, "(procc_outcome == 'success')"],
                     [skip, "(procc_outcome in ['failed', 'rolled-back']) or (procc_outcome == 'drill')"]]
    # ... after the host's result, which the outcome is read from.
    names = [t["name"] for t in plays[-1]["tasks"]]
    assert names.index("Procc | Resultado") < names.index(next(iter(posts)))
    assert "procc_outcome" in plays[-1]["vars"]
    # '{{ procc_outcome }}' reaches the role as a template, not as inert text.
    notify = posts["Post-Ejecucion | bloque | Avisar del fallo o del simulacro"]["block"][0]
    assert notify["vars"]["notify_event"] == "{{ procc_outcome }}"


@pytest.mark.parametrize(("lang", "note"), [
    ("es", "_Se ejecuta solo en un servidor cuyo resultado es: fallo real (revertido o no), simulacro "
           "(procc_fail_at)._"),
    ("en", "_Runs only on a server whose outcome is: a real failure (rolled back or not), a drill "
           "(procc_fail_at)._"),
])
def test_the_runbook_says_when_each_post_action_runs(lang: str, note: str) -> None:
    text = runbook.render(parse_file(SOURCE, "x.yml").procedure, lang, source="x.yml")  # type: ignore[arg-type]
    assert note in text
    # An action that always runs gets no note.
    always = text.split("Anotar el resultado del host", 1)[1].split("**", 2)[1]
    assert "Se ejecuta solo" not in always and "Runs only" not in always
