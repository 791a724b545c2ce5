"""The playbook backend: a Procedure as an Ansible playbook, built as Python data.

Failure semantics (DESIGN.md): pre-flight first; each step runs, then is
validated; when step k fails, the rollbacks of the started steps k..1 run in
that order (each in its own block, so one failing rollback does not stop the
others); a failed final validation runs the full rollback; post-execution
always runs. ``procc_fail_at=K`` is a drill: step K fails right after its
commands and validation, and the run succeeds only if every started step was
rolled back cleanly.

Lean (issue 14): a step is its own tasks plus one closing check (see
:meth:`_Builder.step`). Which steps started is read from their registered
results, once, where it is needed, never tracked by a task per step.

Three plays. The *run play* does the above on each host (``serial`` when the
procedure says so) and never fails a host itself: a failed host is rescued
and marks ``procc_halt``. The *fleet play* (when a step has a rollback) runs
on every host at once, decides whether the fleet rolls back and does it; a
host with nothing to roll back leaves it after one task (issue 14's lean
goal). The *outcome play* then runs on every host at once,
computes each host's ``procc_result`` (see :mod:`compiler.protocol`, which
also documents how the runner maps tasks to steps) and fails every host
that did not succeed with a human summary, for ansible-playbook and AWX.

Multi-host decision: **a procedure runs all-or-nothing across its hosts**
(unless ``max_fail_percentage`` tolerates some failed hosts, see below).
When any host fails (a step, a validation, or it becomes unreachable), the
run stops: later serial batches run nothing (``not-run``), and the fleet
play rolls back the started steps of every host that had not failed itself,
newest first (a rolling deployment failing on the second host leaves the
first as it was). Hosts keep running in lock-step within a batch, so in a
non-serial play the others finish their steps before being rolled back.

Fleet keywords. ``serial`` (a number, a percentage or a list of them, the
last size repeating) is the run play's own ``serial``: Ansible forms the
batches. ``throttle`` is Ansible's keyword too: the procedure's on both plays
(at most N hosts run any task at once), a step's on its block and on its
rollback block (undoing a step loads what the step loaded); a step can only
lower the procedure's. ``forks`` is not a play keyword but a run option:
``procc run`` passes it (or ``--forks N``) to ansible-runner, the runbook
tells ansible-playbook users to pass ``--forks N``.

``max_fail_percentage`` keeps its Ansible meaning, per batch, "exceeded, not
equalled" (30 with a batch of 4: one failed host continues, two stop), but
it is procc's, not the play keyword: the run play never fails a host (the
rescue), so Ansible would count nothing, and when its keyword trips it ends
the playbook, outcome play included. Instead each batch ends with a verdict
task: when its failed hosts (rescued, or removed by Ansible) exceed the
percentage of the batch as it began, its hosts set ``procc_stop``. Then:

- exceeded (and always without ``max_fail_percentage``, which means 0): the
  all-or-nothing decision below: later batches run nothing, every host is
  rolled back;
- within it: each failed host has rolled back its own started steps (its
  rescue); the other hosts keep the change and the later batches run. The
  run still fails, with each host's outcome, as ansible-playbook exits 2
  when a host failed even within ``max_fail_percentage``.

Unreachable hosts: a step block has ``ignore_unreachable: true``, so a host
lost mid-step stays in the play; its validation is not tried, and the step's
closing check fails it on the controller, its rescue skips the
rollbacks it cannot run, and the summary names it with the exact ``procc
rollback PROC --run ID --limit HOST``. The rescue must not fail the host:
ansible-playbook skips every later play once all hosts of a serial batch
failed, which would skip the outcome play. A host lost outside a step (in a
pre-flight check or a role's own task) is dropped by Ansible; it never
reaches the end of the run play (``procc_finished``), which the outcome play
also counts as a failed host.
"""

from __future__ import annotations

import re
from typing import Any

from compiler import capture, covers, shellvars, templating
from compiler.i18n import Lang, words
from compiler.model import (
    Action,
    ChangesWhen,
    Check,
    Expect,
    HealthCheck,
    Metric,
    Procedure,
    Step,
    captures,
    mutates,
    roles,
)
from compiler.playbookexpr import (
    DONE,
    FLEET_BAD,
    HIDDEN,
    HIDDEN_MSG,
    LOST,
    OUTCOME,
    ROLLBACK_ERROR,
    STOPPED,
    SUMMARY,
    TAIL_EXPR,
    VERDICT,
    reached,
)
from compiler.protocol import tag_vars
from compiler.yamlout import Unsafe, dump

Task = dict[str, Any]

# Marker in the drill's failure message; the rescue tells a drill from a real failure by it.
DRILL_MARK = "procc-drill"
# A graceful stop asked before a step (procc's cancel flag file): the step never started.
# An interruptible step stopped on request says "procc-cancel: step stopped" instead.
CANCEL_MARK = "procc-cancel: stop requested"
# Inside a step's block: whether the host was lost (a play var, LOST, reads the step's results).
LOST_NOW = "procc_lost | length > 0"
NOT_LOST = "procc_lost | length == 0"

# Where a command with a ``changes`` condition outside a step leaves its result
# (procc_result is the run's outcome, see compiler.protocol; a step's action
# registers step_register(k)).
CHANGE_REGISTER = "procc_out"
# The condition of a task that must not run under --check (it reads what a skipped task did).
NOT_CHECK = "not ansible_check_mode"


def _json_field(i: int, depth: int) -> str:
    """The condition that the response's JSON has field ``procc_json_path{i}`` equal to ``procc_json_value{i}``.

    The path's names are read from the variable, so no text of the source
    is ever part of the expression.
    """
    node = "procc_health_doc"
    conds: list[str] = []
    for level in range(depth):
        key = f"procc_json_path{i}[{level}]"
        conds.append(f"{node} is mapping and {key} in {node}")
        node = f"{node}[{key}]"
    conds.append(f"{node} == procc_json_value{i}")
    return " and ".join(conds)


