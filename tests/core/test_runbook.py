"""The runbook follows the team's template: sections, frontmatter, steps, fences."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from compiler import runbook
from compiler.parse import parse_file, parse_text
from tests.conftest import FIXTURES, FOUR_STEPS, ROOT

SEED = FIXTURES / "seed" / "plantilla-procedimiento-backend.md"
BACKEND_000 = ROOT / "docs" / "backend" / "procedures" / "PROC-BACKEND-000-health-check.md"


def _frontmatter(text: str) -> dict[str, object]:
    assert text.startswith("---\n")
    end = text.index("\n---\n", 4)
    data = yaml.safe_load(text[4:end])
    assert isinstance(data, dict)
    return data


def _outside_fences(text: str) -> list[str]:
    lines, fence = [], None
    for line in text.splitlines():
        m = re.match(r"^(`{3,}|~{3,})", line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None:
            lines.append(line)
    return lines


def _headings(text: str, level: str) -> list[str]:
    return [l for l in _outside_fences(text) if l.startswith(level + " ")]


def test_sections_and_frontmatter_match_the_template() -> None:
    seed = SEED.read_text(encoding="utf-8")
    generated = BACKEND_000.read_text(encoding="utf-8")
    assert _headings(generated, "##") == _headings(seed, "##")
    assert len(_headings(generated, "##")) == 13
    assert list(_frontmatter(generated)) == list(_frontmatter(seed))
    h1 = _headings(generated, "#")
    assert h1 == ["# PROC-BACKEND-000: Verificar la salud de un servidor backend"]


def test_step_subsections_and_fields() -> None:
    src = parse_file(FOUR_STEPS)
    text = runbook.render(src.procedure, "es", source="x.yml")
    h3 = _headings(text, "###")
    assert [h for h in h3 if h.startswith("### Paso")] == [
        "### Paso P1: Verificar directorio de trabajo",
        "### Paso 1: Crear marca uno",
        "### Paso 2: Crear marca dos",
        "### Paso 3: Crear marca tres con un modulo",
        "### Paso 4: Crear marca cuatro",
        "### Paso R1: Borrar todas las marcas",
    ]
    assert "### Problema 1: El directorio no existe" in h3
    step2 = text.split("### Paso 2:")[1].split("### Paso 3:")[0]
    for label in ("**Duracion Estimada:** 1 minuto", "**Criticidad:** MEDIA", "**Rollback Disponible:** SI",
                  "**Resultado Esperado:**", "**Validacion:**", "**Si falla:**", "**Rollback de este paso:**"):
        assert label in step2
    # The commands in the runbook are the source's, parameters read as bash variables.
    assert src.procedure.steps[1].run is not None
    expected = src.procedure.steps[1].run.replace("{{ workdir }}", '"${workdir}"').replace(
        '"{{ fail_step }}"', '"${fail_step}"')
    assert "```bash\n" + expected + "```" in step2
    assert "```yaml\n- ansible.builtin.copy:" in text


def test_english_runbook_has_the_same_shape() -> None:
    src = parse_file(FOUR_STEPS)
    es = runbook.render(src.procedure, "es", source="x.yml")
    en = runbook.render(src.procedure, "en", source="x.yml")
    assert len(_headings(es, "##")) == len(_headings(en, "##")) == 13
    assert len(_headings(es, "###")) == len(_headings(en, "###"))
    assert "## Full Rollback" in en and "### Step 2: Crear marca dos" in en
    assert "**Rollback Available:** YES" in en


@pytest.mark.slow  # many child processes (bash or procc): not in the unit layer's minute
@pytest.mark.parametrize("lang", ["es", "en"])
def test_output_is_byte_identical_across_processes_and_hash_seeds(tmp_path: Path, lang: str) -> None:
    """Every catalog and fixture procedure, compiled by separate processes under different hash seeds."""
    import os
    import subprocess
    import sys

    sources = sorted((ROOT / "procedures").glob("*.yml")) + sorted((FIXTURES / "procedures").glob("*.yml"))
    outs = []
    for seed in ("0", "4242"):
        out = tmp_path / f"seed{seed}"
        res = subprocess.run(
            [sys.executable, "-m", "compiler", "compile", "-q", "--lang", lang,
             "--docs-dir", str(out / "docs"), "--playbooks-dir", str(out / "playbooks"),
             *map(str, sources)],
            cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True,
            timeout=300, check=False)
        assert res.returncode in (0, 1), res.stderr  # 1: fixtures that are bad on purpose
        outs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert len(outs[0]) >= 2 * len(list((ROOT / "procedures").glob("*.yml")))
    assert outs[0] == outs[1]


MINIMAL = """\
id: PROC-TEST-009
type: maintenance
title: "Titulo con ``` y `comillas` <b>html</b> | tubo"
criticality: low
frequency: on-demand
estimated_minutes: 1
version: 1.0.0
updated: 2026-11-28
author: Tester
purpose: {{what: Probar}}
steps:
  - title: Paso con backticks
    minutes: 1
    run: |
{body}
"""


def test_code_fences_survive_backticks_in_commands() -> None:
    body = "      echo '```'\n      echo '````'\n      x=`date`\n"
    proc = parse_text(MINIMAL.format(body=body))
    text = runbook.render(proc, "es", source="x.yml")
    assert "`````bash\necho '```'\necho '````'\nx=`date`\n`````" in text
    # Free text cannot open HTML in the body, and headings stay one line.
    body = text.split("\n---\n", 1)[1]
    assert not re.search(r"(?<!\\)<b>", body)  # every "<" escaped: no tag can open
    assert "\\<b>html\\</b>" in text and "&lt;" not in text
    assert len(_headings(text, "##")) == 13


def test_free_text_cannot_open_emphasis() -> None:
    body = "      echo ok\n"
    proc = parse_text(MINIMAL.format(body=body).replace("purpose: {what: Probar}",
                                                        "purpose: {what: 'Cron 5 * * * * y db_*'}"))
    text = runbook.render(proc, "es", source="x.yml")
    # "_" before a non-letter could close emphasis: escaped as well.
    assert "Cron 5 \\* \\* \\* \\* y db\\_\\*" in text
