"""The Jinja expressions of the compiled playbook's bookkeeping, as Python constants.

Kept apart from :mod:`compiler.playbook` (which places them): how a failure's
cause is captured (message, rc, last lines of stderr and stdout; hidden for
``no_log`` tasks), how a lost host is noticed, which hosts of the run failed,
each host's outcome, and the human summary that ansible-playbook and AWX
users see as the final fail message. The fields are those of
``procc_result`` (see :mod:`compiler.protocol`).
"""

from __future__ import annotations

# The last 10 lines of a failed task's output stream, each cut at 300 characters.
TAIL_EXPR = ("((ansible_failed_result.{stream} | default('')) | string).splitlines()[-10:]"
             " | map('truncate', 300, true) | list")

# The results of a step's tasks that found the host unreachable (the closing check's
# condition): the step's own result (procc_step_K, K the block's procc_step), its
# job's status and its validation's.
LOST = ("{{ [hostvars[inventory_hostname]['procc_step_' ~ procc_step] | default({}), procc_job_status | default({}),"
        " procc_check | default({})] | select('unreachable') | list }}")


def reached(steps: int) -> str:
    """The steps of this run that were started, in order: those whose result
    ``procc_step_K`` is not the empty dict the play starts with (a skipped
    result counts: check mode skips a step that was reached)."""
    ks = f"range(1, {steps + 1})"
    return (f"{{{{ {ks} | zip(query('vars', *({ks} | map('string') | map('regex_replace', '^', 'procc_step_')),"
            " default={})) | selectattr('1') | map('first') | list }}")


# Steps that completed: all started ones, unless the run failed inside a step
# (the last started one), not in a stop asked before the next step.
DONE = "{{ procc_done if procc_failure.phase is defined else procc_reached }}"

# A failed no_log task (it sees a secret): its output and message stay hidden, its rc does not.
HIDDEN = "(ansible_failed_task.no_log | default(false) | bool)"
HIDDEN_MSG = ("(('non-zero return code; ' if (ansible_failed_result.rc | default(0)) != 0 else '')"
              " ~ 'output hidden by no_log')")

# A failed rollback's cause, read in its block's rescue (procc_step is the block's ref).
ROLLBACK_ERROR = (
    "{{ {'ref': procc_step, 'task': ansible_failed_task.name | default(''),"
    f" 'message': {HIDDEN_MSG} if {HIDDEN} else ((ansible_failed_result.msg | default('')) | string)"
    " | truncate(300, true), 'rc': ansible_failed_result.rc | default(none),"
    f" 'stderr': [] if {HIDDEN} else {TAIL_EXPR.format(stream='stderr')},"
    f" 'stdout': [] if {HIDDEN} else {TAIL_EXPR.format(stream='stdout')}}} }}}}"
)

def bad_hosts(hosts: str) -> str:
    """The failed hosts of this run among ``hosts`` (a Jinja list): rescued ones
    (procc_halt) and the ones that never reached the end of the run play
    (removed by Ansible: procc_finished)."""
    return (
        f"((({hosts}) | map('extract', hostvars) | selectattr('procc_halt', 'defined')"
        " | selectattr('procc_halt', 'equalto', procc_run_key) | map(attribute='inventory_hostname') | list)"
        f" + (({hosts}) | zip(({hosts}) | map('extract', hostvars)"
        " | map(attribute='procc_finished', default='') | list) | rejectattr('1', 'equalto', procc_run_key)"
        " | map('first') | list)) | unique | list"
    )


# Which hosts of the run failed, as seen from any host (the outcome play).
FLEET_BAD = bad_hosts("ansible_play_hosts_all")
# Whether a batch of this run failed beyond max_fail_percentage (its hosts set procc_stop).
STOPPED = ("ansible_play_hosts_all | map('extract', hostvars) | selectattr('procc_stop', 'defined')"
           " | selectattr('procc_stop', 'equalto', procc_run_key) | list | length > 0")
