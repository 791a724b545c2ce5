"""Both languages well written: no Spanish template word in English output and the other way round,
agreement in Spanish, no HTML entities, "Testeado en" from the history, diagnostics that name steps as the runbook.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from compiler import runbook
from compiler.history.kpis import kpis_for
from compiler.i18n import LANGS, Lang, kpi_words
from compiler.parse import parse_file, parse_text
from tests.conftest import FIXTURES, FOUR_STEPS, ROOT

PLAIN = ROOT / "tests" / "security" / "fixtures" / "md-plain.yml"
HISTORY = FIXTURES / "history" / "PROC-TEST-001.jsonl"
_WORD = re.compile(r"[A-Za-zÁÉÍÓÚÑáéíóúñ]{4,}")


def _tokens(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


# Words both runbooks rightly hold: the same in both languages (final, real, normal), or the
# technical English the team's Spanish template uses itself (rollback, checks, hosts, troubleshooting).
SHARED = frozenset(["ansible", "group", "inventories", "playbook", "runbook", "variable", "vars", "vault", "backup", "backups", "bash", "become", "builtin", "check", "checklist", "checks", "fail", "final", "flight", "forks", "host", "hosts", "http", "https", "irreversible", "kpis", "normal", "pass", "percentage", "post", "probable", "procc", "real", "rollback", "rollbacks", "serial", "tests", "throttle", "troubleshooting", "variables", "version", "would"])
# English words of the Spanish template (plantilla-procedimiento-backend.md): not Spanish words.
TEMPLATE_ENGLISH = frozenset(["date", "demand", "example", "health", "maintenance", "metrics", "monitoring", "name", "proc", "procedure", "production", "rate", "requests", "staging", "status", "text", "total", "type", "user"])
SEED = FIXTURES / "seed" / "plantilla-procedimiento-backend.md"


def _vocabulary(lang: Lang) -> set[str]:
    """The words of ``lang``, from sources independent of the other language's table.

    Spanish: the team's template and the Spanish words; English: the English words.
    """
    words = set().union(*(_tokens(v) for v in kpi_words(lang).values()))
    if lang == "es":
        words |= _tokens(SEED.read_text(encoding="utf-8"))
        words -= TEMPLATE_ENGLISH
    return words - SHARED


def _prose(text: str) -> str:
    """The runbook without code (fences, code spans) and without the front matter's Spanish keys."""
    body = text.split("\n---\n", 1)[1]
    body = re.sub(r"^(`{3,}|~{3,}).*?^\1\s*$", "", body, flags=re.S | re.M)
    body = re.sub(r"\[([^\]]*)\]\(\1\)", "", body)  # a link shown as its own path: a file name
    body = re.sub(r"\]\([^)\s]*\)", "]", body)  # link targets are paths, not words
    return re.sub(r"`+[^`]*`+", "", body)


def _neutral_procedure() -> str:
    """md-plain.yml with every free-text field a word of neither language: what is left is the template's."""
    return PLAIN.read_text(encoding="utf-8").replace("Texto plano", "Zzzz")