class _Builder:
    def __init__(self, proc: Procedure, lang: Lang) -> None:
        self.proc = proc
        self.w = words(lang)
        # The source was validated: the post-only names appear only in post actions.
        self.allowed = (frozenset(proc.parameters) | templating.BUILTIN_NAMES | templating.POST_ONLY_NAMES
                        | frozenset(captures(proc)))
        self.secrets = frozenset(n for n, p in proc.parameters.items() if p.secret)
        self.defaulted = frozenset(n for n, p in proc.parameters.items() if p.default is not None)

    # -- small helpers -------------------------------------------------------

    def text(self, value: str) -> str:
        """An executed string: only declared parameters stay templated (defaults applied at use)."""
        out = templating.to_ansible(value, self.allowed)
        if not self.defaulted or "{{" not in out:
            return out
        refs = [r for r in templating.scan(out, self.allowed)[0] if r.name in self.defaulted]
        for ref in reversed(refs):
            head = _REF_HEAD.match(out, ref.offset)
            assert head is not None and head.group(1) == ref.name
            out = out[:head.end()] + f" | default({default_var(ref.name)})" + out[head.end():]
        return out

    def value(self, name: str) -> str:
        """The Jinja expression of parameter ``name``'s value: its default only when nothing else gives one."""
        if name in self.defaulted:
            return f"({name} | default({default_var(name)}))"
        return name

    def role_vars(self, values: dict[str, Any]) -> dict[str, Any]:
        """A role's variables, as :meth:`data`, without reading themselves.

        Role variables beat inventory variables, so ``backup_root: "{{
        backup_root }}"`` would read itself ("recursive loop") whenever the
        parameter comes from the inventory or group_vars. A parameter named
        like one of the role's variables is therefore read from the host's own
        variables (inventory, group_vars, host_vars, -e), where role
        variables are not.
        """
        data: dict[str, Any] = self.data(values)
        shadowed = sorted(set(values) & set(self.proc.parameters))
        if not shadowed:
            return data
        head = re.compile(r"(\{\{-?\s*)(" + "|".join(map(re.escape, shadowed)) + r")\b(?!\s*\()")

        def unshadow(node: Any) -> Any:
            if isinstance(node, str):
                return head.sub(lambda m: f"{m[1]}hostvars[inventory_hostname]['{m[2]}']", node)
            if isinstance(node, dict):
                return {k: unshadow(v) for k, v in node.items()}
            if isinstance(node, list):
                return [unshadow(v) for v in node]
            return node

        return {k: unshadow(v) for k, v in data.items()}

    def data(self, value: Any) -> Any:
        """Module or role arguments, with every string treated as :meth:`text`."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return value

    def name(self, prefix: str, title: str) -> str:
        return f"{prefix} | {templating.neutralize(title)}"

    def action(self, act: Action, *, mutating: bool, register: str | None = None,
               hide: bool = False) -> Task:
        """The module part of a task for a run/task/role action.

        Parameters reach a ``run`` command as environment variables of the
        task (see :mod:`compiler.shellvars`), never as text in the command,
        in which Ansible templates nothing.

        Check mode and changed status (``mutating``, see :func:`mutates`): a
        read-only action is never changed and runs for real under
        ``--check``; a mutating command is changed (or changed when its
        ``changes`` condition holds) and skipped by the shell module under
        ``--check``; a mutating module runs in check mode (with ``--diff``);
        a mutating role is skipped under ``--check``.
        """
        task: Task = {}
        task_vars: dict[str, Any] = {}
        if act.run is not None:
            cmd = shellvars.command(act.run, self.proc)
            secret = [n for n in cmd.names if n in self.secrets]
            prefix = SHELL_PREFIX + (mask_prefix(secret) if secret and not hide else "")
            # No reference is left in the text: every Jinja delimiter in it is
            # escaped to print literally (ansible-lint reads escapes, not !unsafe).
            task["ansible.builtin.shell"] = {"cmd": templating.to_ansible(prefix + cmd.text, frozenset()),
                                             "executable": "/bin/bash"}
            if cmd.names:
                task["environment"] = {n: self.env_value(n) for n in cmd.names}
            when = act.changes if isinstance(act.changes, ChangesWhen) else None
            if when is not None and mutating:
                register = register or CHANGE_REGISTER
                cond, cvars = self.change_condition(when, register)
                task["changed_when"] = cond
                task_vars.update(cvars)
                if when.rc is not None:
                    task["failed_when"] = f"{register}.rc not in [0, {when.rc}]"
            else:
                task["changed_when"] = mutating
        elif act.task is not None:
            module = act.module
            task[module] = self.data(act.task[module])
            if not mutating:
                task["changed_when"] = False
        else:
            assert act.role is not None
            task["ansible.builtin.include_role"] = {"name": act.role_fqcn}
            if not mutating:
                # Keywords of a dynamic include reach the role's tasks only through apply.
                task["ansible.builtin.include_role"]["apply"] = {"check_mode": False}
            else:
                task["when"] = "not ansible_check_mode"
            if act.vars:
                task["vars"] = self.role_vars(act.vars)
        if not mutating and act.role is None:
            task["check_mode"] = False
        if task_vars:
            task.setdefault("vars", {}).update(task_vars)
        if register:
            task["register"] = register
        if act.where == "controller":
            task["delegate_to"] = "localhost"
        if act.become is not None:
            task["become"] = act.become
        if act.timeout is not None and act.role is None:
            task["timeout"] = act.timeout
        if hide or (act.kind != "run" and self.uses_secret(act)):
            # A module's or role's arguments would carry the secret into
            # events and artifacts: hide them. A command reads secrets from
            # its environment and masks them in its own output instead, so
            # that its failure still says why.
            task["no_log"] = True
        return task

    def change_condition(self, when: ChangesWhen, reg: str) -> tuple[str, dict[str, Any]]:
        """The ``changed_when`` expression of a ``changes`` condition on result ``reg``, and its vars."""
        conds: list[str] = []
        cvars: dict[str, Any] = {}
        if when.rc is not None:
            conds.append(f"{reg}.rc == {when.rc}")
        if when.stdout_contains is not None:
            cvars["procc_changed_contains"] = self.text(when.stdout_contains)
            conds.append(f"procc_changed_contains in {reg}.stdout")
        if when.stdout_regex is not None:
            cvars["procc_changed_regex"] = Unsafe(when.stdout_regex)
            conds.append(f"{reg}.stdout is search(procc_changed_regex)")
        return " and ".join(conds), cvars

    def env_value(self, name: str) -> str:
        """The task environment entry that hands parameter ``name`` to bash."""
        param = self.proc.parameters.get(name)
        if param is None:
            return f"{{{{ {name} }}}}"
        if param.type == "bool":
            return f"{{{{ 'true' if ({self.value(name)} | bool) else 'false' }}}}"
        if not param.required and param.default is None:
            return f"{{{{ {name} | default('') }}}}"
        if name in self.defaulted:
            return f"{{{{ {name} | default({default_var(name)}) }}}}"
        return f"{{{{ {name} }}}}"

    def uses_secret(self, act: Action) -> bool:
        """Whether any executed text of ``act`` references a secret parameter."""
        if not self.secrets:
            return False
        texts = [act.run or "", repr(act.task or {}), repr(act.vars)]
        return any(ref.name in self.secrets for t in texts for ref in templating.references(t))

    def mentions_secret(self, *texts: str | None) -> bool:
        """Whether any of ``texts`` references a secret parameter."""
        return any(ref.name in self.secrets for t in texts if t for ref in templating.references(t))

    def checked(self, prefix: str, title: str, act: Action, expect: Expect,
                retries: int, delay: int, tags: list[str], *, mutating: bool = False,
                when: str | None = None) -> Task:
        """A probe: a command whose result must satisfy ``expect`` (with retries).

        Read-only unless declared otherwise (``mutating``), so it runs for
        real under ``--check``; ``when`` skips it (a validation of a step
        that check mode skipped).
        """
        reg = "procc_check"
        task: Task = {"name": self.name(prefix, title)}
        # Output checked for a secret cannot be masked: hide the whole task.
        hide = self.mentions_secret(expect.stdout_contains, expect.stdout_regex)
        task.update(self.action(act, mutating=mutating, register=reg, hide=hide))
        if mutating and act.kind == "run":
            # The shell module skips under --check, leaving nothing to check.
            when = when or NOT_CHECK
        if when is not None:
            _add_when(task, when)
        if act.kind == "role":
            task["tags"] = tags
            return task
        conds: list[str] = []
        task_vars: dict[str, Any] = {}
        if act.kind == "run":
            conds.append(f"{reg}.rc == {expect.rc}")
            if expect.stdout_contains is not None:
                task_vars["procc_expect_contains"] = self.text(expect.stdout_contains)
                conds.append(f"procc_expect_contains in {reg}.stdout")
            if expect.stdout_regex is not None:
                task_vars["procc_expect_regex"] = Unsafe(expect.stdout_regex)
                conds.append(f"{reg}.stdout is search(procc_expect_regex)")
        else:
            conds.append(f"{reg} is not failed")
        cond = " and ".join(conds)
        if act.kind == "run":
            task["failed_when"] = f"not ({cond})"
        if retries:
            task["until"] = cond
            task["retries"] = retries
            task["delay"] = delay
        if task_vars:
            task.setdefault("vars", {}).update(task_vars)
        task["tags"] = tags
        return task

    def setfact(self, name: str, facts: dict[str, Any], tags: list[str], when: str | None = None,
                kind: str | None = None) -> Task:
        task: Task = {"name": name, "ansible.builtin.set_fact": facts}
        if when:
            task["when"] = when
        if kind:
            task["vars"] = tag_vars(kind=kind)
        task["tags"] = tags
        return task

    # -- sections ------------------------------------------------------------

    def parameter_check(self) -> Task:
        """One assert of every parameter's presence, type, pattern and choices (any route, AWX too).

        Its failure names the parameters at fault (never their values): with
        an inventory, procc run leaves a missing required parameter to it.
        """
        that: list[str] = []
        pvars: dict[str, Any] = {}
        bad: list[str] = []
        for pname, param in sorted(self.proc.parameters.items()):
            # Whatever gives the value (-e, inventory, group_vars, host_vars,
            # the default), it is checked here, per host.
            v = self.value(pname)
            unset = "" if pname in self.defaulted else f"{pname} is not defined or "
            conds: list[str] = []
            if param.required:
                conds.append(("" if pname in self.defaulted else f"{pname} is defined and ")
                             + f"({v} | string | length) > 0")
            type_re = TYPE_PATTERNS.get(param.type)
            if type_re is not None:
                pvars[f"procc_type_{pname}"] = Unsafe(type_re)
                conds.append(f"{unset}({v} | string) is match(procc_type_{pname})")
            if param.type == "port":
                conds.append(f"{unset}(({v} | int) >= 1 and ({v} | int) <= 65535)")
            if param.pattern is not None:
                # re.fullmatch everywhere: the whole value, alternatives included.
                pvars[f"procc_pattern_{pname}"] = Unsafe(f"(?:{param.pattern})\\Z")
                conds.append(f"{unset}({v} | string) is match(procc_pattern_{pname})")
            if param.choices is not None:
                pvars[f"procc_choices_{pname}"] = [Unsafe(c) for c in param.choices]
                conds.append(f"{unset}({v} | string) in procc_choices_{pname}")
            if conds:
                that.extend(conds)
                bad.append(f"'{pname}' if not ({' and '.join(f'({c})' for c in conds)}) else ''")
        fail_msg = "procc: invalid or missing parameters"
        if bad:
            fail_msg += (": {{ [" + ", ".join(bad) + "] | select | join(', ') }}"
                         " (give each with -e NAME=VALUE, or in the inventory, group_vars or host_vars)")
        task: Task = {
            "name": f"Procc | {self.w['t_params']}",
            "ansible.builtin.assert": {
                "that": that or ["true"],
                "fail_msg": fail_msg,
                "quiet": True,
            },
        }
        task["vars"] = {**pvars, **tag_vars(kind="init")}
        if any(p.secret for p in self.proc.parameters.values()):
            task["no_log"] = True
        task["tags"] = ["always"]
        return task

    def preflight(self) -> list[Task]:
        """The pre-flight checks. No task marks the phase: the rescue reads a failure
        before any step started, and before final validation, as pre-flight's."""
        w = self.w
        tasks: list[Task] = []
        for i, check in enumerate(self.proc.preflight, 1):
            task = self._check(f"{w['step']} P{i}", check, ["preflight"], preflight=True)
            tasks.append(self.tagged(task, f"P{i}", "preflight"))
        return tasks

    def tagged(self, task: Task, step: int | str | None, kind: str) -> Task:
        """``task`` tagged for the runner; a role include is wrapped in a tagged block
        (its own vars are the role's arguments, which must keep the role's prefix)."""
        if "ansible.builtin.include_role" in task:
            return {"name": task["name"], "vars": tag_vars(step, kind), "block": [task], "tags": task["tags"]}
        task.setdefault("vars", {}).update(tag_vars(step, kind))
        return task

    def _check(self, prefix: str, check: Check, tags: list[str], *, preflight: bool = False,
               when: str | None = None) -> Task:
        # A role in pre-flight is a backup or a notification: it changes something unless declared.
        mutating = mutates(check, preflight and check.kind == "role")
        return self.checked(prefix, check.title, check, check.expect, check.retries, check.delay, tags,
                            mutating=mutating, when=when)

    def step(self, k: int, step: Step) -> Task:
        """Step ``k`` as one block tagged ``procc_step: k``; its tasks say their ``procc_kind``.

        Lean: the step's own tasks and one closing check, no bookkeeping
        tasks. The step's action registers ``procc_step_K`` (reset to ``{}``
        when the play starts), so "step K was started" is that result being
        non-empty (:data:`REACHED`), computed once where it is read: in the
        rescue and at the end of the run play, never accumulated per step.

        ``ignore_unreachable`` keeps a host that drops off mid-step in the
        play: the closing check fails it on the controller, so its rescue
        runs and the run stops (a validation is not tried on a lost host).
        The same check is the drill (``procc_fail_at=K``: after the step's
        commands and validation, with the drill's own message) and the
        graceful stop asked before the next step (procc's cancel flag file):
        conditions of a task that runs anyway, so they cost nothing when no
        drill or stop was asked for. Step 1 keeps its own stop check (nothing
        before it closes a step).
        """
        w = self.w
        p = f"{w['step']} {k}"
        tags = [f"step{k}"] + ([step.id] if step.id else [])
        last = k == len(self.proc.steps)
        tasks: list[Task] = []
        if k == 1:
            # A graceful stop asked for before the first step (during pre-flight) fails here.
            tasks.append({
                "name": f"{p} | {w['t_cancel']}",
                "ansible.builtin.fail": {"msg": f"{CANCEL_MARK} before step {k}"},
                "when": "procc_cancel_file is exists",
                "vars": tag_vars(kind="cancel"),
                "tags": tags,
            })
        main: Task = {"name": self.name(p, step.title)}
        mutating = mutates(step, True)
        # The step's own result: "started" (REACHED), the lost-host check and a changes condition read it.
        main.update(self.action(step, mutating=mutating, register=step_register(k)))
        main["tags"] = tags
        tasks.append(main)
        if step.is_interruptible:
            tasks.extend(self.interruptible(p, main, step, mutating, tags))
        if step.capture:
            # A capture that found nothing fails the step here, naming the capture.
            cap = capture.check(k, list(step.capture), p, w["t_capture"])
            _add_when(cap, NOT_LOST if not mutating else f"{NOT_LOST} and {NOT_CHECK}")
            cap["tags"] = tags
            tasks.append(self.tagged(cap, None, "validate"))
        if step.validate_ is not None:
            v = step.validate_
            # Under --check a mutating step did not run: there is nothing to validate.
            check = self.checked(f"{p} | {w['validate_task']}", step.title, v, v.expect, v.retries, v.delay,
                                 tags, mutating=mutates(v, False), when=NOT_CHECK if mutating else None)
            # A host lost during the step is not tried again (a delegated validation would misreport it).
            _add_when(check, NOT_LOST)
            tasks.append(self.tagged(check, None, "validate"))
        tasks.append(self.step_end(p, k, tags, last=last))
        block: Task = {
            "name": self.name(p, step.title),
            "vars": {**tag_vars(k, "run"), **({"procc_job": f"{{{{ {step_register(k)} }}}}"}
                                             if step.is_interruptible else {})},
            "ignore_unreachable": True,
            "tags": tags,
            "block": tasks,
        }
        if step.throttle is not None:
            block["throttle"] = step.throttle
        return block

    def step_end(self, p: str, k: int, tags: list[str], *, last: bool) -> Task:
        """The closing check of step ``k``: host lost, drill, or a stop asked before the next step.

        It fails on the controller with the message the rescue and the
        summary read (``procc-unreachable``, ``procc-drill``,
        ``procc-cancel``), in that order of precedence; skipped, the step is
        done. No stop check after the last step: final validation follows.
        """
        w = self.w
        drill = f"procc_fail_at | int == {k}"
        conds = [LOST_NOW, drill] + ([] if last else ["procc_cancel_file is exists"])
        lost_msg = "('procc-unreachable: ' ~ ((procc_lost | first).msg | default('')))"
        drill_msg = f"'{DRILL_MARK}: procc_fail_at={k}'"
        other = drill_msg if last else f"({drill_msg} if {drill} else '{CANCEL_MARK} before step {k + 1}')"
        msg = f"{{{{ {lost_msg} if {LOST_NOW} else {other} }}}}"
        checks = [w["t_guard"], f"{w['drill_task']} procc_fail_at={k}"] + ([] if last else [w["t_cancel"]])
        return {
            "name": f"{p} | {w['t_done']} ({'; '.join(checks)})",
            "ansible.builtin.fail": {"msg": msg},
            "when": " or ".join(conds),
            "vars": tag_vars(kind="guard"),
            "tags": tags,
        }

    def interruptible(self, p: str, main: Task, step: Step, mutating: bool, tags: list[str]) -> list[Task]:
        """Run ``main`` asynchronously, polled until done or until procc asks to stop.

        A signal to ansible-playbook would skip rescue; this way the step's
        process is killed by the playbook itself and the rescue rolls back.
        The ``wait`` task carries the step's result (rc, stderr) when it fails.
        Starting the job changes nothing: the step's changed status is its
        wait's, once the job finished.
        """
        w = self.w
        limit = step.timeout or 86400
        main.pop("timeout", None)
        main["async"] = limit
        main["poll"] = 0
        # The job's handle stays the step's result (procc_step_K; the block names it procc_job).
        main["changed_when"] = False
        main.pop("failed_when", None)
        if mutating:
            # The shell module does not skip an asynchronous job under --check: skip it here.
            _add_when(main, NOT_CHECK)
        changed: bool | str = "procc_job_status.finished | default(false)" if mutating else False
        wait_extra: Task = {}
        if mutating and isinstance(step.changes, ChangesWhen):
            cond, cvars = self.change_condition(step.changes, "procc_job_status")
            changed = f"(procc_job_status.finished | default(false)) and {cond}"
            main.pop("vars", None)
            wait_extra["vars"] = cvars
            if step.changes.rc is not None:
                wait_extra["failed_when"] = (
                    f"(procc_job_status.failed | default(false)) and (procc_job_status.rc | default(-1))"
                    f" not in [0, {step.changes.rc}]"
                )
        hidden = {"no_log": True} if main.get("no_log") else {}
        # The changes condition's vars and the task's own tags, both: the
        # condition reads procc_changed_* when the job has finished.
        wait_vars = {**wait_extra.pop("vars", {}), **tag_vars(kind="wait")}
        running = ("procc_job.ansible_job_id is defined and procc_job_status is not unreachable"
                   " and not (procc_job_status.finished | default(true))")
        placed = {
            **({"delegate_to": main["delegate_to"]} if "delegate_to" in main else {}),
            **({"become": main["become"]} if "become" in main else {}),
        }
        return [
            {
                "name": f"{p} | {w['t_wait']}",
                "ansible.builtin.async_status": {"jid": "{{ procc_job.ansible_job_id }}"},
                "register": "procc_job_status",
                "until": "procc_job_status.finished or procc_cancel_file is exists",
                "retries": limit,
                "delay": 1,
                "changed_when": changed,
                **wait_extra,
                "when": "procc_job.ansible_job_id is defined",
                "vars": wait_vars,
                **placed,
                **hidden,
                "tags": tags,
            },
            {
                "name": f"{p} | {w['t_kill']}",
                "ansible.builtin.shell": {"cmd": KILL_JOB, "executable": "/bin/bash"},
                "changed_when": True,
                "when": running,
                "vars": tag_vars(kind="kill"),
                **placed,
                "tags": tags,
            },
            {
                "name": f"{p} | {w['t_stopped']}",
                "ansible.builtin.fail": {"msg": "procc-cancel: step stopped on request"},
                "when": running,
                "vars": tag_vars(kind="stopped"),
                "tags": tags,
            },
        ]

    def final_validation(self) -> list[Task]:
        """Health checks, metrics and smoke tests: probes, run for real under --check when they can be.

        They check what the steps did: when check mode skipped a step (any
        step that changes something), they are skipped too.
        """
        fv = self.proc.final_validation
        tags = ["final_validation"]
        tasks: list[Task] = [self.setfact(f"Procc | {self.w['t_phase_final']}", {"procc_phase": "final"},
                                          tags, kind="final")]
        prefix = self.w["final_validation"]
        probes: list[Task] = []
        for h in fv.health:
            probes.extend(self._health(prefix, h, tags))
        for m in fv.metrics:
            probes.extend(self._metric(prefix, m, tags))
        for s in fv.smoke:
            probes.append(self._check(prefix, s, tags))
        probes = [self.tagged(t, None, "final") for t in probes]
        if any(mutates(step, True) for step in self.proc.steps):
            for task in probes:
                _add_when(task, NOT_CHECK)
        return tasks + probes

    def _health(self, prefix: str, h: HealthCheck, tags: list[str]) -> list[Task]:
        """One health check: an HTTP request (a request task, then an assert that says what
        failed), a TCP connection (wait_for) or a command (as a smoke test), with retries.

        Every value from the source reaches Ansible as data: header values,
        the body and the expected JSON are task variables or module
        arguments (only declared parameters stay templated); header names and
        JSON paths were checked by the model, and a JSON path is read through
        variables, never written into an expression.
        """
        if h.kind == "command":
            assert h.command is not None
            check = Check(title=h.title, run=h.command, expect=Expect(stdout_contains=h.contains),
                          retries=h.retries, delay=h.delay, where=h.where, timeout=h.timeout)
            return [self._check(prefix, check, tags)]
        hide = self.mentions_secret(*h.texts())
        placed: Task = {"delegate_to": "localhost"} if h.where == "controller" else {}
        retry: Task = ({"until": "procc_health is not failed" if h.kind == "tcp" else "procc_health_ok",
                        "retries": h.retries, "delay": h.delay} if h.retries else {})
        if h.kind == "tcp":
            host, port = h.host_port
            task: Task = {
                "name": self.name(prefix, h.title),
                "ansible.builtin.wait_for": {"host": self.text(host),
                                             "port": int(port) if port.isdigit() else self.text(port),
                                             "timeout": h.timeout, "state": "started"},
                "register": "procc_health",
                "check_mode": False,
                **retry,
                **placed,
            }
            if hide:
                task["no_log"] = True
            task["tags"] = tags
            return [task]
        assert h.url is not None
        args: dict[str, Any] = {"url": self.text(h.url), "method": h.method, "status_code": h.status,
                                "return_content": h.contains is not None or h.json_ is not None,
                                "timeout": h.timeout}
        if not h.validate_certs:
            args["validate_certs"] = False
        if h.ca_path is not None:
            args["ca_path"] = self.text(h.ca_path)
        if h.headers:
            args["headers"] = {k: self.text(v) for k, v in h.headers.items()}
        if isinstance(h.body, str):
            args["body"] = self.text(h.body)
        elif h.body is not None:
            args["body"] = self.data(h.body)
            args["body_format"] = "json"
        conds = [f"(procc_health.status | default(-1) | int) == {h.status}"]
        hvars: dict[str, Any] = {"procc_health_name": Unsafe(h.title)}
        expected = [f"HTTP {h.status}"]
        if h.contains is not None:
            hvars["procc_expect_contains"] = self.text(h.contains)
            conds.append("procc_expect_contains in (procc_health.content | default(''))")
            expected.append("a body with the expected text")
        if h.json_:
            # The response's JSON (uri parses it when the server says application/json).
            hvars["procc_health_doc"] = "{{ procc_health.json | default(none) }}"
        for i, (path, value) in enumerate((h.json_ or {}).items()):
            hvars[f"procc_json_path{i}"] = [Unsafe(p) for p in path.split(".")]
            hvars[f"procc_json_value{i}"] = self.text(value) if isinstance(value, str) else value
            conds.append(_json_field(i, len(path.split("."))))
            expected.append(f"JSON {path}")
        # The request never fails by itself: the assert after it says what was wrong.
        hvars["procc_health_ok"] = "{{ " + " and ".join(f"({c})" for c in conds) + " }}"
        request: Task = {
            "name": self.name(prefix, h.title),
            "ansible.builtin.uri": args,
            "register": "procc_health",
            "failed_when": False,
            "check_mode": False,
            "vars": dict(hvars),
            **retry,
            **placed,
        }
        hvars["procc_health_expected"] = Unsafe(", ".join(expected))
        verdict: Task = {
            "name": self.name(prefix, f"{h.title} ({self.w['t_health_verdict']})"),
            "ansible.builtin.assert": {
                "that": ["procc_health_ok | bool"],
                "fail_msg": ("health check '{{ procc_health_name }}' failed: "
                             "{{ procc_health.msg | default('') | truncate(200, true) }} "
                             "(HTTP {{ procc_health.status | default(-1) }}; expected {{ procc_health_expected }})"),
                "success_msg": "health check '{{ procc_health_name }}' passed",
                "quiet": True,
            },
            "vars": hvars,
        }
        # The request carries the headers and the body: hidden when one names a
        # secret. The verdict only carries the expected text and JSON values
        # (hidden when those do) and the request's status and message, in
        # which procc's masking catches any spelling of a secret, so that a
        # failure still says why (a refused certificate, a timeout).
        if hide:
            request["no_log"] = True
        if self.mentions_secret(h.contains, *(v for v in (h.json_ or {}).values() if isinstance(v, str))):
            verdict["no_log"] = True
        request["tags"] = verdict["tags"] = tags
        return [request, verdict]

    def _metric(self, prefix: str, m: Metric, tags: list[str]) -> list[Task]:
        measure: Task = {"name": self.name(prefix, f"{m.name} ({self.w['t_measure']})")}
        measure.update(self.action(m, mutating=mutates(m, False), register="procc_metric"))
        measure["tags"] = tags
        that = ["procc_metric.stdout | trim is match('^-?[0-9.]+([eE][-+]?[0-9]+)?$')"]
        names: list[str] = []  # the task name: static (a template there only renders late)
        limits: list[str] = []  # the messages: with the parameter's value
        for which, op in (("below", "<"), ("above", ">")):
            value = getattr(m, which)
            if value is None:
                continue
            param = m.threshold_param(which)
            # A parameter's value was checked against its type (int or float)
            # before anything ran, so the comparison is between numbers.
            bound = f"({self.value(param)} | float)" if param is not None else str(value)
            that.append(f"(procc_metric.stdout | trim | float) {op} {bound}")
            names.append(f"{op} {param if param is not None else value}")
            limits.append(f"{op} {{{{ {bound} }}}}" if param is not None else f"{op} {value}")
        limit = " and ".join(limits)
        check: Task = {
            "name": self.name(prefix, f"{m.name} {' and '.join(names)}"),
            "ansible.builtin.assert": {
                "that": that,
                "fail_msg": f"metric {{{{ procc_metric_name }}}} = {{{{ procc_metric.stdout | trim }}}}, required {limit}",
                "success_msg": f"metric {{{{ procc_metric_name }}}} = {{{{ procc_metric.stdout | trim }}}} ({limit})",
            },
            "vars": {"procc_metric_name": Unsafe(m.name)},
            "tags": tags,
        }
        return [measure, check]

    def rescue(self) -> list[Task]:
        """Record the failure once, with the run's bookkeeping, then roll back.

        Which steps started (``procc_started``) and completed
        (``procc_done``), the current one and the phase come from the steps'
        registered results (:data:`REACHED`), computed here and at the end
        of the run play, not by tasks in every step: ``procc_phase`` only
        says final validation; before it, a step was running when one was
        started, else pre-flight was. Every step started before the last one
        completed (a failure stops the run); the last one did too when the
        failure is a stop asked before the next step.
        """
        w = self.w
        rb_tags = ["rollback", "always"]
        msg = "((ansible_failed_result.msg | default('')) | string)"
        failure = {
            "phase": "{{ procc_ph }}",
            "step": (f"{{{{ procc_s | last if procc_ph == 'step' and not {msg}.startswith('procc-cancel')"
                     " else none }}"),
            "task": "{{ ansible_failed_task.name | default('') }}",
            "message": f"{{{{ {HIDDEN_MSG} if {HIDDEN} else {msg} | truncate(300, true) }}}}",
            "rc": "{{ ansible_failed_result.rc | default(none) }}",
            "stderr": f"{{{{ [] if {HIDDEN} else {TAIL_EXPR.format(stream='stderr')} }}}}",
            "stdout": f"{{{{ [] if {HIDDEN} else {TAIL_EXPR.format(stream='stdout')} }}}}",
            "drill": f"{{{{ {msg}.startswith('{DRILL_MARK}') }}}}",
            "cancel": f"{{{{ {msg}.startswith('procc-cancel') }}}}",
            "unreachable": f"{{{{ {msg}.startswith('procc-unreachable') }}}}",
        }
        record = self.setfact(
            f"Procc | {w['t_rescue']}",
            {
                "procc_failure": failure,
                "procc_phase": "{{ procc_ph }}",
                "procc_current": "{{ procc_s | last | default(0) }}",
                "procc_started": "{{ procc_s }}",
                "procc_done": (f"{{{{ procc_s if procc_ph != 'step' or {msg}.startswith('{CANCEL_MARK}')"
                               " else procc_s[:-1] }}"),
                "procc_drill_hit": f"{{{{ {msg}.startswith('{DRILL_MARK}') }}}}",
                # Read by the other hosts (later serial batches, the outcome play).
                "procc_halt": f"{{{{ '' if {msg}.startswith('{DRILL_MARK}') else procc_run_key }}}}",
            },
            rb_tags, kind="rescue",
        )
        # Evaluated once per use in this task: the started steps and the phase they imply.
        record["vars"] = {
            "procc_s": "{{ procc_reached }}",
            "procc_ph": ("{{ 'final' if procc_phase == 'final' else 'step' if procc_s | length > 0"
                         " else 'preflight' }}"),
            **record["vars"],
        }
        tasks: list[Task] = [record]
        reachable = "not (procc_failure.unreachable | default(false))"
        tasks.extend(self.step_rollbacks(f"procc_phase == 'step' and {reachable}"))
        full = self.proc.rollback.steps
        if full:
            for i, rstep in enumerate(full, 1):
                p = f"{w['step']} R{i}"
                tasks.append(self.rollback_block(
                    f"{p} | {w['full_rollback']}", self.name(p, rstep.title), rstep, f"{p} |", f"'R{i}'",
                    f"procc_phase == 'final' and {reachable}"))
        return tasks

    def step_rollbacks(self, when: str) -> list[Task]:
        """The rollback of every started step, newest first (irreversible ones named).

        A rollback that covers earlier steps (``covers``, see
        :mod:`compiler.covers`) runs instead of theirs: a covered step's own
        rollback is skipped when a step covering it started, and the
        covering rollback, once it succeeds, counts the covered started
        steps as rolled back (``procc_covered`` says by which step).
        """
        w = self.w
        tasks: list[Task] = []
        by = covers.coverers(self.proc)
        covering = covers.covered(self.proc)
        for k in range(len(self.proc.steps), 0, -1):
            step = self.proc.steps[k - 1]
            p = f"{w['step']} {k}"
            started = f"{when} and {k} in procc_started"
            if k in by:
                # Undone by a covering step's rollback when that step started: not twice.
                started += f" and not ({' or '.join(f'{c} in procc_started' for c in by[k])})"
            if step.rollback is not None:
                also = None
                if k in covering:
                    also = f"({covering[k]!r} | select('in', procc_started) | list)"
                block = self.rollback_block(
                    f"{p} | {w['rollback_of']}", self.name(f"{p} | {w['rollback_of']}", step.title),
                    step.rollback, f"{p} | {w['rollback_of']}", str(k), started, also=also)
                if step.throttle is not None:
                    # Undoing a step loads what the step loaded: as many hosts at once, no more.
                    block["throttle"] = step.throttle
                tasks.append(block)
            elif step.none_needed is not None:
                # Nothing to undo: the step counts as rolled back, so a drill after
                # it ends in a full rollback, not a partial one.
                task = self.setfact(
                    f"{p} | {w['none_needed_task']}",
                    {"procc_rolled_back": f"{{{{ procc_rolled_back + [{k}] }}}}"}, ["rollback", "always"],
                    when=f"{started} and {NOT_CHECK}", kind="rollback-ok")
                task["vars"] = {**tag_vars(k), **task["vars"]}
                tasks.append(task)
            elif step.irreversible is not None:
                task = self.setfact(
                    f"{p} | {w['irreversible_task']}",
                    {"procc_irreversible": f"{{{{ procc_irreversible + [{k}] }}}}"}, ["rollback", "always"],
                    when=f"{started} and {NOT_CHECK}", kind="irreversible")
                task["vars"] = {**tag_vars(k), **task["vars"]}
                tasks.append(task)
        return tasks

    def rollback_block(self, name: str, body_name: str, act: Action, marker: str, ref: str,
                       when: str | None = None, also: str | None = None) -> Task:
        """One rollback in its own block: recorded as done or failed (with its cause), never stopping the others.

        ``also``: a Jinja list expression of the steps this rollback covers
        (see :meth:`step_rollbacks`); they count as rolled back with it.
        """
        w = self.w
        rb_tags = ["rollback", "always"]
        body: Task = {"name": body_name}
        body.update(self.action(act, mutating=mutates(act, True)))
        body["tags"] = rb_tags
        step_ref: int | str = int(ref) if ref.isdigit() else ref.strip("'")
        done: dict[str, Any] = {"procc_rolled_back": f"{{{{ procc_rolled_back + [{ref}] }}}}"}
        if also is not None:
            done = {"procc_rolled_back": f"{{{{ procc_rolled_back + [{ref}] + {also} }}}}",
                    # [covered, covering] pairs: which rollback undid which step (the summary says it).
                    "procc_covered": f"{{{{ procc_covered + ({also} | product([{ref}]) | list) }}}}"}
        return {
            "name": name,
            "vars": tag_vars(step_ref, "rollback"),
            "block": [
                body,
                self.setfact(f"{marker} {w['t_rb_ok']}", done, rb_tags, kind="rollback-ok"),
            ],
            "rescue": [
                self.setfact(f"{marker} {w['t_rb_failed']}",
                             {"procc_rollback_failed": f"{{{{ procc_rollback_failed + [{ref}] }}}}",
                              "procc_rollback_errors": "{{ procc_rollback_errors | default([]) + [procc_rollback_error] }}"},
                             rb_tags, kind="rollback-failed"),
            ],
            # Under --check no step ran: nothing is rolled back, nor claimed.
            "when": f"{when} and {NOT_CHECK}" if when else NOT_CHECK,
            "tags": rb_tags,
        }

    def play_header(self, title: str) -> dict[str, Any]:
        """Name, hosts and privilege of a play of this procedure."""
        proc = self.proc
        play: dict[str, Any] = {
            "name": f"{proc.id} | {templating.neutralize(title)}",
            "hosts": "{{ procc_hosts | default('" + proc.hosts.replace("'", "") + "') }}",
            "gather_facts": False,
        }
        if proc.become:
            play["become"] = True
        if proc.throttle is not None:
            play["throttle"] = proc.throttle
        return play

    def parameter_defaults(self) -> dict[str, Any]:
        """Play vars ``procc_default_NAME`` holding each parameter's default (text never templated).

        Defaults are the weakest source of a value, so they are never the
        parameter's own variable: play vars (and a set_fact, which would also
        outlive its play and shadow the next imported play's vars) beat
        inventory vars, group_vars and host_vars. Every use of a parameter
        reads ``NAME | default(procc_default_NAME)`` instead (:meth:`value`,
        :meth:`text`), so Ansible's own precedence picks the value: ``-e``,
        then play or import vars, host_vars, group_vars, inventory vars, and
        only then the default, under ``procc run``, ``ansible-playbook`` and
        AWX alike.
        """
        out: dict[str, Any] = {}
        for pname, param in sorted(self.proc.parameters.items()):
            if param.default is not None:
                default = param.default
                out[default_var(pname)] = Unsafe(default) if isinstance(default, str) else default
        return out

    def post(self) -> list[Task]:
        """Post-execution, in the outcome play: after the fleet decided, so each action knows the outcome.

        Why there and not in the run play's ``always``: with ``serial``, a
        host's batch ends before a later batch fails and the fleet rolls the
        earlier hosts back; a post action run at the end of the first batch
        (a clean-up of the copy the rollback needs, a "deployed" message)
        would act on an outcome that was not yet known.
        """
        w = self.w
        tasks: list[Task] = []
        post = self.proc.post
        for title, act in [(a.title, a) for a in post.cleanup] + [(a.title, a) for a in post.notify]:
            body: Task = {"name": self.name(w["post"], title)}
            body.update(self.action(act, mutating=mutates(act, True)))
            body["tags"] = ["post", "always"]
            # A host that ran nothing, or dropped off, is not touched.
            when = ["procc_result.outcome not in ['not-run', 'unreachable']"]
            if "always" not in act.on_outcome:
                when.append(" or ".join(f"({POST_OUTCOME[o]})" for o in act.on_outcome))
            tasks.append({
                "name": self.name(f"{w['post']} | {w['t_post_block']}", title),
                "vars": tag_vars(kind="post"),
                "block": [body],
                "rescue": [self.setfact(
                    self.name(f"{w['post']} | {w['t_rb_failed']}", title),
                    {"procc_post_failed": "{{ procc_post_failed + [ansible_failed_task.name | default('')] }}"},
                    ["post", "always"])],
                "when": when,
                "tags": ["post", "always"],
            })
        return tasks

    def play_vars(self) -> dict[str, Any]:
        """The vars of both plays: identity, run bookkeeping defaults, parameter defaults."""
        proc = self.proc
        play_vars: dict[str, Any] = {
            "procc_proc_id": proc.id,
            "procc_proc_version": proc.version,
            "procc_run_id": "manual",
            "procc_run_key": "{{ procc_proc_id }}/{{ procc_run_id }}",
            "procc_fail_at": 0,
            "procc_cancel_file": "",
            **RUN_STATE,
            # The started steps, from their results (templated when read).
            "procc_reached": reached(len(proc.steps)),
            "procc_step_titles": {k: Unsafe(s.title) for k, s in enumerate(proc.steps, 1)},
            # Failed hosts a batch tolerates, in percent (0: none, all-or-nothing).
            "procc_max_fail_percentage": proc.max_fail_percentage or 0,
            # Templated when used (once per play, not once per step in the file).
            "procc_lost": LOST,
            "procc_rollback_error": ROLLBACK_ERROR,
        }
        play_vars.update(self.parameter_defaults())
        # Captured values: templates reading the steps' results (compiler.capture).
        play_vars.update(capture.play_vars(proc))
        return play_vars

    def run_play(self) -> dict[str, Any]:
        """Play 1: the procedure on each host, with its own rescue; it never fails a host itself.

        A host that failed is left running (rescued) so that a serial
        batch made only of failed hosts does not end the playbook before the
        outcome play; its batch's verdict (``procc_stop``) tells the later batches to run nothing.
        """
        proc = self.proc
        w = self.w
        # Facts outlive their play: when several procedures run in one
        # ansible-playbook (Molecule, import_playbook), the previous play's
        # bookkeeping would shadow these vars, so reset it first.
        tasks: list[Task] = [
            # procc_batch: this host's serial batch, as it was before any host dropped off.
            # procc_step_K: each step's result, {} until the step is reached (see step()).
            self.setfact(f"Procc | {w['t_init']}", {**RUN_STATE, "procc_batch": "{{ ansible_play_batch }}",
                                                    **{step_register(k): {} for k in range(1, len(proc.steps) + 1)}},
                         ["always"], kind="init"),
            self.parameter_check(),
            self.setfact(f"Procc | {w['t_halt']}", {"procc_halted": f"{{{{ {STOPPED} }}}}"},
                         ["always"], kind="init"),
        ]
        tasks.extend(self.role_probe(role) for role in roles(proc))
        main: list[Task] = self.preflight()
        for k, step in enumerate(proc.steps, 1):
            main.append(self.step(k, step))
        main.extend(self.final_validation())
        tasks.append({
            "name": f"{proc.id} | {templating.neutralize(proc.title)}",
            "when": "not procc_halted",
            "block": main,
            "rescue": self.rescue(),
        })
        # Hosts that end this play without it are the ones Ansible removed
        # (unreachable outside a step, a failing bookkeeping task).
        # The run's bookkeeping, computed once here (the rescue did for a failed host).
        tasks.append(self.setfact(f"Procc | {w['t_finished']}", {"procc_finished": "{{ procc_run_key }}",
                                                                 "procc_started": "{{ procc_reached }}",
                                                                 "procc_done": DONE},
                                  ["always"], kind="post"))
        # The batch's verdict (max_fail_percentage, see the module docstring):
        # read by the later batches (they run nothing) and the outcome play.
        tasks.append(self.setfact(f"Procc | {w['t_verdict']}", {"procc_stop": f"{{{{ {VERDICT} }}}}"},
                                  ["always"], kind="post"))
        play = self.play_header(proc.title)
        if proc.serial is not None:
            play["serial"] = proc.serial
        play["vars"] = self.play_vars()
        play["tasks"] = tasks
        return play

    def role_probe(self, role: str) -> Task:
        """A static import of ``role`` that runs nothing: a missing role fails the playbook as it loads.

        Why: the steps call roles with ``include_role``, resolved only when
        reached. ansible-core 2.19 counts a failed include as a failed host
        even when the block rescues it, and ends the playbook after that play
        with exit status 0: the outcome play (summary, fleet rollback,
        failing the run) never runs, so a missing collection looked like a
        success. Imported here, the role is resolved before anything runs.
        ``never`` and ``when: false`` keep its tasks from running, and
        ``public: false`` keeps its defaults from shadowing the procedure's
        parameter defaults.
        """
        return {
            "name": f"Procc | {self.w['t_role_found'].format(role=role)}",
            "ansible.builtin.import_role": {"name": role, "rolespec_validate": False, "public": False},
            "when": False,
            "tags": ["never"],
        }

    def fleet_play(self) -> dict[str, Any] | None:
        """The fleet decision and rollback, on every host at once, in a play of its own (None without rollbacks).

        Lean (issue 14): the rollback of every step is about two dozen
        tasks; in the outcome play a successful run skipped them one by one.
        Here a host that has nothing to roll back for the fleet leaves this
        play at once (``meta: end_host``, which ends the play for that host
        only, without failing it): a successful run pays one task, not the
        rollback's. The outcome play after it runs on every host again.
        """
        w = self.w
        rb_tags = ["rollback", "always"]
        steps = self.step_rollbacks("true")
        if not steps:
            return None
        # Under --check no step ran: nothing to roll back.
        due = f"procc_fleet_stop and not (procc_failure.phase is defined) and not procc_halted and {NOT_CHECK}"
        play = self.play_header(f"{self.proc.title} | {w['t_fleet_rollback']}")
        play["vars"] = self.play_vars()
        play["tasks"] = [
            self.fleet_decision(),
            {
                "name": f"Procc | {w['t_fleet_none']}",
                "ansible.builtin.meta": "end_host",
                "when": f"not ({due})",
                "vars": tag_vars(kind="result"),
                "tags": rb_tags,
            },
            {
                "name": f"{self.proc.id} | {w['t_fleet_rollback']}",
                "vars": tag_vars(kind="fleet"),
                "when": due,
                "block": steps,
                "tags": rb_tags,
            },
        ]
        return play

    def fleet_decision(self) -> Task:
        """Which hosts failed, and whether the fleet must roll back: bookkeeping of the outcome, not a rollback."""
        return self.setfact(f"Procc | {self.w['t_fleet']}", {"procc_fleet_bad": f"{{{{ {FLEET_BAD} }}}}",
                                                              "procc_fleet_stop": f"{{{{ {STOPPED} }}}}"},
                            ["rollback", "always"], kind="result")

    def outcome_play(self, fleet_decided: bool | None = None) -> dict[str, Any]:
        """The last play, on every host at once: one result per host, post-execution, the summary.

        ``fleet_decided``: whether the fleet play made the fleet decision
        (computed when None); without one, this play makes it first.
        """
        w = self.w
        proc = self.proc
        rb_tags = ["rollback", "always"]
        rb_steps = [k for k, s in enumerate(proc.steps, 1) if s.rollback is not None]
        irreversible = [k for k, s in enumerate(proc.steps, 1) if s.irreversible is not None]
        outcome = OUTCOME.replace("RB_STEPS", repr(rb_steps)).replace(
            "FULL_ROLLBACK", "true" if proc.rollback.steps else "false")
        result = {
            "host": "{{ inventory_hostname }}",
            "outcome": "{{ procc_o }}",
            "phase": "{{ procc_failure.phase | default('fleet' if procc_fleet_stop else '') }}",
            "failed_step": "{{ procc_failure.step | default(none) }}",
            "failed_task": "{{ procc_failure.task | default('') }}",
            "message": "{{ procc_failure.message | default('') }}",
            "rc": "{{ procc_failure.rc | default(none) }}",
            "stderr": "{{ procc_failure.stderr | default([]) }}",
            "stdout": "{{ procc_failure.stdout | default([]) }}",
            "rolled_back": "{{ procc_rolled_back }}",
            "covered": "{{ procc_covered }}",
            "rollback_failed": "{{ procc_rollback_failed }}",
            "rollback_errors": "{{ procc_rollback_errors }}",
            "irreversible": f"{{{{ procc_started | select('in', {irreversible!r}) | list }}}}",
            "started": "{{ procc_started }}",
            "done": "{{ procc_done }}",
            "drill": "{{ procc_fail_at | int > 0 }}",
            "drill_passed": "{{ procc_drill_hit and procc_o == 'rolled-back' }}",
            "fleet_failed_hosts": "{{ procc_fleet_bad }}",
            "run_id": "{{ procc_run_id }}",
        }
        result_task = self.setfact(f"Procc | {w['t_result']}", {"procc_result": result}, rb_tags, kind="result")
        result_task["vars"]["procc_o"] = outcome
        if fleet_decided is None:
            fleet_decided = self.fleet_play() is not None
        tasks: list[Task] = [
            *([] if fleet_decided else [self.fleet_decision()]),
            result_task,
            *self.post(),
            {
                "name": f"Procc | {w['t_drill_passed']}",
                "ansible.builtin.debug": {"msg": SUMMARY},
                "when": "procc_result.drill_passed",
                "vars": tag_vars(kind="summary"),
                "tags": rb_tags,
            },
            {
                "name": f"Procc | {w['t_summary']}",
                "ansible.builtin.fail": {"msg": SUMMARY},
                "when": "procc_result.outcome != 'success' and not procc_result.drill_passed",
                "vars": tag_vars(kind="summary"),
                "tags": rb_tags,
            },
        ]
        play = self.play_header(f"{proc.title} | {w['t_outcome_play']}")
        play["vars"] = {**self.play_vars(), "procc_outcome": POST_OUTCOME_VALUE}
        play["tasks"] = tasks
        return play

    def play(self) -> list[dict[str, Any]]:
        fleet = self.fleet_play()
        return [self.run_play(), *([fleet] if fleet else []), self.outcome_play(fleet is not None)]


