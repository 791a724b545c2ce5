"""``procc molecule``: the generated scenario, its freshness, and hostile input kept as data.

The scenario generated for the fixture PROC-TEST-030 (not in the catalog)
is committed in molecule/generated-proc-test-030 and runs in CI with every
other scenario (scripts/molecule.sh); here: it is what the generator gives
today, each file is YAML whose user text is data, and the CLI's errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import molecule, playbook
from compiler.parse import parse_file, parse_text
from tests.conftest import FIXTURES, ROOT

FIXTURE = FIXTURES / "procedures" / "PROC-TEST-030-nothing-to-undo.yml"
COMMITTED = ROOT / "molecule" / "generated-proc-test-030"
REGENERATE = ("procc molecule tests/fixtures/procedures/PROC-TEST-030-nothing-to-undo.yml "
              "--out molecule/generated-proc-test-030")


def _fixture_scenario() -> molecule.Scenario:
    src = parse_file(FIXTURE, "tests/fixtures/procedures/PROC-TEST-030-nothing-to-undo.yml")
    return molecule.generate(src.procedure, COMMITTED, ROOT, source=src.display)


def test_the_committed_fixture_scenario_is_fresh() -> None:
    scenario = _fixture_scenario()
    on_disk = {p.relative_to(COMMITTED).as_posix() for p in COMMITTED.rglob("*") if p.is_file()}
    assert on_disk == set(scenario.files), f"stale: run {REGENERATE}"
    for rel, text in scenario.files.items():
        assert (COMMITTED / rel).read_text(encoding="utf-8") == text, f"{rel} is stale: run {REGENERATE}"


def test_the_scenario_has_the_molecule_shape() -> None:
    files = _fixture_scenario().files
    mol = yaml.safe_load(files["molecule.yml"])
    assert mol["driver"] == {"name": "default", "options": {"managed": True}}
    assert [p["name"] for p in mol["platforms"]] == ["host1", "host2"]
    assert mol["provisioner"]["playbooks"] == {"create": "create.yml", "destroy": "destroy.yml",
                                               "side_effect": "drills.yml"}
    seq = mol["scenario"]["test_sequence"]
    assert seq.index("prepare") < seq.index("side_effect") < seq.index("converge") < seq.index("verify")
    # A required path parameter without a default lives in the host's own directory.
    assert mol["provisioner"]["inventory"]["group_vars"]["all"]["workdir"] == "{{ procc_host_dir }}/workdir"
    create = yaml.safe_load(files["create.yml"])
    assert create[0]["tasks"][0]["ansible.builtin.include_role"] == {"name": "procc.ops.testhosts",
                                                                     "tasks_from": "create"}
    # Converge is the compiled playbook, unchanged.
    assert files["procedure.yml"] == playbook.render(parse_file(FIXTURE).procedure, "es",
                                                     "tests/fixtures/procedures/PROC-TEST-030-nothing-to-undo.yml")
    assert yaml.safe_load(files["converge.yml"]) == [{
        "name": "PROC-TEST-030 (the compiled playbook, unchanged)",
        "ansible.builtin.import_playbook": "procedure.yml", "vars": {"procc_run_id": "molecule"}}]
    drills = yaml.safe_load(files["drills.yml"])[0]
    assert drills["vars"]["molecule_steps"] == 3
    assert drills["tasks"][0]["loop"] == [1, 2, 3]
    assert "faults survived: " in drills["tasks"][2]["ansible.builtin.debug"]["msg"]
    # Verify runs the procedure's own smoke test, as the playbook does.
    verify = yaml.safe_load(files["verify.yml"])[0]
    cmds = [t["ansible.builtin.shell"]["cmd"] for t in verify["tasks"] if "ansible.builtin.shell" in t]
    assert any('test -f "${workdir}"/one && test -f "${workdir}"/three' in c for c in cmds)
    assert "FILL IN" in files["prepare.yml"] and "FILL IN" in files["cleanup.yml"]


HOSTILE = """\
id: PROC-EVIL-001
type: maintenance
title: "Evil ' \\" {{ lookup('pipe', 'touch /tmp/pwned') }} ]]: #"
criticality: low
frequency: on-demand
estimated_minutes: 1
version: 1.0.0
updated: 2026-11-29
author: "x'; rm -rf / #"
hosts: "web:&prod"
parameters:
  target:
    description: "a\\nb: {{ x }}"
    required: true
    pattern: '^/.*$'
  token:
    required: true
    secret: true
  mode:
    default: "'; $(reboot) {{ lookup('env','HOME') }}"
purpose: {what: "x"}
steps:
  - title: "Step: '{{ lookup('pipe','id') }}' \\"quoted\\""
    minutes: 1
    run: echo "{{ target }}" "{{ mode }}"
    rollback:
      none-needed: "nothing: '{{ lookup('pipe','id') }}'"
final_validation:
  health:
    - {url: "http://127.0.0.1/{{ mode }}", status: 200}
"""


class _Unsafe(str):
    """A string tagged !unsafe: Ansible prints it, never templates it."""


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: _Unsafe(loader.construct_scalar(node)))  # type: ignore[arg-type]


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(k) + _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def test_hostile_titles_values_and_paths_stay_data(tmp_path: Path) -> None:
    proc = parse_text(HOSTILE)
    out = tmp_path / "we'ird dir: {{ x }}" / "scen #1"
    scenario = molecule.generate(proc, out, ROOT, hosts=3)
    for rel, text in scenario.files.items():
        data = yaml.load(text, Loader=_Loader)  # every file is YAML, whatever the input (a SafeLoader)
        if rel == "procedure.yml":
            continue  # the compiler's own output, tested by its own suites
        for s in _strings(data):
            hostile = "lookup('pipe'" in s or "rm -rf" in s or "reboot" in s
            assert not hostile or isinstance(s, _Unsafe), (rel, s)
    mol = yaml.safe_load(scenario.files["molecule.yml"])
    assert len(mol["platforms"]) == 3 and "groups" not in mol["platforms"][0]  # 'web:&prod' is no group
    gvars = mol["provisioner"]["inventory"]["group_vars"]["all"]
    assert gvars["target"] == "{{ procc_host_dir }}/target" and gvars["token"] == molecule.FILL_IN
    assert "mode" not in gvars  # a default is the playbook's business
    verify = yaml.load(scenario.files["verify.yml"], Loader=_Loader)[0]
    # The default reaches verify the way it reaches the playbook: as unsafe data, never templated.
    assert isinstance(verify["vars"]["procc_default_mode"], _Unsafe)


@pytest.mark.parametrize("hosts", [0, 51])
def test_the_number_of_hosts_is_bounded(hosts: int) -> None:
    with pytest.raises(ValueError):
        molecule.generate(parse_file(FIXTURE).procedure, Path("/tmp/x"), ROOT, hosts=hosts)


def test_cli_refuses_a_bad_host_count_and_an_unknown_procedure(procc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = procc("molecule", "tests/fixtures/procedures/PROC-TEST-030-nothing-to-undo.yml", "--hosts", "0",
                "--out", str(tmp_path / "s"))
    assert res.code == 2 and "--hosts must be between 1 and 50" in res.err
    res = procc("molecule", "PROC-NOPE-404", "--out", str(tmp_path / "s"))
    assert res.code == 2 and "Traceback" not in res.err
    assert not (tmp_path / "s").exists()
