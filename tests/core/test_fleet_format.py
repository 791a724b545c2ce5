"""The fleet keys (issue 10, item 6): serial, max_fail_percentage, throttle, forks.

Accepted in every form Ansible users write (a number, a percentage, a list
of them), refused with a positioned error otherwise; placed in the playbook
where Ansible reads them (play ``serial``/``throttle``, a step's block
``throttle``, the per-batch verdict of ``max_fail_percentage``) and stated in
the runbook, in Spanish and in English. That they behave is shown on ten
SSH hosts (tests/ssh/test_rolling.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from compiler import awx, playbook, runbook
from compiler.errors import CompileError
from compiler.parse import parse_file, parse_text
from compiler.runner import RunRequest
from tests.conftest import FIXTURES

FLEET = (FIXTURES / "procedures" / "PROC-TEST-010-fleet.yml").read_text(encoding="utf-8")
POS = re.compile(r"^p\.yml:(\d+):(\d+): error: (.+) \[([a-z-]+)\]$")


def _source(keys: str, step1: str = "") -> str:
    text = FLEET.replace("\nhosts: all\n", f"\nhosts: all\n{keys}", 1)
    if step1:
        text = text.replace("    title: Preparar el directorio del host\n",
                            f"    title: Preparar el directorio del host\n{step1}", 1)
    return text


def _errors(text: str) -> list[tuple[int, int, str, str]]:
    try:
        parse_text(text, "p.yml")
    except CompileError as exc:
        out = []
        for d in exc.diagnostics:
            m = POS.match(d.format())
            assert m, d.format()
            out.append((int(m[1]), int(m[2]), m[3], m[4]))
        return out
    return []


def _plays(text: str) -> list[dict[str, Any]]:
    # The playbook as data (compiler.playbook.build), the same dumped by render.
    return playbook.build(parse_text(text, "p.yml"), "es")


def _run_play(text: str) -> dict[str, Any]:
    return _plays(text)[0]


@pytest.mark.parametrize(("keys", "serial"), [
    ("serial: 2\n", 2), ("serial: '30%'\n", "30%"), ("serial: [1, '30%', 100%]\n", [1, "30%", "100%"]),
    ("serial: ['10%', 3]\n", ["10%", 3]),
])
def test_serial_forms_reach_the_run_play(keys: str, serial: Any) -> None:
    assert _errors(_source(keys)) == []
    play = _run_play(_source(keys))
    assert play["serial"] == serial
    outcome = _plays(_source(keys))[1]
    assert "serial" not in outcome  # the outcome play sees every host at once


@pytest.mark.parametrize(("keys", "col", "words"), [
    ("serial: 0\n", 9, "at least 1"),
    ("serial: '0%'\n", 9, "1..100%"),
    ("serial: '150%'\n", 9, "1..100%"),
    ("serial: '30 %'\n", 9, "percentage"),
    ("serial: []\n", 9, "empty list"),
    ("serial: [1, x]\n", 9, "'x'"),
    ("serial: true\n", 9, "number of hosts"),
    ("max_fail_percentage: 101\n", 22, "less than or equal to 100"),
    ("max_fail_percentage: -1\n", 22, "greater than or equal to 0"),
    ("max_fail_percentage: '30%'\n", 22, "valid integer"),
    ("throttle: 0\n", 11, "greater than or equal to 1"),
    ("forks: 0\n", 8, "greater than or equal to 1"),
])
def test_bad_fleet_values_are_positioned_errors(keys: str, col: int, words: str) -> None:
    errs = _errors(_source(keys))
    key = keys.split(":")[0]
    assert len(errs) == 1, errs
    line, c, msg, code = errs[0]
    assert (line, c) == (14, col), errs  # the value, on the line after 'hosts: all' (line 13)
    assert msg.startswith(f"{key}: ") and words in msg, msg
    assert code in ("invalid-value", "wrong-type"), code


def test_a_step_cannot_loosen_the_procedures_throttle() -> None:
    text = _source("throttle: 2\n", "    throttle: 5\n")
    line = text.splitlines().index("    throttle: 5") + 1
    assert _errors(text) == [(line, 15, "Paso 1 (steps[0]) has throttle 5, above the procedure's throttle 2: "
                              "a step can only lower it", "throttle-above-procedure")]
    assert _errors(_source("throttle: 2\n", "    throttle: 1\n")) == []


def test_throttle_on_the_plays_and_on_the_step_and_its_rollback() -> None:
    text = _source("throttle: 4\n", "    throttle: 2\n")
    plays = _plays(text)
    assert [p["throttle"] for p in plays] == [4, 4, 4]  # run, fleet rollback, outcome
    throttled = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict):
            if "throttle" in node and "block" in node:
                throttled.append((node["vars"].get("procc_step"), node["vars"].get("procc_kind"), node["throttle"]))
            for v in node.values():
                walk(v)

    walk([p["tasks"] for p in plays])
    # Step 1's block; its rollback in the rescue and in the fleet rollback of the outcome play.
    assert sorted(throttled, key=str) == sorted([(1, "run", 2), (1, "rollback", 2), (1, "rollback", 2)], key=str)


def test_max_fail_percentage_is_a_batch_verdict_not_the_play_keyword() -> None:
    # Ansible's keyword would count no failed host (the rescue) and, when it
    # trips, end the playbook before the outcome play: procc decides per batch.
    play = _run_play(_source("serial: 4\nmax_fail_percentage: 30\n"))
    assert "max_fail_percentage" not in play
    assert play["vars"]["procc_max_fail_percentage"] == 30
    verdict = [t for t in play["tasks"] if "procc_stop" in t.get("ansible.builtin.set_fact", {})
               and t["ansible.builtin.set_fact"]["procc_stop"]]
    assert len(verdict) == 1 and "> (procc_max_fail_percentage | int) * (procc_batch | length)" in \
        verdict[0]["ansible.builtin.set_fact"]["procc_stop"]
    assert play["tasks"][-1] is verdict[0]  # the batch's last task, after every host finished
    assert _run_play(_source(""))["vars"]["procc_max_fail_percentage"] == 0  # default: none tolerated


def test_forks_is_a_run_option_and_an_awx_job_template_field(tmp_path: Path) -> None:
    proc = parse_text(_source("forks: 12\n"), "p.yml")
    assert "forks" not in _run_play(_source("forks: 12\n"))  # not a play keyword
    assert proc.forks == 12
    # procc run passes RunRequest.forks (--forks) or else the procedure's to ansible-runner.
    assert RunRequest.__dataclass_fields__["forks"].default is None
    path = tmp_path / "p.yml"
    path.write_text(_source("forks: 12\n"), encoding="utf-8")
    assert awx.job_template(parse_file(path, "p.yml"), awx.Options())["forks"] == 12
    path.write_text(_source(""), encoding="utf-8")
    assert "forks" not in awx.job_template(parse_file(path, "p.yml"), awx.Options())


@pytest.mark.parametrize(("lang", "expected"), [
    ("es", ["**Hosts:** `all` (patron de inventario)",
            "**Lotes (serial):** lotes de `1`, `30%`, `100%` (el ultimo tamano se repite hasta cubrir todos los hosts)",
            "**Fallos tolerados por lote (max_fail_percentage):** 30%: los hosts que fallan se revierten",
            "**Hosts simultaneos (throttle):** como maximo 4 a la vez en cada tarea",
            "**Conexiones paralelas (forks):** 10 (procc run las pide; con ansible-playbook: --forks 10)",
            "**Hosts simultaneos:** como maximo 2 a la vez (este paso y su rollback)"]),
    ("en", ["**Hosts:** `all` (inventory pattern)",
            "**Batches (serial):** batches of `1`, `30%`, `100%` (the last size repeats",
            "**Failed hosts tolerated per batch (max_fail_percentage):** 30%: hosts that fail are rolled back "
            "and the others keep the change; a batch with more than 30% failed hosts stops the run",
            "**Hosts at once (throttle):** at most 4 at a time in each task",
            "**Parallel connections (forks):** 10 (procc run asks for them; with ansible-playbook: --forks 10)",
            "**Hosts at once:** at most 2 at a time (this step and its rollback)"]),
])
def test_the_runbook_states_the_fleet_execution(lang: str, expected: list[str]) -> None:
    text = _source("serial: [1, '30%', 100%]\nmax_fail_percentage: 30\nthrottle: 4\nforks: 10\n",
                   "    throttle: 2\n")
    md = runbook.render(parse_text(text, "p.yml"), lang, "p.yml")  # type: ignore[arg-type]
    heading = {"es": "\n## Pasos de Ejecucion\n", "en": "\n## Execution Steps\n"}[lang]
    steps = md.split(heading, 1)[1]
    for line in expected:
        assert line in steps, line
    # At the top of the execution section, above its first step.
    first = steps.index("### ")
    assert all(steps.index(line) < first for line in expected[:5])


def test_the_runbook_states_all_or_nothing_by_default() -> None:
    md = runbook.render(parse_text(_source(""), "p.yml"), "es", "p.yml")
    assert "**Lotes (serial):** todos los hosts a la vez" in md
    assert "**Fallos tolerados por lote (max_fail_percentage):** ninguno: si un host falla" in md
    assert "(todo o nada)" in md
