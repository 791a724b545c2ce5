"""compiler.playbook's interruptible steps (``_Builder.interruptible``), asserted on the built task dicts.

An interruptible step runs asynchronously: the step's task starts a job
(``async``/``poll: 0``), a ``wait`` task polls it until it finishes or procc's
cancel file appears, and a ``kill`` and a ``stopped`` task end a job that
was asked to stop, so the block's rescue rolls back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler import playbook as pb
from compiler.i18n import Lang, words
from compiler.parse import parse_text

CLEAN = (Path(__file__).parent.parent / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")
STEP_RUN = "    run: touch {{ workdir }}/marca\n"
TAGS = ["step1"]
RUNNING = ("procc_job.ansible_job_id is defined and procc_job_status is not unreachable"
           " and not (procc_job_status.finished | default(true))")
SHELL_CMD = 'set -euo pipefail\nshopt -s inherit_errexit\ntouch "${workdir}"/marca'
ENV = {"workdir": "{{ workdir | default(procc_default_workdir) }}"}


def step_tasks(extra: str, text: str = CLEAN, lang: Lang = "en") -> list[dict[str, Any]]:
    """The tasks of step 1's block when the step has the ``extra`` YAML lines."""
    proc = parse_text(text.replace(STEP_RUN, STEP_RUN + extra), "p.yml")
    block = pb._Builder(proc, lang).step(1, proc.steps[0])
    tasks: list[dict[str, Any]] = block["block"]
    return tasks


