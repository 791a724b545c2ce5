"""Runbooks with values: ``procc compile --env NAME [-e k=v]`` (issue 12, item 1).

The runbook of one environment has every command pasteable (values written
in, secrets as ``$VARIABLE``), is written apart from the generic runbooks
(which keep their placeholders), and no inventory value becomes Markdown.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler import envvalues, runbook
from compiler.cli import main
from compiler.errors import UsageError
from compiler.loader import load_role_docs
from compiler.parse import parse_file, parse_text
from tests.conftest import ROOT
from tests.security import mdtree
from tests.support.golden import check_golden

GOLDEN = ROOT / "tests" / "golden"
BACKEND_001 = ROOT / "procedures" / "PROC-BACKEND-001-deploy-release.yml"


def _staging(extra: list[str]) -> str:
    src = parse_file(BACKEND_001, "procedures/PROC-BACKEND-001-deploy-release.yml")
    values = envvalues.load(ROOT, "staging", src.procedure, extra)
    return runbook.render(src.procedure, "es", source=src.display, values=values,
                          roles=load_role_docs(ROOT / "roles", "procc.ops"))


def _fences(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block."""
    return [(lang, body) for _, lang, body in re.findall(r"^(`{3,})(\w*)\n(.*?)^\1$", text, flags=re.S | re.M)]


def test_runbook_for_an_environment_golden(request: pytest.FixtureRequest) -> None:
    check_golden(request, _staging(["release=v2"]), GOLDEN / "PROC-BACKEND-001-deploy-release.staging.es.md")


def test_every_command_is_pasteable_with_the_environments_values() -> None:
    text = _staging(["release=v2"])
    assert "{{" not in text  # no placeholder anywhere: commands, role vars, URLs, guidance
    for lang, body in _fences(text):
        if lang == "bash":
            # Every parameter is written in; what is left are the shell's own variables.
            assert not re.search(r"\$\{(base_dir|service_port|release|db_\w+)\}", body), body
    assert '"/opt/procc-demo-backend"/bin/demo-backend status' in text
    assert "curl -fsS --max-time 5 http://127.0.0.1:\"8080\"/health" in text
    assert "demo_backend_release: v2" in text  # a role's vars, with values
    assert "notify_webhook_url: $PROCC_WEBHOOK" in text  # a secret: its variable, never a value
    assert "**Servidores de staging:** `backend-1.staging.example.com`, `backend-2.staging.example.com`" in text
    assert "valor en staging: `db.staging.example.com` (de inventories/staging/group_vars/backend.yml)" in text
    assert "- [ ] Arrancarlo con /opt/procc-demo-backend/bin/demo-backend start" in text
    # Troubleshooting and annex commands take the parameters as the steps do.
    assert "tail -n 100 \"/opt/procc-demo-backend\"/log/demo-backend.log" in text


def test_generic_runbook_keeps_placeholders_and_says_how_to_set_them() -> None:
    src = parse_file(BACKEND_001, "procedures/PROC-BACKEND-001-deploy-release.yml")
    text = runbook.render(src.procedure, "es", source=src.display)
    assert '"${base_dir}"/bin/demo-backend status' in text
    assert "| `base_dir` | `-e base_dir=...` (o la encuesta de AWX) | `base_dir: ...` |" in text
    assert "| `webhook` | variable de entorno `PROCC_WEBHOOK`, o `-e @vault.yml`" in text
    assert "Runbook del entorno" not in text


def test_e_beats_the_inventory_and_bad_values_are_refused() -> None:
    proc = parse_file(BACKEND_001).procedure
    values = envvalues.load(ROOT, "staging", proc, ["service_port=9090", "release=v3"])
    assert values.values["service_port"] == "9090" and values.origins["service_port"] == "-e"
    assert values.origins["base_dir"] == "inventories/staging/group_vars/backend.yml"
    assert values.origins["db_port"] == "default"
    with pytest.raises(UsageError, match=r"service_port='80 80' \(from -e\) is not a port"):
        envvalues.load(ROOT, "staging", proc, ["service_port=80 80"])
    with pytest.raises(UsageError, match="a secret never goes into a runbook"):
        envvalues.load(ROOT, "staging", proc, ["webhook=https://hooks.example/x"])


