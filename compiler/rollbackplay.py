"""Small dedicated playbooks for ``procc rollback`` and for cleaning up an abort.

* the rollbacks of chosen steps (those an interrupted run had started), newest
  first, each in its own block so one failure does not stop the others;
* the procedure's full rollback ("Rollback Completo") on its own;
* killing the asynchronous step jobs an aborted run left on its targets.

Built as Python data with the playbook backend's own action emitter, so the
commands are the ones of the compiled playbook.
"""

from __future__ import annotations

from typing import Any

from compiler import covers, playbook
from compiler.i18n import Lang
from compiler.model import Procedure
from compiler.playbookexpr import ROLLBACK_ERROR
from compiler.yamlout import dump

Task = dict[str, Any]


def _play(b: playbook._Builder, tasks: list[Task], title: str) -> str:
    tasks = [*tasks, {
        "name": "Procc | Resultado del rollback",
        "ansible.builtin.assert": {
            "that": ["procc_rollback_failed | length == 0"],
            "fail_msg": "rolled back: {{ procc_rolled_back | join(', ') or 'none' }};"
                        " ROLLBACK FAILED for: {{ procc_rollback_failed | join(', ') }}",
            "success_msg": "rolled back: {{ procc_rolled_back | join(', ') or 'none' }}",
        },
    }]
    play = b.play_header(title)
    play["vars"] = {"procc_rolled_back": [], "procc_covered": [], "procc_rollback_failed": [],
                    "procc_rollback_error": ROLLBACK_ERROR, **b.parameter_defaults()}
    play["tasks"] = tasks
    return dump(playbook._ordered([play]))


def steps_rollback(proc: Procedure, steps: list[int], lang: Lang = "es") -> str:
    """A playbook running the rollbacks of ``steps`` (newest first).

    A rollback that covers earlier steps (``covers``) runs instead of theirs
    when they are among ``steps``, as in the run's own rescue.
    """
    b = playbook._Builder(proc, lang)
    wanted = set(steps)
    by = covers.covered(proc)
    skipped = {j for k in wanted for j in by.get(k, []) if proc.steps[k - 1].rollback is not None}
    tasks: list[Task] = []
    for k in sorted(wanted, reverse=True):
        step = proc.steps[k - 1]
        if step.rollback is None or k in skipped:
            continue
        p = f"{b.w['step']} {k}"
        name = f"{p} | {b.w['rollback_of']}"
        also = [j for j in by.get(k, []) if j in wanted]
        tasks.append(b.rollback_block(name, b.name(name, step.title), step.rollback, f"{p} | Rollback", str(k),
                                      also=repr(also) if also else None))
    return _play(b, tasks, "Rollback de pasos " + ", ".join(str(k) for k in sorted(steps)))


def full_rollback(proc: Procedure, lang: Lang = "es") -> str:
    """A playbook running the procedure's full rollback (R1..Rn)."""
    b = playbook._Builder(proc, lang)
    tasks: list[Task] = []
    for i, r in enumerate(proc.rollback.steps, 1):
        p = f"{b.w['step']} R{i}"
        tasks.append(b.rollback_block(f"{p} | {b.w['full_rollback']}", b.name(p, r.title), r, f"{p} |", f"'R{i}'"))
    return _play(b, tasks, b.w["full_rollback"])


def kill_jobs(proc: Procedure, jobs: dict[str, str]) -> str:
    """A playbook killing the asynchronous step jobs ``host -> job id`` on each host."""
    play: dict[str, Any] = {
        "name": f"{proc.id} | Detener trabajos de pasos",
        "hosts": ",".join(sorted(jobs)) or "none",
        "gather_facts": False,
        "vars": {"procc_jobs": dict(sorted(jobs.items()))},
        "tasks": [{
            "name": "Procc | Detener el proceso del paso",
            "ansible.builtin.shell": {"cmd": playbook.KILL_JOB, "executable": "/bin/bash"},
            "vars": {"procc_job": {"ansible_job_id": "{{ procc_jobs[inventory_hostname] | default('') }}"}},
            "changed_when": True,
        }],
    }
    return dump([play])