# What a post action reads in '{{ procc_outcome }}' (set in the outcome play,
# from the host's result): a drill reads 'drill' whatever it ended with.
POST_OUTCOME_VALUE = (
    "{{ 'drill' if procc_fail_at | int > 0 else procc_result.outcome"
    " if procc_result.outcome in ['success', 'rolled-back'] else 'failed' }}"
)

# The condition of each post-execution outcome (model.Outcome, 'always' aside).
POST_OUTCOME: dict[str, str] = {
    "success": "procc_outcome == 'success'",
    "failure": "procc_outcome in ['failed', 'rolled-back']",
    "rollback": "procc_outcome == 'rolled-back'",
    "drill": "procc_outcome == 'drill'",
}


def step_register(k: int) -> str:
    """Where step ``k``'s action leaves its result: non-empty once the step was started (REACHED)."""
    return f"procc_step_{k}"


def default_var(name: str) -> str:
    """The play var holding parameter ``name``'s default (``procc_*`` names are reserved to procc)."""
    return f"procc_default_{name}"


# The start of a reference up to its name: "{{ name", "{{- name".
_REF_HEAD = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)")

# Every command runs under bash's strict mode. inherit_errexit keeps set -e
# inside $(...), so "x=$(false; echo y)" fails instead of assigning "y". It
# cannot stop a command whose argument holds a failing $(...) (bash ignores
# that status): the lint rule command-substitution-argument asks for x=$(...).
SHELL_PREFIX = "set -euo pipefail\nshopt -s inherit_errexit\n"