# This batch's verdict, on each of its hosts at the end of the run play: the
# run key when its failed hosts exceed procc_max_fail_percentage of the batch
# as Ansible counts (exceeded, not equalled), else ''. procc_batch is the
# batch as it began, before Ansible removed any host.
VERDICT = (
    f"procc_run_key if ({bad_hosts('procc_batch')}) | length * 100"
    " > (procc_max_fail_percentage | int) * (procc_batch | length) else ''"
)

# One host's outcome (see compiler.protocol): RB_STEPS and FULL_ROLLBACK are filled in per procedure.
OUTCOME = (
    "{%- set f = procc_failure -%}"
    "{%- if procc_halted -%}not-run"
    "{%- elif f.unreachable | default(false) -%}unreachable"
    "{%- elif (f.phase | default('')) in ['init', 'preflight'] -%}failed"
    "{%- elif procc_rollback_failed or procc_irreversible -%}failed"
    "{%- elif (f.phase | default('')) == 'final' -%}{{ 'rolled-back' if FULL_ROLLBACK else 'failed' }}"
    "{%- elif f.phase is not defined and procc_fleet_stop and not procc_started -%}not-run"
    "{%- elif f.phase is defined or procc_fleet_stop -%}"
    "{{ 'rolled-back' if procc_started | select('in', RB_STEPS) | reject('in', procc_rolled_back)"
    " | list | length == 0 else 'failed' }}"
    "{%- else -%}success{%- endif -%}"
)

# The human summary of one host's result, for ansible-playbook and AWX users
# (procc builds the same text from the procc_result dict: compiler.protocol.summary).
SUMMARY = (
    "{% set r = procc_result %}{{ procc_proc_id }} {{ r.host }}:"
    "{% if r.drill_passed %} DRILL PASSED: step {{ r.failed_step }} failed on purpose;"
    " rolled back {{ r.rolled_back | join(', ') }}"
    "{% elif r.outcome == 'not-run' %} NOT RUN: the run had stopped ({{ r.fleet_failed_hosts | join(', ') }} failed)"
    "{% elif r.outcome == 'unreachable' %} UNREACHABLE during step {{ r.failed_step }} ({{ r.failed_task }}):"
    " {{ r.message }}; its started steps {{ r.started | join(', ') }} were NOT rolled back; when it is back:"
    " procc rollback {{ procc_proc_id }} --run {{ procc_run_id }} --limit {{ r.host }}"
    "{% elif r.phase == 'preflight' %} FAILED in pre-flight ({{ r.failed_task }}): {{ r.message }}; no step was run"
    "{% elif r.phase == 'final' %} FAILED in final validation ({{ r.failed_task }}): {{ r.message }};"
    " full rollback ran: {{ r.rolled_back | join(', ') or 'none' }}"
    "{% elif r.phase == 'fleet' %} ROLLED BACK because {{ r.fleet_failed_hosts | join(', ') }} failed;"
    " rolled back: {{ r.rolled_back | join(', ') or 'none' }}"
    "{% else %} {{ 'DRILL FAILED' if procc_drill_hit else 'FAILED' }} at step {{ r.failed_step }}"
    " ({{ r.failed_task }}): {{ r.message }}; rolled back: {{ r.rolled_back | join(', ') or 'none' }}{% endif %}"
    "{% for c in r.covered | default([]) %}; step {{ c[0] }} undone by step {{ c[1] }}'s rollback{% endfor %}"
    "{% if r.rc is not none and r.rc != 0 %}; rc {{ r.rc }}{% endif %}"
    "{% if r.stderr %}; stderr: {{ r.stderr | join(' / ') }}{% endif %}"
    "{% if r.rollback_failed %}; ROLLBACK FAILED for: {{ r.rollback_failed | join(', ') }}"
    "{% for e in r.rollback_errors %} [{{ e.ref }}: {{ e.message }}{{ ' rc ' ~ e.rc if e.rc is not none else '' }}"
    "{{ '; ' ~ (e.stderr | join(' / ')) if e.stderr else '' }}]{% endfor %}{% endif %}"
    "{% if r.irreversible %}; irreversible, not rolled back: {{ r.irreversible | join(', ') }}{% endif %}"
)
