"""The playbook backend: a Procedure as an Ansible play, built as Python data.

Failure semantics (DESIGN.md): pre-flight first; each step is marked started,
run, then validated; when step k fails, the rollbacks of the started steps
k..1 run in that order (each in its own block, so one failing rollback does
not stop the others); a failed final validation runs the full rollback;
post-execution always runs. ``procc_fail_at=K`` is a drill: step K fails right
after its commands and the run succeeds only if every started step was
rolled back cleanly.
"""

from __future__ import annotations

import re
from typing import Any

from compiler import shellvars, templating
from compiler.i18n import Lang, words
from compiler.model import Action, Check, Expect, HealthCheck, Metric, Procedure, Step
from compiler.yamlout import Unsafe, dump

Task = dict[str, Any]

# Marker in the drill's failure message; the rescue tells a drill from a real failure by it.
DRILL_MARK = "procc-drill"


class _Builder:
    def __init__(self, proc: Procedure, lang: Lang) -> None:
        self.proc = proc
        self.w = words(lang)
        self.allowed = frozenset(proc.parameters) | templating.BUILTIN_NAMES
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

    def action(self, act: Action, *, changed: bool, register: str | None = None,
               hide: bool = False) -> Task:
        """The module part of a task for a run/task/role action.

        Parameters reach a ``run`` command as environment variables of the
        task (see :mod:`compiler.shellvars`), never as text in the command,
        in which Ansible templates nothing.
        """
        task: Task = {}
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
            task["changed_when"] = changed
        elif act.task is not None:
            module = act.module
            task[module] = self.data(act.task[module])
        else:
            assert act.role is not None
            task["ansible.builtin.include_role"] = {"name": act.role}
            if act.vars:
                task["vars"] = self.data(act.vars)
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
                retries: int, delay: int, tags: list[str]) -> Task:
        """A read-only command whose result must satisfy ``expect`` (with retries)."""
        reg = "procc_check"
        task: Task = {"name": self.name(prefix, title)}
        # Output checked for a secret cannot be masked: hide the whole task.
        hide = self.mentions_secret(expect.stdout_contains, expect.stdout_regex)
        task.update(self.action(act, changed=False, register=reg, hide=hide))
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

    def setfact(self, name: str, facts: dict[str, Any], tags: list[str], when: str | None = None) -> Task:
        task: Task = {"name": name, "ansible.builtin.set_fact": facts}
        if when:
            task["when"] = when
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
            "name": "Procc | Verificar parametros",
            "ansible.builtin.assert": {
                "that": that or ["true"],
                "fail_msg": fail_msg,
                "quiet": True,
            },
        }
        if pvars:
            task["vars"] = pvars
        if any(p.secret for p in self.proc.parameters.values()):
            task["no_log"] = True
        task["tags"] = ["always"]
        return task

    def preflight(self) -> list[Task]:
        tasks: list[Task] = [self.setfact("Procc | Fase: pre-flight", {"procc_phase": "preflight"}, ["always"])]
        for i, check in enumerate(self.proc.preflight, 1):
            tasks.append(self._check(f"{self.w['step']} P{i}", check, ["preflight"]))
        return tasks

    def _check(self, prefix: str, check: Check, tags: list[str]) -> Task:
        return self.checked(prefix, check.title, check, check.expect, check.retries, check.delay, tags)

    def step(self, k: int, step: Step) -> list[Task]:
        p = f"{self.w['step']} {k}"
        tags = [f"step{k}"] + ([step.id] if step.id else [])
        tasks: list[Task] = [
            self.setfact(
                f"{p} | {self.w['start_task']}",
                {"procc_phase": "step", "procc_current": k, "procc_started": f"{{{{ procc_started + [{k}] }}}}"},
                tags,
            )
        ]
        # A graceful stop asked for before this step (procc's cancel flag file
        # on the controller) fails here, so the rescue rolls back steps < k.
        tasks.insert(0, {
            "name": f"{p} | Detener si se pidio",
            "ansible.builtin.fail": {"msg": f"procc-cancel: stop requested before step {k}"},
            "when": "procc_cancel_file is exists",
            "tags": tags,
        })
        main: Task = {"name": self.name(p, step.title)}
        main.update(self.action(step, changed=True))
        main["tags"] = tags
        tasks.append(main)
        if step.is_interruptible:
            tasks.extend(self.interruptible(p, main, step.timeout, tags))
        tasks.append({
            "name": f"{p} | {self.w['drill_task']} (procc_fail_at={k})",
            "ansible.builtin.fail": {"msg": f"{DRILL_MARK}: procc_fail_at={k}"},
            "when": f"procc_fail_at | int == {k}",
            "tags": tags,
        })
        if step.validate_ is not None:
            v = step.validate_
            tasks.append(self.checked(f"{p} | {self.w['validate_task']}", step.title, v, v.expect,
                                      v.retries, v.delay, tags))
        tasks.append(self.setfact(f"{p} | Completado", {"procc_done": f"{{{{ procc_done + [{k}] }}}}"}, tags))
        return tasks

    def interruptible(self, p: str, main: Task, timeout: int | None, tags: list[str]) -> list[Task]:
        """Run ``main`` asynchronously, polled until done or until procc asks to stop.

        A signal to ansible-playbook would skip rescue; this way the step's
        process is killed by the playbook itself and the rescue rolls back.
        """
        limit = timeout or 86400
        main.pop("timeout", None)
        main["async"] = limit
        main["poll"] = 0
        main["register"] = "procc_job"
        hidden = {"no_log": True} if main.get("no_log") else {}
        running = "procc_job.ansible_job_id is defined and not procc_job_status.finished"
        return [
            {
                "name": f"{p} | Esperar",
                "ansible.builtin.async_status": {"jid": "{{ procc_job.ansible_job_id }}"},
                "register": "procc_job_status",
                "until": "procc_job_status.finished or procc_cancel_file is exists",
                "retries": limit,
                "delay": 1,
                "changed_when": "procc_job_status.finished | default(false)",
                "when": "procc_job.ansible_job_id is defined",
                **({"delegate_to": main["delegate_to"]} if "delegate_to" in main else {}),
                **({"become": main["become"]} if "become" in main else {}),
                **hidden,
                "tags": tags,
            },
            {
                "name": f"{p} | Detener el proceso del paso",
                "ansible.builtin.shell": {"cmd": KILL_JOB, "executable": "/bin/bash"},
                "changed_when": True,
                "when": running,
                **({"delegate_to": main["delegate_to"]} if "delegate_to" in main else {}),
                **({"become": main["become"]} if "become" in main else {}),
                "tags": tags,
            },
            {
                "name": f"{p} | Detenido por procc",
                "ansible.builtin.fail": {"msg": "procc-cancel: step stopped on request"},
                "when": running,
                "tags": tags,
            },
        ]

    def final_validation(self) -> list[Task]:
        fv = self.proc.final_validation
        tags = ["final_validation"]
        tasks: list[Task] = [self.setfact("Procc | Fase: validacion final", {"procc_phase": "final"}, tags)]
        prefix = self.w["final_validation"]
        for h in fv.health:
            tasks.append(self._health(prefix, h, tags))
        for m in fv.metrics:
            tasks.extend(self._metric(prefix, m, tags))
        for s in fv.smoke:
            tasks.append(self._check(prefix, s, tags))
        return tasks

    def _health(self, prefix: str, h: HealthCheck, tags: list[str]) -> Task:
        title = h.name or f"GET {h.url}"
        task: Task = {
            "name": self.name(prefix, title),
            "ansible.builtin.uri": {"url": self.text(h.url), "status_code": h.status,
                                    "return_content": h.contains is not None},
            "register": "procc_health",
        }
        if h.contains is not None:
            task["vars"] = {"procc_expect_contains": self.text(h.contains)}
            task["failed_when"] = "procc_health.status != " + str(h.status) + " or procc_expect_contains not in procc_health.content"
        if h.retries:
            task["until"] = "procc_health is not failed"
            task["retries"] = h.retries
            task["delay"] = h.delay
        if h.where == "controller":
            task["delegate_to"] = "localhost"
        if self.mentions_secret(h.url, h.contains):
            task["no_log"] = True
        task["tags"] = tags
        return task

    def _metric(self, prefix: str, m: Metric, tags: list[str]) -> list[Task]:
        measure: Task = {"name": self.name(prefix, f"{m.name} (medir)")}
        measure.update(self.action(m, changed=False, register="procc_metric"))
        measure["tags"] = tags
        that = ["procc_metric.stdout | trim is match('^-?[0-9.]+([eE][-+]?[0-9]+)?$')"]
        if m.below is not None:
            that.append(f"(procc_metric.stdout | trim | float) < {m.below}")
        if m.above is not None:
            that.append(f"(procc_metric.stdout | trim | float) > {m.above}")
        limit = " and ".join(
            x for x in (f"< {m.below}" if m.below is not None else "",
                        f"> {m.above}" if m.above is not None else "") if x
        )
        check: Task = {
            "name": self.name(prefix, f"{m.name} {limit}"),
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
        w = self.w
        rb_tags = ["rollback", "always"]
        tasks: list[Task] = [
            self.setfact(
                "Procc | Registrar fallo",
                {
                    "procc_failed_phase": "{{ procc_phase }}",
                    "procc_failed_step": "{{ procc_current if procc_phase == 'step' else 0 }}",
                    "procc_failed_task": "{{ ansible_failed_task.name | default('') }}",
                    "procc_failed_msg": "{{ (ansible_failed_result.msg | default('')) | string | truncate(300) }}",
                    "procc_drill_hit": (
                        "{{ ((ansible_failed_result.msg | default('')) | string).startswith('"
                        + DRILL_MARK + "') }}"
                    ),
                },
                rb_tags,
            )
        ]
        for k in range(len(self.proc.steps), 0, -1):
            step = self.proc.steps[k - 1]
            p = f"{w['step']} {k}"
            started = f"procc_phase == 'step' and {k} in procc_started"
            if step.rollback is not None:
                tasks.append(self.rollback_block(
                    f"{p} | {w['rollback_of']}", self.name(f"{p} | {w['rollback_of']}", step.title),
                    step.rollback, f"{p} | Rollback", str(k), started))
            elif step.irreversible is not None:
                tasks.append(self.setfact(
                    f"{p} | {w['irreversible_task']}",
                    {"procc_irreversible": f"{{{{ procc_irreversible + [{k}] }}}}"}, rb_tags, when=started))
        full = self.proc.rollback.steps
        if full:
            for i, rstep in enumerate(full, 1):
                p = f"{w['step']} R{i}"
                tasks.append(self.rollback_block(
                    f"{p} | {w['full_rollback']}", self.name(p, rstep.title), rstep, f"{p} |", f"'R{i}'",
                    "procc_phase == 'final'"))
        tasks.append(self.setfact(
            "Procc | Resultado",
            {
                "procc_drill_passed": (
                    "{{ procc_drill_hit and procc_rollback_failed | length == 0"
                    " and procc_irreversible | length == 0 }}"
                ),
            },
            rb_tags,
        ))
        tasks.append({
            "name": "Procc | Simulacro superado",
            "ansible.builtin.debug": {"msg": "{{ procc_summary }}"},
            "vars": {"procc_summary": SUMMARY},
            "when": "procc_drill_passed",
            "tags": rb_tags,
        })
        tasks.append({
            "name": "Procc | Resumen del fallo",
            "ansible.builtin.fail": {"msg": "{{ procc_summary }}"},
            "vars": {"procc_summary": SUMMARY},
            "when": "not procc_drill_passed",
            "tags": rb_tags,
        })
        return tasks

    def rollback_block(self, name: str, body_name: str, act: Action, marker: str, ref: str,
                       when: str | None = None) -> Task:
        """One rollback in its own block: recorded as done or failed, never stopping the others."""
        rb_tags = ["rollback", "always"]
        body: Task = {"name": body_name}
        body.update(self.action(act, changed=True))
        body["tags"] = rb_tags
        return {
            "name": name,
            "block": [
                body,
                self.setfact(f"{marker} OK", {"procc_rolled_back": f"{{{{ procc_rolled_back + [{ref}] }}}}"},
                             rb_tags),
            ],
            "rescue": [
                self.setfact(f"{marker} FALLIDO",
                             {"procc_rollback_failed": f"{{{{ procc_rollback_failed + [{ref}] }}}}"}, rb_tags),
            ],
            **({"when": when} if when else {}),
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
        tasks: list[Task] = []
        post = self.proc.post
        for title, act in [(a.title, a) for a in post.cleanup] + [(a.title, a) for a in post.notify]:
            body: Task = {"name": self.name(self.w["post"], title)}
            body.update(self.action(act, changed=True))
            body["tags"] = ["post", "always"]
            tasks.append({
                "name": self.name(f"{self.w['post']} | bloque", title),
                "block": [body],
                "rescue": [self.setfact(
                    self.name(f"{self.w['post']} | FALLIDO", title),
                    {"procc_post_failed": "{{ procc_post_failed + [ansible_failed_task.name | default('')] }}"},
                    ["post", "always"])],
                "tags": ["post", "always"],
            })
        tasks.append({
            "name": "Procc | Fin",
            "ansible.builtin.debug": {
                "msg": (
                    "procc {{ procc_proc_id }}: started={{ procc_started }} done={{ procc_done }}"
                    " rolled_back={{ procc_rolled_back }} rollback_failed={{ procc_rollback_failed }}"
                    " irreversible={{ procc_irreversible }} post_failed={{ procc_post_failed | length }}"
                ),
            },
            "tags": ["post", "always"],
        })
        return tasks

    def play(self) -> list[dict[str, Any]]:
        proc = self.proc
        play_vars: dict[str, Any] = {
            "procc_proc_id": proc.id,
            "procc_proc_version": proc.version,
            "procc_run_id": "manual",
            "procc_fail_at": 0,
            "procc_cancel_file": "",
            **RUN_STATE,
            "procc_step_titles": {k: Unsafe(s.title) for k, s in enumerate(proc.steps, 1)},
        }
        play_vars.update(self.parameter_defaults())
        # Facts outlive their play: when several procedures run in one
        # ansible-playbook (Molecule, import_playbook), the previous play's
        # bookkeeping would shadow these vars, so reset it first.
        tasks: list[Task] = [
            self.setfact("Procc | Inicializar", dict(RUN_STATE), ["always"]),
            self.parameter_check(),
        ]
        main: list[Task] = self.preflight()
        for k, step in enumerate(proc.steps, 1):
            main.extend(self.step(k, step))
        main.extend(self.final_validation())
        tasks.append({
            "name": f"{proc.id} | {templating.neutralize(proc.title)}",
            "block": main,
            "rescue": self.rescue(),
            "always": self.post(),
        })
        play = self.play_header(proc.title)
        if proc.serial is not None:
            play["serial"] = proc.serial
        play["vars"] = play_vars
        play["tasks"] = tasks
        return [play]


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
    "procc_rollback_failed": [],
    "procc_irreversible": [],
    "procc_post_failed": [],
    "procc_drill_hit": False,
    "procc_drill_passed": False,
}

SUMMARY = (
    "{{ procc_proc_id }} "
    "{% if procc_drill_passed %}DRILL PASSED: step {{ procc_failed_step }} failed on purpose;"
    " rolled back {{ procc_rolled_back | join(', ') }}"
    "{% elif procc_failed_phase == 'preflight' %}FAILED in pre-flight ({{ procc_failed_task }}):"
    " {{ procc_failed_msg }}; no step was run"
    "{% elif procc_failed_phase == 'final' %}FAILED in final validation ({{ procc_failed_task }}):"
    " {{ procc_failed_msg }}; full rollback ran: {{ procc_rolled_back | join(', ') or 'none' }}"
    "{% else %}{{ 'DRILL FAILED' if procc_drill_hit else 'FAILED' }} at step {{ procc_failed_step }}"
    " ({{ procc_failed_task }}): {{ procc_failed_msg }};"
    " rolled back: {{ procc_rolled_back | join(', ') or 'none' }}{% endif %}"
    "{% if procc_rollback_failed %}; ROLLBACK FAILED for: {{ procc_rollback_failed | join(', ') }}{% endif %}"
    "{% if procc_irreversible %}; irreversible, not rolled back: {{ procc_irreversible | join(', ') }}{% endif %}"
)


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
