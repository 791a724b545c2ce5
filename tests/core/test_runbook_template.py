"""The runbook is the team's template, exactly: its headings in its order, its quick checklist, every source field.

Read beside ``tests/fixtures/seed/plantilla-procedimiento-backend.md`` (the
team's template, byte for byte the seed's).
"""

from __future__ import annotations

import re

import pytest

from compiler import runbook
from compiler.parse import parse_file, parse_text
from tests.conftest import FIXTURES, ROOT
from tests.core.test_runbook import _outside_fences

SEED = FIXTURES / "seed" / "plantilla-procedimiento-backend.md"
BACKEND_001 = ROOT / "procedures" / "PROC-BACKEND-001-deploy-release.yml"

# Headings whose title is the procedure's own: the template's placeholders
# ("[Titulo del Paso]", "Verificar Estado del Sistema" as an example) allow it.
_OWN_TITLE = re.compile(r"^### (Paso P\d+|Paso R\d+|Paso (?:\d+|N)|Problema \d+):")


def _kind(heading: str) -> str:
    """A heading as the template names it: a step, R-step or problem by its kind, the rest verbatim."""
    m = _OWN_TITLE.match(heading)
    if not m:
        return heading
    label = m.group(1)
    for kind in ("Paso P", "Paso R", "Problema"):
        if label.startswith(kind):
            return kind
    return "Paso"


def _h3_kinds(text: str) -> list[str]:
    """The ``###`` headings, each run of steps (or R-steps, or problems) one entry."""
    out: list[str] = []
    for line in _outside_fences(text):
        if line.startswith("### "):
            kind = _kind(line)
            if not out or out[-1] != kind or kind == line:
                out.append(kind)
    return out


def _subsequence(needle: list[str], hay: list[str]) -> list[str]:
    """The items of ``needle`` not found in ``hay`` in order (empty: a subsequence)."""
    it = iter(hay)
    return [n for n in needle if not any(n == h for h in it)]


def test_every_template_heading_appears_in_order_in_backend_001() -> None:
    template = _h3_kinds(SEED.read_text(encoding="utf-8"))
    src = parse_file(BACKEND_001)
    text = runbook.render(src.procedure, "es", source="procedures/x.yml")
    generated = _h3_kinds(text)
    assert len(template) == 27  # the template's 35 headings, each run of P, numbered, R steps and problems as one
    assert _subsequence(template, generated) == []
    # The annexes the template names are its own, lettered as it does; the drill comes later.
    annexes = [h for h in _outside_fences(text) if h.startswith("### Anexo")]
    assert annexes[:2] == ["### Anexo A: Comandos Utiles", "### Anexo B: Checklist Rapido"]
    assert annexes[2:] == ["### Anexo C: Simulacro"]


def test_the_heading_check_sees_a_missing_or_misplaced_heading() -> None:
    template = _h3_kinds(SEED.read_text(encoding="utf-8"))
    src = parse_file(BACKEND_001)
    text = runbook.render(src.procedure, "es", source="procedures/x.yml")
    assert _subsequence(template, _h3_kinds(text.replace("### Anexo B: Checklist Rapido", "### Anexo B: Otro")))
    swapped = text.replace("### Limpieza", "### TMP").replace("### Notificaciones", "### Limpieza").replace(
        "### TMP", "### Notificaciones")
    assert _subsequence(template, _h3_kinds(swapped))


def _annex(text: str, heading: str) -> str:
    return text.split(heading + "\n", 1)[1].split("\n### ", 1)[0].split("\n---\n", 1)[0]


def test_quick_checklist_is_filled_from_the_procedure() -> None:
    src = parse_file(BACKEND_001)
    text = runbook.render(src.procedure, "es", source="x.yml")
    checklist = _annex(text, "### Anexo B: Checklist Rapido")
    items = [line for line in checklist.splitlines() if line.startswith("- [ ] ")]
    assert items == [
        "- [ ] Prerequisitos verificados (Pasos P1-P3 en verde)",
        "- [ ] Backup creado: no aplica, este procedimiento no crea backups",
        "- [ ] Equipo notificado (P3)",
        "- [ ] Paso 1 ejecutado exitosamente: Registrar la release activa",
        "- [ ] Paso 2 ejecutado exitosamente: Instalar la release junto a las demas",
        "- [ ] Paso 3 ejecutado exitosamente: Activar la release y reiniciar el servicio",
        "- [ ] Paso 4 ejecutado exitosamente: Verificar la lectura de datos con la release nueva",
        "- [ ] Validacion final: PASS",
        "- [ ] Monitoreo: Normal",
        "- [ ] Documentacion actualizada",
    ]


def test_quick_checklist_names_the_backup_and_its_location() -> None:
    src = parse_file(ROOT / "procedures" / "PROC-BACKEND-003-schema-migration.yml")
    text = runbook.render(src.procedure, "es", source="x.yml")
    checklist = _annex(text, "### Anexo B: Checklist Rapido")
    backup = [line for line in checklist.splitlines() if "Backup creado" in line]
    assert len(backup) == 1 and "(P" in backup[0] and "`" in backup[0], backup
    # ... and the pre-flight section says where the backups are, as the template does.
    pre = text.split("## Preparacion (Pre-Flight Checks)", 1)[1].split("\n## ", 1)[0]
    assert "**Ubicacion de Backups:** `" in pre