def by_kind(tasks: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [task] = [t for t in tasks if t.get("vars", {}).get("procc_kind") == kind]
    return task


def kill(placed: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "Step 1 | Stop the step's process",
        "ansible.builtin.shell": {"cmd": pb.KILL_JOB, "executable": "/bin/bash"},
        "changed_when": True,
        "when": RUNNING,
        "vars": {"procc_kind": "kill"},
        **placed,
        "tags": TAGS,
    }


STOPPED = {
    "name": "Step 1 | Stopped by procc",
    "ansible.builtin.fail": {"msg": "procc-cancel: step stopped on request"},
    "when": RUNNING,
    "vars": {"procc_kind": "stopped"},
    "tags": TAGS,
}


def test_a_mutating_step_starts_a_job_and_waits_for_it() -> None:
    tasks = step_tasks("    interruptible: true\n")
    names = [t["name"] for t in tasks]
    assert names[1:5] == ["Step 1 | Crear marca", "Step 1 | Wait", "Step 1 | Stop the step's process",
                          "Step 1 | Stopped by procc"]
    assert tasks[6]["vars"] == {"procc_kind": "guard"}
    main = tasks[1]
    assert main == {
        "name": "Step 1 | Crear marca",
        "ansible.builtin.shell": {"cmd": SHELL_CMD, "executable": "/bin/bash"},
        "environment": ENV,
        # Starting the job changes nothing; the wait says whether the step did.
        "changed_when": False,
        "register": "procc_step_1",
        "tags": TAGS,
        "async": 86400,
        "poll": 0,
        "when": "not ansible_check_mode",
    }
    assert tasks[2] == {
        "name": "Step 1 | Wait",
        "ansible.builtin.async_status": {"jid": "{{ procc_job.ansible_job_id }}"},
        "register": "procc_job_status",
        "until": "procc_job_status.finished or procc_cancel_file is exists",
        "retries": 86400,
        "delay": 1,
        "changed_when": "procc_job_status.finished | default(false)",
        "when": "procc_job.ansible_job_id is defined",
        "vars": {"procc_kind": "wait"},
        "tags": TAGS,
    }
    assert tasks[3] == kill({})
    assert tasks[4] == STOPPED


def test_the_step_timeout_bounds_the_job_and_its_wait() -> None:
    tasks = step_tasks("    interruptible: true\n    timeout: 30\n")
    main, wait = tasks[1], tasks[2]
    assert "timeout" not in main  # async replaces the task timeout (Ansible would kill the poller instead)
    assert (main["async"], wait["retries"]) == (30, 30)


def test_placement_reaches_the_wait_and_the_kill_but_not_the_stop() -> None:
    tasks = step_tasks("    interruptible: true\n    where: controller\n    become: true\n")
    placed = {"delegate_to": "localhost", "become": True}
    assert {k: tasks[1][k] for k in placed} == placed
    assert {k: tasks[2].get(k) for k in placed} == placed
    assert tasks[3] == kill(placed)
    assert tasks[4] == STOPPED


def test_only_become_is_placed_when_the_step_runs_on_the_targets() -> None:
    tasks = step_tasks("    interruptible: true\n    become: false\n")
    assert tasks[3] == kill({"become": False})
    assert "delegate_to" not in tasks[2] and tasks[2]["become"] is False


def test_a_read_only_step_is_never_changed_and_runs_under_check() -> None:
    tasks = step_tasks("    interruptible: true\n    changes: false\n")
    main, wait = tasks[1], tasks[2]
    assert "when" not in main
    assert main["changed_when"] is False and main["check_mode"] is False
    assert wait["changed_when"] is False
    assert "failed_when" not in wait


def test_a_changes_condition_is_read_from_the_job_status() -> None:
    tasks = step_tasks("    interruptible: true\n    changes: {rc: 3, stdout_regex: \"^done\"}\n")
    main, wait = tasks[1], tasks[2]
    # The start task neither fails on the rc nor reads the condition's vars.
    assert "failed_when" not in main and "vars" not in main
    assert main["changed_when"] is False and main["register"] == "procc_step_1"
    assert wait["changed_when"] == (
        "(procc_job_status.finished | default(false)) and procc_job_status.rc == 3"
        " and procc_job_status.stdout is search(procc_changed_regex)")
    assert wait["failed_when"] == (
        "(procc_job_status.failed | default(false)) and (procc_job_status.rc | default(-1)) not in [0, 3]")


def test_a_changes_condition_without_rc_leaves_failing_to_the_job() -> None:
    tasks = step_tasks("    interruptible: true\n    changes: {stdout_contains: hecho}\n")
    wait = tasks[2]
    assert "failed_when" not in wait
    assert sorted(wait) == ["ansible.builtin.async_status", "changed_when", "delay", "name", "register", "retries",
                            "tags", "until", "vars", "when"]
    assert wait["changed_when"] == (
        "(procc_job_status.finished | default(false)) and procc_changed_contains in procc_job_status.stdout")


def test_the_wait_carries_the_vars_of_its_changes_condition() -> None:
    tasks = step_tasks("    interruptible: true\n    changes: {stdout_contains: hecho}\n")
    assert tasks[2]["vars"].get("procc_changed_contains") == "hecho"


SECRET = CLEAN.replace("    default: /tmp/procc-lint", "    default: /tmp/procc-lint\n  tok: {secret: true}")


def test_a_hidden_step_hides_its_wait_too() -> None:
    extra = "    interruptible: true\n"
    module = "    task: {ansible.builtin.uri: {url: 'http://x/{{ tok }}'}}\n"
    proc = parse_text(SECRET.replace(STEP_RUN, module + extra), "p.yml")
    tasks = pb._Builder(proc, "en").step(1, proc.steps[0])["block"]
    assert tasks[1]["no_log"] is True
    assert tasks[2]["no_log"] is True
    assert list(tasks[2])[-2:] == ["no_log", "tags"]
    assert "no_log" not in tasks[3] and "no_log" not in tasks[4]
    # A module step is interruptible too: its start task is the module, asynchronously.
    assert tasks[1]["ansible.builtin.uri"] == {"url": "http://x/{{ tok }}"}
    assert tasks[1]["async"] == 86400


def test_a_command_reading_a_secret_is_masked_not_hidden() -> None:
    proc = parse_text(SECRET.replace(STEP_RUN, "    run: echo {{ tok }}\n    interruptible: true\n"), "p.yml")
    tasks = pb._Builder(proc, "en").step(1, proc.steps[0])["block"]
    assert "no_log" not in tasks[1] and "no_log" not in tasks[2]
    assert "procc_mask" in tasks[1]["ansible.builtin.shell"]["cmd"]


def test_long_steps_are_interruptible_by_default_and_short_ones_are_not() -> None:
    long = step_tasks("", CLEAN.replace("    minutes: 2\n", "    minutes: 5\n"))
    assert long[1]["register"] == "procc_step_1" and long[2]["vars"] == {"procc_kind": "wait"}
    short = step_tasks("")
    assert short[1]["register"] == "procc_step_1" and "async" not in short[1]
    assert [t["vars"]["procc_kind"] for t in short if "vars" in t][:3] == ["cancel", "validate", "guard"]


def test_the_spanish_task_names() -> None:
    tasks = step_tasks("    interruptible: true\n", lang="es")
    w = words("es")
    assert [t["name"] for t in tasks[2:5]] == [f"Paso 1 | {w['t_wait']}", f"Paso 1 | {w['t_kill']}",
                                               f"Paso 1 | {w['t_stopped']}"]


def test_a_changes_condition_on_the_rc_alone() -> None:
    tasks = step_tasks("    interruptible: true\n    changes: {rc: 2}\n")
    main, wait = tasks[1], tasks[2]
    assert "vars" not in main and "failed_when" not in main
    assert wait == {
        "name": "Step 1 | Wait",
        "ansible.builtin.async_status": {"jid": "{{ procc_job.ansible_job_id }}"},
        "register": "procc_job_status",
        "until": "procc_job_status.finished or procc_cancel_file is exists",
        "retries": 86400,
        "delay": 1,
        "changed_when": "(procc_job_status.finished | default(false)) and procc_job_status.rc == 2",
        "failed_when": ("(procc_job_status.failed | default(false)) and (procc_job_status.rc | default(-1))"
                        " not in [0, 2]"),
        "when": "procc_job.ansible_job_id is defined",
        "vars": {"procc_kind": "wait"},
        "tags": TAGS,
    }
