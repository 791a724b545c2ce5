"""Direct unit tests of compiler/gates.py: inventories and environments, approval, the staging gate.

No procc process, no Ansible: the decisions themselves, each with the case
that must pass and the case that must be refused (a refused gate is a
GateError whose message says how to get through).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler import gates
from compiler.gates import GateError
from compiler.history import trust
from compiler.history.store import Run
from compiler.model import Procedure
from compiler.parse import parse_text
from tests.security.support import source

KEY = "unit-gates-key-0123456789abcdef-0123456789abcdef"


def _proc(criticality: str = "low", version: str = "1.0.0") -> Procedure:
    text = source("steps:\n  - title: Paso\n    minutes: 1\n    run: 'true'\n    irreversible: x\n")
    return parse_text(text.replace("criticality: low", f"criticality: {criticality}")
                      .replace("version: 1.0.0", f"version: {version}"), "p.yml")


def _never(prompt: str) -> str:
    raise AssertionError(f"asked {prompt!r} but no question was expected")


def _answers(*replies: str) -> Callable[[str], str]:
    it = iter(replies)
    return lambda _prompt: next(it)


# -- inventories and environments ---------------------------------------------------------------

def _project(tmp: Path) -> Path:
    (tmp / "inventories" / "production").mkdir(parents=True)
    (tmp / "inventories" / "production" / "hosts").write_text("localhost\n", encoding="utf-8")
    (tmp / "inventories" / "staging.yml").write_text("all: {}\n", encoding="utf-8")
    (tmp / "inventories" / "qa.ini").write_text("localhost\n", encoding="utf-8")
    return tmp


def test_env_inventory_is_the_directory_or_a_file_of_that_name(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert gates.env_inventory(root, "production") == root / "inventories" / "production"
    assert gates.env_inventory(root, "staging") == root / "inventories" / "staging.yml"
    assert gates.env_inventory(root, "qa") == root / "inventories" / "qa.ini"
    with pytest.raises(GateError, match=r"no inventory for environment 'dev': expected .*inventories/dev/"):
        gates.env_inventory(root, "dev")


def test_inventory_env_names_the_environment_of_a_path(tmp_path: Path) -> None:
    root = _project(tmp_path)
    inv = root / "inventories"
    assert gates.inventory_env(root, inv / "production" / "hosts") == "production"
    assert gates.inventory_env(root, inv / "production") == "production"
    assert gates.inventory_env(root, inv / "staging.yml") == "staging"
    assert gates.inventory_env(root, inv) is None  # the folder of all environments is none of them
    assert gates.inventory_env(root, tmp_path.parent / "elsewhere" / "hosts") is None


def test_a_symlink_cannot_hide_a_production_inventory(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    outside = tmp_path / "hosts-link"
    outside.symlink_to(root / "inventories" / "production" / "hosts")
    assert gates.inventory_env(root, outside) == "production"  # a link into production
    (root / "inventories" / "staging").mkdir()
    inside = root / "inventories" / "staging" / "hosts"
    inside.symlink_to(root / "inventories" / "production" / "hosts")
    assert gates.inventory_env(root, inside) == "production"  # staging's name, production's file


def test_targets_derive_and_check_the_environment(tmp_path: Path) -> None:
    root = _project(tmp_path)
    prod_hosts = str(root / "inventories" / "production" / "hosts")
    assert gates.targets(root, None, None) == (None, None)
    assert gates.targets(root, "production", None) == ("production", str(root / "inventories" / "production"))
    assert gates.targets(root, None, prod_hosts) == ("production", prod_hosts)
    assert gates.targets(root, None, "web1,web2,") == (None, "web1,web2,")
    with pytest.raises(GateError, match="give --env or -i, not both"):
        gates.targets(root, "production", prod_hosts)


def test_an_env_whose_inventory_is_production_is_refused(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "inventories" / "staging.yml").unlink()
    (root / "inventories" / "staging.yml").symlink_to(root / "inventories" / "production" / "hosts")
    with pytest.raises(GateError, match=r"--env staging conflicts with its inventory .* environment production"):
        gates.targets(root, "staging", None)


def test_relative_inventory_paths_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    env, inv = gates.targets(root, None, "inventories/production/hosts")
    assert env == "production" and inv is not None and os.path.isabs(inv)


# -- approval -----------------------------------------------------------------------------------

def test_needs_approval_for_critical_or_production_only() -> None:
    assert gates.needs_approval(_proc("critical"), None) == "PROC-SEC-001 has criticality critical"
    assert gates.needs_approval(_proc("high"), "production") == "the target environment is production"
    assert gates.needs_approval(_proc("high"), "staging") is None
    assert gates.needs_approval(_proc("low"), None) is None


def test_impact_text_shows_the_impact_before_confirming() -> None:
    text = gates.impact_text(_proc("critical"))
    assert text.splitlines()[0] == "PROC-SEC-001 v1.0.0: Caso de seguridad (criticality critical)"
    assert "  Usuarios: -" in text and "  SLA:      -" in text


def test_no_approval_needed_records_none_or_the_name_given() -> None:
    assert gates.approve(_proc(), None, None, False, False, _never, "ana") == gates.Approval(None, "not-needed")
    assert gates.approve(_proc(), None, "Luis", False, False, _never, "ana") == gates.Approval("Luis", "flag")


def test_production_without_terminal_needs_approved_by() -> None:
    with pytest.raises(GateError, match=r"approval required \(the target environment is production\) and there "
                                        r"is no terminal"):
        gates.approve(_proc("high"), "production", None, False, False, _never, "ana")
    assert gates.approve(_proc("high"), "production", " Luis ", False, False, _never, "ana") == \
        gates.Approval("Luis", "flag")


def test_yes_needs_a_terminal_and_approves_as_the_executor() -> None:
    with pytest.raises(GateError, match="--yes needs a terminal"):
        gates.approve(_proc("high"), "production", None, True, False, _never, "ana")
    assert gates.approve(_proc("high"), "production", None, True, True, _never, "ana") == \
        gates.Approval("ana", "interactive")


def test_typed_confirmation_must_be_the_procedure_id() -> None:
    with pytest.raises(GateError, match="not approved; nothing was run"):
        gates.approve(_proc("high"), "production", None, False, True, _answers("yes"), "ana")
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return " PROC-SEC-001 "

    assert gates.approve(_proc("high"), "production", None, False, True, ask, "ana") == \
        gates.Approval("ana", "interactive")
    assert "approve as ana" in prompts[0] and "Usuarios:" in prompts[0]


@pytest.mark.parametrize("approver", ["ana", "ANA", " Ana ", "bob"])
def test_a_critical_procedure_is_never_approved_by_its_executor(approver: str) -> None:
    with pytest.raises(GateError, match="is critical and cannot be approved by the person running it"):
        gates.approve(_proc("critical"), None, approver, False, False, _never, "ana", {"bob"})
    # The same name approves a procedure that is not critical (production needs an approval, not another person).
    assert gates.approve(_proc("high"), "production", approver, False, False, _never, "ana", {"bob"}).how == "flag"


def test_a_critical_procedure_asks_who_approved_on_a_terminal() -> None:
    ok = gates.approve(_proc("critical"), None, None, False, True, _answers("PROC-SEC-001", "Luis"), "ana")
    assert ok == gates.Approval("Luis", "interactive")
    with pytest.raises(GateError, match="the approver must be someone else"):
        gates.approve(_proc("critical"), None, None, False, True, _answers("PROC-SEC-001", "Ana"), "ana")
    with pytest.raises(GateError, match="--yes cannot approve it"):
        gates.approve(_proc("critical"), None, None, True, True, _never, "ana")


@pytest.mark.parametrize(("name", "why"), [("", "needs a name"), ("   ", "needs a name"),
                                           ("Eve\nforged", "printable name"), ("Eve\x1b[2J", "printable name"),
                                           ("Eve\x7f", "printable name"), ("x" * 201, "at most 200")])
def test_an_approver_name_is_one_printable_line(name: str, why: str) -> None:
    with pytest.raises(GateError, match=why):
        gates.approve(_proc("low"), None, name, False, False, _never, "ana")
    assert gates.approve(_proc("low"), None, "x" * 200, False, False, _never, "ana").approved_by == "x" * 200


def test_identities_include_the_executor_and_the_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUDO_USER", "  Carla ")
    monkeypatch.setenv("PROCC_EXECUTOR", "")
    names = gates.identities("Ana")
    assert {"ana", "carla"} <= names
    assert "" not in names and all(n == n.strip().casefold() for n in names)


# -- the staging gate ---------------------------------------------------------------------------

def _run(env: str, version: str = "1.0.0", outcome: str | None = "success", sign: bool = True,
         **extra: Any) -> Run:
    start = {"kind": "start", "run_id": f"{env}-{version}", "environment": env, "version": version, **extra}
    end = None if outcome is None else {"kind": "end", "run_id": f"{env}-{version}", "outcome": outcome}
    if sign:
        start = trust.sign(start)
        end = trust.sign(end) if end is not None else None
    return Run(start["run_id"], start, end)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(trust.ENV_KEY, KEY)


def test_the_gate_is_only_for_critical_procedures_in_production() -> None:
    assert gates.production_gate(_proc("high"), "production", [], False) is None
    assert gates.production_gate(_proc("critical"), "staging", [], False) is None
    assert gates.production_gate(_proc("critical"), None, [], False) is None
    with pytest.raises(GateError, match="is critical and has no successful run or drill in staging for this "
                                        "version: run it with --env staging first"):
        gates.production_gate(_proc("critical"), "production", [], False)


def test_a_signed_successful_staging_run_of_this_version_opens_the_gate() -> None:
    proc = _proc("critical")
    good = _run("staging")
    assert gates.production_gate(proc, "production", [good], False) is None
    assert gates.staging_ok(proc, [_run("staging", outcome="failure"), good, _run("production")]) is good


def test_a_passed_drill_counts_and_a_failed_one_does_not() -> None:
    proc = _proc("critical")
    assert gates.staging_ok(proc, [_run("staging", outcome="failure", drill=True, drill_passed=True)]) is not None
    assert gates.staging_ok(proc, [_run("staging", outcome="failure", drill=True, drill_passed=False)]) is None


@pytest.mark.parametrize("run", [
    pytest.param(lambda: _run("staging", version="0.9.0"), id="other-version"),
    pytest.param(lambda: _run("staging", outcome="failure"), id="failed"),
    pytest.param(lambda: _run("staging", outcome=None), id="unfinished"),
    pytest.param(lambda: _run("staging", check=True), id="check-mode"),
    pytest.param(lambda: _run("qa"), id="other-env"),
])
def test_runs_that_do_not_open_the_gate(run: Callable[[], Run]) -> None:
    with pytest.raises(GateError, match="no successful run or drill in staging"):
        gates.production_gate(_proc("critical"), "production", [run()], False)


def test_unsigned_or_edited_staging_records_do_not_count_and_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    proc = _proc("critical")
    edited = _run("staging")
    edited.end["operator"] = "forged"  # type: ignore[index]  # any edit breaks the signature
    runs = [_run("staging", sign=False), edited]
    with pytest.raises(GateError, match=r"\(2 staging record\(s\) in the history are not signed by procc"):
        gates.production_gate(proc, "production", runs, False)
    other_key = _run("staging")
    monkeypatch.setenv(trust.ENV_KEY, KEY[::-1])
    assert gates.staging_ok(proc, [other_key]) is None  # signed with another key


def test_force_overrides_the_gate_and_returns_the_note_to_record() -> None:
    note = gates.production_gate(_proc("critical"), "production", [_run("staging", sign=False)], True)
    assert note is not None and note.startswith("forced: PROC-SEC-001 v1.0.0 is critical")
    assert "1 staging record(s)" in note