MINIMAL = """\
id: PROC-TEST-009
type: maintenance
title: Campos
criticality: low
frequency: on-demand
estimated_minutes: 1
version: 1.0.0
updated: 2026-11-28
author: Tester
hosts: web:&prod
serial: [1, '50%']
become: true
backups: /srv/backups/{{ app }}/
parameters:
  app: {description: Nombre, default: x, pattern: '^[a-z]+$'}
purpose: {what: Probar}
steps:
  - title: Paso uno
    minutes: 1
    timeout: 120
    become: false
    run: echo uno
    rollback:
      run: echo deshacer
      expected: Queda como antes
final_validation:
  health:
    - {name: API, url: "http://127.0.0.1:8080/health", status: 204, contains: pong, retries: 4, delay: 3,
       where: controller}
annexes:
  - title: Consultas
    language: sql
    commands: SELECT 1;
  - title: Comandos utiles
    commands: uptime
"""


def test_every_source_field_is_where_the_template_reader_expects_it() -> None:
    text = runbook.render(parse_text(MINIMAL), "es", source="x.yml")
    steps = text.split("## Pasos de Ejecucion", 1)[1].split("\n## ", 1)[0]
    assert "**Hosts:** `web:&prod`" in steps
    assert "**Lotes (serial):** lotes de `1`, `50%`" in steps
    assert "**Privilegios (become):** SI" in steps
    step1 = steps.split("### Paso 1: Paso uno", 1)[1]
    assert "**Tiempo Maximo:** 120 s" in step1
    assert "**Privilegios (become):** NO, aunque el procedimiento use become" in step1
    assert "**Resultado Esperado del rollback:** Queda como antes" in step1
    pre = text.split("## Preparacion (Pre-Flight Checks)", 1)[1].split("\n## ", 1)[0]
    assert "**Ubicacion de Backups:** `/srv/backups/{{ app }}/`" in pre
    health = text.split("### Verificar Salud del Sistema", 1)[1].split("\n### ", 1)[0]
    assert ("- API: `GET http://127.0.0.1:8080/health`; estado HTTP esperado: 204; la respuesta contiene "
            "`pong`; reintentos: 4, cada 3 s; desde el nodo de control") in health
    # The command by hand makes the same request: same URL, status not failed on, body checked, same retries.
    assert ("curl -fsS -L --max-time 30 --retry 4 --retry-delay 3 --retry-all-errors "
            "\"http://127.0.0.1:8080/health\" | grep -F -- \"pong\"") in health
    # Annex blocks in their own language; the source's "Comandos utiles" is the template's Anexo A.
    assert "### Anexo A: Comandos Utiles\n\n```bash\nuptime\n```" in text
    assert "### Anexo C: Consultas\n\n```sql\nSELECT 1;\n```" in text


def test_health_check_as_the_playbook_runs_it() -> None:
    """The runbook's health check states the playbook's uri task: URL, status, contains, retries, delay."""
    import yaml

    from compiler import playbook

    proc = parse_text(MINIMAL)
    plays = yaml.safe_load(playbook.render(proc, "es", source="x.yml"))
    tasks = [t for play in plays for t in _walk(play) if "ansible.builtin.uri" in t]
    assert len(tasks) == 1
    task = tasks[0]
    text = runbook.render(proc, "es", source="x.yml")
    assert f"`GET {task['ansible.builtin.uri']['url']}`" in text
    assert f"estado HTTP esperado: {task['ansible.builtin.uri']['status_code']}" in text
    assert f"reintentos: {task['retries']}, cada {task['delay']} s" in text
    assert f"contiene `{task['vars']['procc_expect_contains']}`" in text
    assert task.get("delegate_to") == "localhost" and "desde el nodo de control" in text


def _walk(node: object) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            out.extend(_walk(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_walk(v))
    return out


def test_annex_language_must_be_a_fence_word() -> None:
    from compiler.errors import CompileError

    bad = MINIMAL.replace("language: sql", "language: \"sql\\n# x\"")
    with pytest.raises(CompileError) as exc:
        parse_text(bad)
    assert "annexes[0].language" in exc.value.diagnostics[0].message


@pytest.mark.parametrize("lang", ["es", "en"])
def test_checklist_annex_golden(request: pytest.FixtureRequest, lang: str) -> None:
    """The quick checklist of PROC-BACKEND-001, as a golden file of its own (review it in the diff)."""
    from tests.support.golden import check_golden

    src = parse_file(BACKEND_001)
    text = runbook.render(src.procedure, lang, source="x.yml")  # type: ignore[arg-type]
    heading = "### Anexo B: Checklist Rapido" if lang == "es" else "### Annex B: Quick Checklist"
    annex = heading + "\n" + _annex(text, heading).rstrip() + "\n"
    check_golden(request, annex, ROOT / "tests" / "golden" / f"PROC-BACKEND-001-deploy-release.checklist.{lang}.md")