# What the playbook accepts for each parameter type (the same as procc run's check).
TYPE_PATTERNS: dict[str, str] = {
    "int": r"-?[0-9]{1,18}\Z",
    "float": r"-?[0-9]{1,18}(\.[0-9]{1,18})?\Z",
    "duration": r"[0-9]{1,9}(\.[0-9]{1,9})?[smhd]?\Z",
    "port": r"[0-9]{1,5}\Z",
    "bool": r"(?i)(true|false|yes|no|1|0|on|off)\Z",
    "path": r"[^\x00\r\n-][^\x00\r\n]*\Z",
    "url": r"(?i)https?://[^\s\x00]+\Z",
}


def mask_prefix(names: list[str]) -> str:
    """Bash lines that mask the values of secret variables in the command's own output.

    The command's stdout and stderr pass through a filter in the same bash,
    so the task result (events, artifacts, the failure summary) shows
    ``********`` where the value was, and still shows why a command failed.
    """
    subs = "".join(f'[ -z "${{{n}}}" ] || line=${{line//"${{{n}}}"/********}}; ' for n in names)
    return (
        "procc_mask() { local line; while IFS= read -r line || [ -n \"$line\" ]; do "
        + subs + "printf '%s\\n' \"$line\"; done; }\n"
        "exec > >(procc_mask) 2> >(procc_mask >&2)\n"
    )