def test_internal_variables_are_explained_where_a_human_sets_them() -> None:
    text = runbook.render(parse_file(ROOT / "procedures" / "PROC-BACKEND-000-health-check.yml").procedure, "es")
    block = text.split("Para ejecutarlos a mano", 1)[1].split("```\n", 2)[1]
    for line in block.splitlines():
        name = line.split("=", 1)[0]
        if name.startswith(("procc_", "inventory_", "ansible_")):
            assert "  # " in line, line


HOSTILE = "<script>alert(1)</script> `tick` **b** | [l](javascript:x) &amp; <!-- c"
PROJECT = """\
id: PROC-TEST-031
type: maintenance
title: Valores hostiles
criticality: low
frequency: on-demand
estimated_minutes: 1
version: 1.0.0
updated: 2026-11-28
author: Tester
hosts: web
parameters:
  label: {description: Etiqueta, default: plano}
purpose: {what: Probar}
steps:
  - title: Usar la etiqueta
    minutes: 1
    run: echo {{ label }}
    if_fails: ['Revisar {{ label }}']
final_validation:
  health: [{url: "http://127.0.0.1:8080/{{ label }}", status: 200}]
"""


def _project(tmp_path: Path, value: str) -> envvalues.Values:
    inv = tmp_path / "inventories" / "test"
    (inv / "group_vars").mkdir(parents=True, exist_ok=True)
    (inv / "hosts.yml").write_text("all:\n  children:\n    web:\n      hosts:\n        web-1:\n", encoding="utf-8")
    import yaml

    (inv / "group_vars" / "web.yml").write_text(yaml.safe_dump({"label": value}), encoding="utf-8")
    return envvalues.load(tmp_path, "test", parse_text(PROJECT), [])


def test_an_inventory_value_never_becomes_markup_or_shell(tmp_path: Path) -> None:
    proc = parse_text(PROJECT)
    plain = mdtree.read(mdtree.split_front_matter(
        runbook.render(proc, "es", source="x.yml", values=_project(tmp_path, "plano")))[1])
    text = runbook.render(proc, "es", source="x.yml", values=_project(tmp_path, HOSTILE))
    tree = mdtree.read(mdtree.split_front_matter(text)[1])
    assert tree.shape == plain.shape
    assert tree.html == [] and tree.images == []
    assert all(link.startswith(mdtree.ALLOWED) for link in tree.links), tree.links
    shown = [mdtree.inline_text(t) for t in tree.tokens if t.type == "inline"]
    assert f"[ ] Revisar {HOSTILE}" in shown  # read as the text it is
    # In bash the value stays a variable, set once, shell-quoted: never part of a command's syntax.
    assert 'echo "${label}"' in text
    assert "label='<script>alert(1)</script> `tick` **b** | [l](javascript:x) &amp; <!-- c'" in text


def test_compile_env_writes_apart_and_check_never_asks_for_it(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rb"
    assert main(["compile", "--env", "staging", "-e", "release=v2", "--env-docs-dir", str(out),
                 str(BACKEND_001)]) == 0
    assert (out / "PROC-BACKEND-001-deploy-release.md").read_text(encoding="utf-8") == _staging(["release=v2"])
    assert not list(out.glob("*.yml"))  # no playbook
    assert main(["compile", "--env", "staging", "--env-docs-dir", "docs/backend/procedures",
                 str(BACKEND_001)]) == 2
    assert "where the generic runbooks are" in capsys.readouterr().err
    assert main(["compile", "-e", "release=v2", str(BACKEND_001)]) == 2
    assert main(["compile", "--env", "staging", "-e", "nope=1", "--env-docs-dir", str(out), str(BACKEND_001)]) == 2
    assert main(["check"]) == 0


def test_backups_location_takes_the_environments_value() -> None:
    src = parse_file(ROOT / "procedures" / "PROC-BACKEND-003-schema-migration.yml")
    values = envvalues.load(ROOT, "staging", src.procedure, [])
    text = runbook.render(src.procedure, "es", source="x.yml", values=values)
    assert "**Ubicacion de Backups:** `/var/backups/procc/pre-migracion-0002-<fecha>/`" in text
    assert "- [ ] Backup creado (P2): `/var/backups/procc/pre-migracion-0002-<fecha>/`" in text
