"""Direct tests of compiler.runbook's helpers: durations, Ansible doc markup, month arithmetic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from compiler import runbook as r
from compiler.parse import parse_text

CLEAN = (Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("value", "text"), [(1, "1"), (2.0, "2"), (1.5, "1.5"), (0.25, "0.25"), (90, "90")])
def test_minutes(value: float, text: str) -> None:
    assert r._minutes(value) == text


@pytest.mark.parametrize(("lang", "one", "many", "half"), [
    ("es", "1 minuto", "5 minutos", "0.5 minutos"),
    ("en", "1 minute", "5 minutes", "0.5 minutes"),
])
def test_duration_words(lang: r.Lang, one: str, many: str, half: str) -> None:
    view = r._View(parse_text(CLEAN, "p.yml"), lang, "p.yml")
    assert (view.duration(1), view.duration(5), view.duration(0.5)) == (one, many, half)


@pytest.mark.parametrize(("text", "expected"), [
    ("Use C(foo) and I(bar) or B(baz)", "Use `foo` and *bar* or **baz**"),
    ("V(x) ", "`x` "),
    (" lead C(a) trail ", " lead `a` trail "),
    ("# h", "\\# h"),
    ("C(a)C(b)", "`a``b`"),
    ("xC(a)", "xC(a)"),
    ("I(a_b) B(<x>)", "*a_b* **\\<x>**"),
    ("C(a `b`)", "`` a `b` ``"),
    ("", ""),
])
def test_ansible_doc(text: str, expected: str) -> None:
    assert r._ansible_doc(text) == expected


@pytest.mark.parametrize(("raw", "flat", "expected"), [
    (" a ", "a", " a "), ("", "", ""), (" ", "", " "), ("\t", "", " "), ("a", "a", "a"), (" a", "a", " a"),
    ("a ", "a", "a "), ("x", "", ""),
])
def test_keep_edges(raw: str, flat: str, expected: str) -> None:
    assert r._keep_edges(raw, flat) == expected


@pytest.mark.parametrize(("months", "day"), [
    (0, dt.date(2024, 1, 31)), (1, dt.date(2024, 2, 29)), (2, dt.date(2024, 3, 31)), (3, dt.date(2024, 4, 30)),
    (11, dt.date(2024, 12, 31)), (12, dt.date(2025, 1, 31)), (13, dt.date(2025, 2, 28)),
    (-1, dt.date(2023, 12, 31)), (25, dt.date(2026, 2, 28)),
])
def test_add_months_clamps_to_the_last_day(months: int, day: dt.date) -> None:
    assert r._add_months(dt.date(2024, 1, 31), months) == day


def test_add_months_keeps_the_day_when_it_exists() -> None:
    assert r._add_months(dt.date(2023, 11, 15), 3) == dt.date(2024, 2, 15)
    assert r._add_months(dt.date(2023, 3, 29), 11) == dt.date(2024, 2, 29)
    assert r._add_months(dt.date(2023, 3, 30), 11) == dt.date(2024, 2, 29)


def test_yaml_has_no_document_start() -> None:
    assert r._yaml({"a": [1]}) == "a:\n  - 1\n"


@pytest.fixture
def fresh_env() -> None:
    # The Jinja environment is built once per process: without a reset, a
    # broken _env() would never run again after the first render.
    r._ENV = None


def test_render_builds_its_environment_and_matches_the_golden(fresh_env: None) -> None:
    from compiler.parse import parse_file
    from tests.conftest import FOUR_STEPS, ROOT

    src = parse_file(FOUR_STEPS, FOUR_STEPS.relative_to(ROOT).as_posix())
    text = r.render(src.procedure, "en", source=src.display)
    assert text == (ROOT / "tests" / "golden" / f"{FOUR_STEPS.stem}.en.md").read_text(encoding="utf-8")
    env = r._env()
    assert env is r._ENV
    assert (env.autoescape, env.keep_trailing_newline, env.trim_blocks, env.lstrip_blocks) == (False, True, True, True)
    assert env.undefined.__name__ == "StrictUndefined"


def test_action_notes_with_and_without_role_docs() -> None:
    from compiler.loader import RoleDoc

    proc = parse_text(CLEAN.replace("    run: touch {{ workdir }}/marca", "    role: demo\n    where: controller"), "p.yml")
    act = proc.steps[0]
    documented = r._View(proc, "en", "p.yml", {"demo": RoleDoc("demo", "Check C(x)", ("Line I(one)", "B(two)"))})
    assert documented.action_notes(act) == [
        "Role demo: Check `x`.", "Line *one*", "**two**", "Runs on the control node, not on the target servers."]
    ended = r._View(proc, "es", "p.yml", {"demo": RoleDoc("demo", "Hecho!", ())})
    assert ended.action_notes(act)[0] == "Rol demo: Hecho!"
    assert r._View(proc, "en", "p.yml", {}).action_notes(act) == [
        "Role demo.", "Runs on the control node, not on the target servers."]
    assert r._View(proc, "en", "p.yml").action_notes(parse_text(CLEAN, "p.yml").steps[0]) == []


def test_action_block_of_a_command_is_a_bash_fence() -> None:
    proc = parse_text(CLEAN, "p.yml")
    block = r._View(proc, "en", "p.yml").action_block(proc.steps[0])
    assert block.startswith("```bash\n") and block.endswith("\n```")


VARS_PARAMS = """    default: /tmp/procc-lint
  flag: {description: Bandera, type: bool, default: true}
  token: {description: Token, secret: true, env: PROCC_TOKEN}
  pw: {description: Clave, secret: true}
  free: {description: "  Texto   libre ", required: true}"""
VARS_RUN = ("    run: echo {{ flag }} {{ token }} {{ pw }} {{ free }} {{ procc_proc_id }} {{ inventory_hostname }}"
            " {{ procc_run_id }} {{ workdir }}")


def test_vars_block_sets_every_variable_the_commands_read() -> None:
    text = CLEAN.replace("    default: /tmp/procc-lint", VARS_PARAMS).replace(
        "    run: touch {{ workdir }}/marca", VARS_RUN)
    proc = parse_text(text, "p.yml")
    assert r._View(proc, "en", "p.yml").vars_block() == (
        "```bash\nflag=true\nfree=''  # Texto libre\n"
        "inventory_hostname=\"$(hostname)\"  # the server's name in the Ansible inventory; by hand, this server\n"
        "procc_proc_id=PROC-TEST-100  # the procedure's id\n"
        "procc_run_id=manual  # the run's id: procc sets it for each run; by hand, any text\n"
        "read -rsp 'pw: ' pw  # secret: typed without being shown (never written in the runbook)\n"
        "token=\"${PROCC_TOKEN}\"  # secret: export PROCC_TOKEN first in this shell (never written in the runbook)\n"
        "workdir=/tmp/procc-lint\n```")


def test_expect_text() -> None:
    from compiler.model import Expect

    view = r._View(parse_text(CLEAN, "p.yml"), "en", "p.yml")
    w = view.w
    assert view.expect_text(Expect(), 0, 0, "task") == w["expect_task_ok"]
    assert view.expect_text(Expect(), 0, 0, "role") == w["expect_role_ok"]
    assert view.expect_text(Expect(), 0, 0, "url") == ""
    assert view.expect_text(Expect(stdout_contains="ok"), 3, 5, "task") == "; ".join([
        w["expect_contains"].format(s="`ok`"), w["retries"].format(r=3, d=5)])
    assert view.expect_text(Expect(), 2, 7, "run") == "; ".join([
        w["expect_rc"].format(rc=0), w["retries"].format(r=2, d=7)])


def test_checks_carry_retries_and_expected() -> None:
    text = CLEAN.replace("    run: test -d {{ workdir }}\n",
                         "    run: test -d {{ workdir }}\n    retries: 3\n    delay: 5\n    expected: Existe\n")
    view = r._View(parse_text(text, "p.yml"), "en", "p.yml")
    [check] = view.checks(list(view.proc.preflight), "P")
    w = view.w
    assert check["heading"] == "P1: Verificar directorio"
    assert check["criteria"] == "; ".join([w["expect_rc"].format(rc=0), w["retries"].format(r=3, d=5)])
    assert check["expected"] == "Existe"
    assert check["if_fails"] == []


def test_step_view_of_expected_and_irreversible() -> None:
    text = CLEAN.replace("    expected: Existe la marca\n", "").replace(
        "    rollback:\n      run: rm -f {{ workdir }}/marca\n", "    irreversible: No se puede deshacer <b>\n")
    view = r._View(parse_text(text, "p.yml"), "en", "p.yml")
    step = view.step(1, view.proc.steps[0])
    assert step["expected"] == ""
    assert step["irreversible"] == "No se puede deshacer \\<b>"
    assert step["rollback"] is None
    assert step["heading"] == "Step 1: Crear marca"
    clean = r._View(parse_text(CLEAN, "p.yml"), "en", "p.yml")
    assert clean.step(2, clean.proc.steps[0])["irreversible"] is None
    assert clean.step(2, clean.proc.steps[0])["expected"] == "Existe la marca"


def test_final_validation_block_and_criteria() -> None:
    view = r._View(parse_text(CLEAN.replace("below: 95}", "below: 95, above: 1.5}"), "p.yml"), "en", "p.yml")
    final = view.final()
    assert final["health_block"] == (
        "```bash\n# health: HTTP 200\ncurl -fsS -L --max-time 30 --retry 3 --retry-delay 2 --retry-all-errors "
        "-o /dev/null -w '%{http_code}\\n' \"http://localhost:8080/health\"\n"
        "# disk_used_pct: < 95 > 1.5\ndf -P / | awk 'NR==2 {print $5+0}'\n```")
    assert final["criteria"] == ["`http://localhost:8080/health` answers HTTP 200", "`disk_used_pct < 95 > 1.5`"]


def test_changes_text_lists_every_condition() -> None:
    text = CLEAN.replace("    run: touch {{ workdir }}/marca", "    run: touch {{ workdir }}/marca\n"
                         "    changes: {rc: 2, stdout_contains: hecho, stdout_regex: \"^ok\"}")
    view = r._View(parse_text(text, "p.yml"), "en", "p.yml")
    assert view.changes_text(view.proc.steps[0]) == (
        "Changes the system only when the exit status is 2 (0 and 2 both succeed) and the output contains `hecho` "
        "and the output matches `^ok`; not run under --check")


def test_parameter_and_tool_lines() -> None:
    text = CLEAN.replace("    default: /tmp/procc-lint", VARS_PARAMS).replace(
        '{name: bash, version: ">=5.0"}', '{name: bash, version: ">=5.0", note: solo GNU}')
    built = r._View(parse_text(text, "p.yml"), "en", "p.yml").build(r.Kpis())
    assert built["params"] == [
        "`flag`: Bandera (optional; type `bool`; default `True`)",
        "`free`: Texto libre (required)",
        "`pw`: Clave (optional; secret, never shown)",
        "`token`: Token (optional; secret, never shown; environment variable `PROCC_TOKEN`)",
        "`workdir`: Directorio de trabajo (optional; default `/tmp/procc-lint`)",
    ]
    assert built["tools"] == ["`bash` version 5.0 or later (solo GNU)"]


def test_front_matter_annexes_source_and_improvement() -> None:
    text = CLEAN.replace("author: Equipo procc", "author: Equipo Ñandú " + "largo " * 30).replace(
        "troubleshooting:", "continuous_improvement: Mejorar <b>\nannexes:\n"
        "  - {title: Uno, text: Texto uno, commands: ls}\n  - {title: Dos}\ntroubleshooting:")
    built = r._View(parse_text(text, "p.yml"), "en", "a`b.yml").build(r.Kpis())
    assert built["frontmatter"] == (
        "id: PROC-TEST-100\ntipo: maintenance\ncategoria: backend\ntitulo: Fixture de lint\ncriticidad: MEDIA\n"
        "frecuencia: on-demand\ntiempo_estimado: 10min\nversion: 1.0.0\nultima_actualizacion: 2026-11-01\n"
        "autor: Equipo Ñandú" + " largo" * 30 + "\nrevisores: [Revisor Uno]")
    assert [(a["heading"], a["text"], a["block"]) for a in built["annexes"]] == [
        ("Annex A: Useful Commands", "", None), ("Annex B: Quick Checklist", "", None),
        ("Annex C: Uno", "Texto uno", "```bash\nls\n```"), ("Annex D: Dos", "", None)]
    assert built["source"] == "a'b.yml"
    assert built["improvement"] == "Mejorar \\<b>"
    assert r._View(parse_text(CLEAN, "p.yml"), "en", "p.yml").build(r.Kpis())["improvement"] == ""