# The run's bookkeeping, reset at the start of every play.
RUN_STATE: dict[str, Any] = {
    "procc_phase": "init",
    "procc_current": 0,
    "procc_started": [],
    "procc_done": [],
    "procc_rolled_back": [],
    "procc_covered": [],
    "procc_rollback_failed": [],
    "procc_rollback_errors": [],
    "procc_irreversible": [],
    "procc_post_failed": [],
    "procc_failure": {},
    "procc_drill_hit": False,
    "procc_halt": "",
    "procc_halted": False,
    "procc_fleet_bad": [],
    "procc_fleet_stop": False,
    "procc_stop": "",
}

# Stop an asynchronous step's job: its wrapper runs as "async_wrapper.py JID-PREFIX
# ..." and the step's command in a process group of its own under it.
KILL_JOB = """set -uo pipefail
prefix='{{ procc_job.ansible_job_id | regex_replace('[.].*$', '') }}'
for sig in TERM KILL; do
  for pid in $(pgrep -f "async_wrapper.py $prefix " || true); do
    pgid=$(ps -o pgid= -p "$pid" | tr -d ' ')
    if [ -n "$pgid" ]; then kill -s "$sig" -- "-$pgid" 2>/dev/null || true; fi
  done
  sleep 0.3
done
"""