def _history_kpis(tmp_path: Path, lang: Lang) -> runbook.Kpis:
    (tmp_path / "procedures" / "history").mkdir(parents=True, exist_ok=True)
    shutil.copy(HISTORY, tmp_path / "procedures" / "history" / HISTORY.name)
    return kpis_for(parse_file(FOUR_STEPS, "x.yml"), tmp_path, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_no_word_of_the_other_language(tmp_path: Path, lang: Lang) -> None:
    other: Lang = "en" if lang == "es" else "es"
    foreign = _vocabulary(other)
    assert len(foreign) > 100  # the check has teeth: the other template's own words
    proc = parse_text(_neutral_procedure(), "x.yml")
    text = runbook.render(proc, lang, source="x.yml", kpis=_history_kpis(tmp_path, lang))
    found = _tokens(_prose(text)) & foreign
    assert found == set(), f"{lang} runbook holds {other} words: {sorted(found)}"


def test_the_scan_sees_a_foreign_word(tmp_path: Path) -> None:
    proc = parse_text(_neutral_procedure(), "x.yml")
    text = runbook.render(proc, "en", source="x.yml")
    assert _tokens(_prose(text.replace("Cleanup", "Limpieza"))) & _vocabulary("es") == {"limpieza"}
    es = runbook.render(proc, "es", source="x.yml")
    assert _tokens(_prose(es.replace("Limpieza", "Cleanup"))) & _vocabulary("en") == {"cleanup"}


def _section(text: str, heading: str) -> str:
    return text.split(heading + "\n", 1)[1].split("\n#", 1)[0].strip()


def test_empty_sections_agree_with_their_heading() -> None:
    data = yaml.safe_load(_neutral_procedure())
    data.update(post={}, continuous_improvement="", references={}, annexes=[])
    data["final_validation"].pop("smoke", None)
    data["prerequisites"].pop("tools", None)
    text = runbook.render(parse_text(yaml.safe_dump(data, allow_unicode=True), "x.yml"), "es", source="x.yml")
    for feminine in ("### Limpieza", "### Notificaciones", "### Documentacion", "### Pruebas Funcionales",
                     "### Mejora Continua", "### Documentacion Relacionada", "### Herramientas Requeridas"):
        assert _section(text, feminine).startswith("Ninguna."), feminine
    for masculine in ("### Contactos de Escalamiento", "### Recursos"):
        assert _section(text, masculine).startswith("Ninguno."), masculine
    assert "Ninguno." not in [_section(text, h) for h in ("### Limpieza", "### Notificaciones")]


def test_success_rate_of_one_run_is_singular(tmp_path: Path) -> None:
    (tmp_path / "procedures" / "history").mkdir(parents=True)
    first_run = HISTORY.read_text(encoding="utf-8").splitlines()[:2]
    (tmp_path / "procedures" / "history" / HISTORY.name).write_text("\n".join(first_run) + "\n", encoding="utf-8")
    src = parse_file(FOUR_STEPS, "x.yml")
    es = runbook.render(src.procedure, "es", source="x.yml", kpis=kpis_for(src, tmp_path, "es"))
    en = runbook.render(src.procedure, "en", source="x.yml", kpis=kpis_for(src, tmp_path, "en"))
    assert "**Tasa de Exito:** 100% (basado en la ultima ejecucion)" in es
    assert "**Success Rate:** 100% (based on the last run)" in en
    assert "ultimas 1" not in es


def test_tested_in_comes_from_recorded_runs_and_drills(tmp_path: Path) -> None:
    src = parse_file(FOUR_STEPS, "x.yml")
    es = runbook.render(src.procedure, "es", source="x.yml", kpis=_history_kpis(tmp_path, "es"))
    assert ("- **Testeado en:** production - 2026-01-04 (1 ejecucion correcta); "
            "staging - 2026-01-03 (1 ejecucion correcta, 1 simulacro superado)") in es
    bare = runbook.render(src.procedure, "es", source="x.yml")
    assert "- **Testeado en:** pendiente" in bare


def test_no_html_entities_in_the_markdown_source() -> None:
    for path in sorted((ROOT / "procedures").glob("*.yml")):
        src = parse_file(path, path.name)
        for lang in LANGS:
            text = runbook.render(src.procedure, lang, source=src.display)
            entities = re.findall(r"&(?:[A-Za-z]+|#[0-9]+|#x[0-9A-Fa-f]+);", _prose(text))
            assert entities == [], (path.name, lang, entities)
    # Tools read as the template words them.
    text = runbook.render(parse_file(ROOT / "procedures" / "PROC-BACKEND-001-deploy-release.yml").procedure, "es")
    assert "- [ ] `bash` version 5.0 o superior" in text
    assert "releases/\\<release\\>" not in text and "releases/\\<release>" in text


def test_role_descriptions_in_the_runbooks_language(tmp_path: Path) -> None:
    from compiler.loader import load_role_docs

    roles = load_role_docs(ROOT / "roles", "procc.ops")
    src = parse_file(ROOT / "procedures" / "PROC-BACKEND-001-deploy-release.yml")
    es = runbook.render(src.procedure, "es", source="x.yml", roles=roles)
    en = runbook.render(src.procedure, "en", source="x.yml", roles=roles)
    assert "_Rol procc.ops.notify: Publica un evento del procedimiento en un webhook de chat._" in es
    assert "_Role procc.ops.notify: Post a procedure event to a chat webhook._" in en
    assert "Post a procedure event" not in es and "Publica un evento" not in en
    # Every role of the collection speaks Spanish in the Spanish runbook.
    assert {name: doc.text("es")[0] != doc.short for name, doc in roles.items()} == {
        name: True for name in roles}
    # A role without a translation falls back to its argument_specs; a broken translation is skipped.
    meta = tmp_path / "r" / "meta"
    meta.mkdir(parents=True)
    (meta / "argument_specs.yml").write_text("argument_specs:\n  main:\n    short_description: Short\n")
    (meta / "docs.es.yml").write_text("short_description: [")
    (meta / "docs.fr.yml").write_text("short_description: Court\ndescription: Une ligne\n")
    doc = load_role_docs(tmp_path)["r"]
    assert doc.text("es") == ("Short", ()) and doc.text("fr") == ("Court", ("Une ligne",))


def test_diagnostics_name_steps_as_the_runbook_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A parse error and a lint finding about the third step both say "Paso 3 (steps[2] ...)"."""
    from compiler.cli import main
    from compiler.errors import CompileError

    text = (ROOT / "procedures" / "PROC-BACKEND-001-deploy-release.yml").read_text(encoding="utf-8")
    bad = text.replace("    criticality: critical\n", "    criticality: critical\n    minutes_x: 1\n", 1)
    with pytest.raises(CompileError) as exc:
        parse_text(bad, "p.yml")
    assert [d.message for d in exc.value.diagnostics] == ["unknown key 'minutes_x' (did you mean 'minutes'?)"]
    bad = text.replace("    criticality: critical\n", "    criticality: critical\n    timeout: 0\n", 1)
    with pytest.raises(CompileError) as exc:
        parse_text(bad, "p.yml")
    assert exc.value.diagnostics[0].message.startswith("Paso 3 (steps[2].timeout): "), exc.value.diagnostics
    # In the runbook the same step is "Paso 3".
    assert "### Paso 3: Activar la release" in runbook.render(parse_text(text, "p.yml"), "es")
    # A lint finding: step 3 without its expected result.
    bad = text.replace("    expected: demo-backend started (pid N, release <release>, port P)\n", "", 1)
    path = tmp_path / "PROC-BACKEND-001-x.yml"
    path.write_text(bad, encoding="utf-8")
    main(["lint", str(path)])
    out = capsys.readouterr().out
    assert "Paso 3 (steps[2]) 'Activar la release y reiniciar el servicio' has no 'expected' result" in out
