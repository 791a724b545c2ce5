"""compiler.runbook's view, field by field, where the goldens do not reach (mutation testing found the gaps).

Each test builds a small variant of the lint fixture ``clean.yml`` and
asserts on the data the template prints (or on the rendered text).
"""

from __future__ import annotations

from pathlib import Path

from compiler import runbook as r
from compiler.i18n import Lang
from compiler.loader import RoleDoc
from compiler.parse import parse_text

CLEAN = (Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")
ROLE_STEP = "    role: demo"


def view(text: str = CLEAN, lang: Lang = "en", roles: dict[str, RoleDoc] | None = None) -> r._View:
    return r._View(parse_text(text, "p.yml"), lang, "p.yml", roles)


def test_minutes_of_a_large_whole_number_is_not_in_exponent_form() -> None:
    # f"{1000000:g}" is "1e+06": a whole number must take the int path.
    assert r._minutes(1000000) == "1000000"
    assert r._minutes(1234567.0) == "1234567"


def test_render_defaults_to_spanish_and_no_source() -> None:
    proc = parse_text(CLEAN, "p.yml")
    assert r.render(proc) == r.render(proc, "es", "")
    assert r.render(proc) != r.render(proc, "en", "")


def test_render_passes_the_role_docs_to_the_view() -> None:
    proc = parse_text(CLEAN.replace("    run: touch {{ workdir }}/marca", ROLE_STEP), "p.yml")
    text = r.render(proc, "en", "p.yml", roles={"demo": RoleDoc("demo", "Says C(hello)", ())})
    assert "Role demo: Says `hello`." in text
    assert "Role demo: Says" not in r.render(proc, "en", "p.yml")


def test_a_role_summary_keeps_its_own_final_punctuation() -> None:
    proc_text = CLEAN.replace("    run: touch {{ workdir }}/marca", ROLE_STEP)
    for short in ("Done.", "Done!", "Done?", "Steps:"):
        v = view(proc_text, roles={"demo": RoleDoc("demo", short, ())})
        assert v.action_notes(v.proc.steps[0])[0] == f"Role demo: {short}"
    v = view(proc_text, roles={"demo": RoleDoc("demo", "Done", ())})
    assert v.action_notes(v.proc.steps[0])[0] == "Role demo: Done."


SIGNED = """approvals:
  created_by: {name: Ana, date: 2026-11-02}
  reviewed_by:
    - {name: Luis, date: 2026-11-03}
    - {name: Eva}
  approved_by: {name: Marta, date: 2026-11-04}
  tested_in: {env: staging}
changelog:"""


def test_approvals_list_every_signature() -> None:
    v = view(CLEAN.replace("changelog:", SIGNED, 1))
    assert v.approvals(r.Kpis()) == [
        ("Created by", "Ana - 2026-11-02"),
        ("Reviewed by", "Luis - 2026-11-03, Eva - pending"),
        ("Approved by", "Marta - 2026-11-04"),
        ("Tested in", "staging - pending"),
    ]


def test_approvals_pending_name_every_reviewer() -> None:
    v = view(CLEAN.replace("reviewers: [Revisor Uno]", "reviewers: [Uno, Dos]"))
    assert v.approvals(r.Kpis()) == [
        ("Created by", "Equipo procc - pending"),
        ("Reviewed by", "Uno - pending, Dos - pending"),
        ("Approved by", "pending"),
        ("Tested in", "pending"),
    ]


def test_a_check_without_expected_text_has_none() -> None:
    v = view()
    [check] = v.checks(list(v.proc.preflight), "P")
    assert check["expected"] == ""


def test_smoke_tests_are_numbered_without_a_prefix() -> None:
    text = CLEAN.replace("  metrics:\n", "  smoke:\n    - {title: Listar, run: ls, expected: Lista}\n  metrics:\n")
    smoke = view(text).final()["smoke"]
    assert [(s["heading"], s["expected"]) for s in smoke] == [("1: Listar", "Lista")]


def test_a_metric_with_only_a_lower_bound() -> None:
    text = CLEAN.replace("{name: disk_used_pct,", "{name: \"disk  used\",").replace("below: 95}", "above: 5}")
    final = view(text).final()
    assert final["health_block"].splitlines()[3] == "# disk used: > 5"
    assert final["criteria"][1] == "`disk used > 5`"


def test_vars_block_keeps_the_case_of_a_default_and_omits_an_empty_note() -> None:
    text = CLEAN.replace("    default: /tmp/procc-lint", "    default: /tmp/Procc\n  bare: {required: true}").replace(
        "    run: touch {{ workdir }}/marca", "    run: touch {{ workdir }}/{{ bare }}")
    assert view(text).vars_block() == "```bash\nbare=''\nworkdir=/tmp/Procc\n```"


def test_tested_in_adds_what_the_history_proves() -> None:
    v = view(CLEAN.replace("changelog:", SIGNED, 1))
    assert v.approvals(r.Kpis(tested=["local - 2026-11-20 (3 ejecuciones)"]))[-1] == (
        "Tested in", "staging - pending; local - 2026-11-20 (3 ejecuciones)")
    assert view(CLEAN).approvals(r.Kpis())[-1] == ("Tested in", "pending")


def fleet(extra: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    v = view(CLEAN.replace("hosts: all\n", "hosts: all\n" + extra))
    return v.w, v.fleet()


def test_fleet_of_a_procedure_with_every_fleet_keyword() -> None:
    w, rows = fleet("serial: [1, \"50%\"]\nmax_fail_percentage: 30\nthrottle: 4\nforks: 10\n")
    assert rows == [
        (w["fleet_hosts"], f"`all` ({w['fleet_hosts_text']})"),
        (w["fleet_serial"], w["fleet_serial_list"].format(sizes="`1`, `50%`")),
        (w["fleet_max_fail"], w["fleet_max_fail_pct"].format(n=30)),
        (w["fleet_throttle"], w["fleet_throttle_n"].format(n=4)),
        (w["fleet_forks"], w["fleet_forks_n"].format(n=10)),
        (w["become"], w["become_no"]),
    ]
    assert "30" in rows[2][1] and "4" in rows[3][1] and "10" in rows[4][1]


def test_fleet_batches_by_percentage_by_number_or_all_at_once() -> None:
    w, rows = fleet("serial: \"25%\"\n")
    assert rows[1][1] == w["fleet_serial_pct"].format(n="`25%`") and "`25%`" in rows[1][1]
    w, rows = fleet("serial: 3\n")
    assert rows[1][1] == w["fleet_serial_n"].format(n="`3`") and "`3`" in rows[1][1]
    w, rows = fleet("")
    assert [r[1] for r in rows[1:]] == [w["fleet_serial_all"], w["fleet_max_fail_none"], w["fleet_throttle_none"],
                                        w["fleet_forks_none"], w["become_no"]]


def test_a_throttled_step_says_how_many_hosts_at_once() -> None:
    v = view(CLEAN.replace("    minutes: 2\n", "    minutes: 2\n    throttle: 2\n"))
    w = v.w
    assert v.step(1, v.proc.steps[0])["throttle"] == w["step_throttle_n"].format(n=2)
    assert "2" in w["step_throttle_n"].format(n=2)
    assert view().step(1, view().proc.steps[0])["throttle"] == ""


def test_approvals_needed_before_starting_are_part_of_the_system_state() -> None:
    v = view(CLEAN.replace("prerequisites:\n", "prerequisites:\n  approvals: [Jefe <de> turno]\n"))
    state = v.build(r.Kpis())["system_state"]
    assert state[-1] == f"{v.w['approvals_needed']}: Jefe \\<de> turno"


def test_changes_text_of_a_single_condition() -> None:
    for changes, cond in [("{rc: 2}", ("changes_rc", {"rc": 2})), ("{stdout_contains: hecho}", ("changes_contains",
                          {"x": "`hecho`"})), ("{stdout_regex: \"^ok\"}", ("changes_regex", {"x": "`^ok`"}))]:
        v = view(CLEAN.replace("    run: touch {{ workdir }}/marca", "    run: touch {{ workdir }}/marca\n"
                               f"    changes: {changes}"))
        key, args = cond
        assert v.changes_text(v.proc.steps[0]) == v.w["changes_when"].format(cond=v.w[key].format(**args)), changes