_BLOCK_KEYS = ("block", "rescue", "always")


def _add_when(task: Task, cond: str) -> None:
    """Add ``cond`` to the conditions of ``task`` (all must hold)."""
    old = task.get("when")
    if old is None:
        task["when"] = cond
    elif old != cond:
        task["when"] = [*(old if isinstance(old, list) else [old]), cond]


def _ordered(node: Any) -> Any:
    """Put block/rescue/always last in every task, as ansible-lint's key-order asks."""
    if isinstance(node, list):
        return [_ordered(n) for n in node]
    if isinstance(node, dict) and any(k in node for k in _BLOCK_KEYS):
        head = {k: v for k, v in node.items() if k not in _BLOCK_KEYS}
        tail = {k: _ordered(node[k]) for k in _BLOCK_KEYS if k in node}
        return {**head, **tail}
    if isinstance(node, dict) and "tasks" in node:
        return {k: (_ordered(v) if k == "tasks" else v) for k, v in node.items()}
    return node


def build(proc: Procedure, lang: Lang = "es") -> list[dict[str, Any]]:
    """The playbook of ``proc`` as Python data (one play)."""
    return list(_ordered(_Builder(proc, lang).play()))


def render(proc: Procedure, lang: Lang = "es", source: str | None = None) -> str:
    """The playbook of ``proc`` as YAML text."""
    header = f"# Generated by procc from {source}: do not edit by hand.\n" if source else ""
    return header + dump(build(proc, lang))
