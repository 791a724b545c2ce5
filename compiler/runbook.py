"""The runbook backend: a Procedure as Markdown, section for section the team's template.

Python prepares every piece (code fences, escaped text, translated words);
the Jinja2 template only loops and prints. Output is deterministic.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined

from compiler import covers, diagram, quickcard, shellvars, templating
from compiler import markdown as md
from compiler.i18n import Lang, enum, words
from compiler.loader import RoleDoc
from compiler.model import (
    Action,
    Annex,
    ChangesWhen,
    Expect,
    HealthCheck,
    PostAction,
    Procedure,
    Step,
    captures,
    mutates,
)
from compiler.yamlout import dump

if TYPE_CHECKING:  # the values' loader reads inventories; rendering only reads the result
    from compiler.envvalues import Values


@dataclass(frozen=True)
class Kpis:
    """Figures from the run history, already worded for the runbook.

    With no history every field says so; :mod:`compiler.history` fills it
    from real runs.
    """

    last_run: str | None = None
    success_rate: str | None = None
    history_rows: list[list[str]] = field(default_factory=list)
    drill_rows: list[list[str]] = field(default_factory=list)
    stats: list[tuple[str, str]] = field(default_factory=list)
    step_times: list[list[str]] = field(default_factory=list)
    step_time_header: list[str] = field(default_factory=list)
    # "Testeado en": per environment, the last successful run or passed drill.
    tested: list[str] = field(default_factory=list)


_ENV: Environment | None = None
TEMPLATE = "runbook.md.j2"


def _env() -> Environment:
    """The one Jinja environment of the runbook backend (built once per process)."""
    global _ENV
    if _ENV is None:
        _ENV = Environment(
            loader=PackageLoader("compiler", "templates"),
            autoescape=False,  # Markdown, not HTML: escaping is done in Python
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=StrictUndefined,
            bytecode_cache=_bytecode_cache(),
        )
    return _ENV


def _bytecode_cache() -> BytecodeCache | None:
    """Where the compiled template is kept between runs (compiling it costs about 90 ms per process).

    The user's own cache directory (``$XDG_CACHE_HOME/procc/jinja``, mode
    0700), not the project's ``.procc/cache``: this is code that procc
    loads and runs, and a project's cache can come from elsewhere (a CI cache
    restored from another branch). Jinja keys each entry on the template's
    source and the Python version, and writes it atomically; a corrupt entry
    is compiled again. ``PROCC_NO_BYTECODE_CACHE=1`` or an unwritable
    directory: no cache, the template is compiled in memory.
    """
    if os.environ.get("PROCC_NO_BYTECODE_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    where = os.path.join(base, "procc", "jinja")
    try:
        os.makedirs(where, mode=0o700, exist_ok=True)
        st = os.stat(where)
        if st.st_uid != os.getuid() or st.st_mode & 0o077:  # someone else's, or open to others: not trusted
            return None
    except OSError:
        return None
    return FileSystemBytecodeCache(where)


def warm() -> None:
    """Load the template now (before forking workers, so that each does not compile it again)."""
    _env().get_template(TEMPLATE)


# What a human sets for the run-time names procc provides, when running by hand.
_BUILTIN_VALUES = {
    "inventory_hostname": '"$(hostname)"',
    "inventory_hostname_short": '"$(hostname -s)"',
    "ansible_host": '"$(hostname)"',
    "ansible_hostname": '"$(hostname -s)"',
    "ansible_user": '"$(id -un)"',
    "procc_run_id": "manual",
    "procc_outcome": "success",
}


def _actions(proc: Procedure) -> list[Action]:
    """Every executed action of ``proc``, in runbook order."""
    acts: list[Action] = [*proc.preflight]
    for s in proc.steps:
        acts.append(s)
        if s.validate_ is not None:
            acts.append(s.validate_)
        if s.rollback is not None:
            acts.append(s.rollback)
    fv = proc.final_validation
    acts.extend([*fv.metrics, *fv.smoke, *proc.rollback.steps, *proc.post.cleanup, *proc.post.notify])
    return acts


def _dq(text: str) -> str:
    """``text`` as one double-quoted bash word, each ``{{ parameter }}`` as "${parameter}"."""
    return shellvars.double_quoted(text, list(templating.references(text)))


def _bound(value: float | str) -> str:
    """A metric threshold as written: a number (without a needless .0) or '{{ parameter }}'."""
    return f"{value:g}" if isinstance(value, float | int) else value


def _minutes(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class _View:
    """Prepares the data the template prints."""

    def __init__(self, proc: Procedure, lang: Lang, source: str,
                 roles: Mapping[str, RoleDoc] | None = None, values: Values | None = None) -> None:
        self.roles = roles or {}
        self.values = values
        self.proc = proc
        self.lang = lang
        self.w = words(lang)
        self.source = source
        # Captured values by name: the step that captures each, and how.
        self.caps = captures(proc)

    def fleet(self) -> list[tuple[str, str]]:
        """How the playbook goes through the hosts: pattern, batches, tolerated failures, throttle, forks."""
        w, p = self.w, self.proc
        if p.serial is None:
            batches = w["fleet_serial_all"]
        elif isinstance(p.serial, list):
            batches = w["fleet_serial_list"].format(sizes=", ".join(md.code(str(x)) for x in p.serial))
        elif isinstance(p.serial, str) and p.serial.endswith("%"):
            batches = w["fleet_serial_pct"].format(n=md.code(p.serial))
        else:
            batches = w["fleet_serial_n"].format(n=md.code(str(p.serial)))
        mfp = p.max_fail_percentage
        return [
            (w["fleet_hosts"], f"{md.code(p.hosts)} ({w['fleet_hosts_text']})"),
            (w["fleet_serial"], batches),
            (w["fleet_max_fail"], w["fleet_max_fail_pct"].format(n=mfp) if mfp else w["fleet_max_fail_none"]),
            (w["fleet_throttle"], w["fleet_throttle_n"].format(n=p.throttle) if p.throttle
             else w["fleet_throttle_none"]),
            (w["fleet_forks"], w["fleet_forks_n"].format(n=p.forks) if p.forks else w["fleet_forks_none"]),
            (w["become"], w["become_yes"] if p.become else w["become_no"]),
        ]

    def duration(self, minutes: float) -> str:
        """``1 minuto``, ``5 minutos``."""
        unit = self.w["minute"] if minutes == 1 else self.w["minutes"]
        return f"{_minutes(minutes)} {unit}"

    def action_block(self, act: Action) -> str:
        if act.run is not None:
            # Exactly what bash receives: parameters as "${name}" variables.
            return md.fence(self.fill_shell(shellvars.command(act.run, self.proc).text), "bash")
        if act.task is not None:
            return md.fence(_yaml([{act.module: self.fill_data(act.task[act.module])}]), "yaml")
        assert act.role is not None
        body: dict[str, Any] = {"name": act.role_fqcn}
        task: dict[str, Any] = {"ansible.builtin.include_role": body}
        if act.vars:
            task["vars"] = self.fill_data(act.vars)
        return md.fence(_yaml([task]), "yaml")

    def doc_block(self, commands: str, language: str) -> str:
        """Documentation-only commands (troubleshooting, annexes): parameters as the steps show them."""
        if language in ("bash", "sh", "shell", "console"):
            commands = self.fill_shell(shellvars.command(commands, self.proc).text)
        else:
            commands = self.fill_text(commands)
        return md.fence(commands, language)

    def fill_shell(self, text: str) -> str:
        """``text`` (bash, parameters as "${name}") with the environment's values written in.

        Only a value of plain characters is written in (it sits inside the
        double quotes shellvars put around every use: "${base_dir}" becomes
        "/opt/x"); any other value stays a variable, set by the block of
        variables (shell-quoted there), so no value ever becomes shell syntax.
        """
        if self.values is None:
            return text
        for name, value in self.values.values.items():
            if _PLAIN_VALUE.fullmatch(value):
                text = text.replace("${" + name + "}", value)
        return text

    def fill_text(self, text: str) -> str:
        """Free text with each ``{{ parameter }}`` replaced by the environment's value (a secret: its variable)."""
        if self.values is None:
            return text
        for ref in sorted(templating.references(text), key=lambda r: r.offset, reverse=True):
            prm = self.proc.parameters.get(ref.name)
            if prm is None:
                continue
            if prm.secret:
                value = f"${prm.env or ref.name}"
            elif ref.name in self.values.values:
                value = self.values.values[ref.name]
            else:
                continue
            text = text[:ref.offset] + value + text[ref.end:]
        return text

    def fill_data(self, data: Any) -> Any:
        """Role vars or module args with :meth:`fill_text` applied to every string (dumped as YAML after)."""
        if isinstance(data, str):
            return self.fill_text(data)
        if isinstance(data, dict):
            return {k: self.fill_data(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.fill_data(v) for v in data]
        return data

    def origin(self, origin: str) -> str:
        """Where a value of the environment comes from, in words (Markdown)."""
        return self.w["param_default"] if origin == "default" else f"{self.w['param_from']} {md.span(origin)}"

    def text(self, raw: str) -> str:
        """Free text on one line, filled with the environment's values, then escaped."""
        return md.inline(self.fill_text(raw))

    def vars_block(self) -> str | None:
        """Bash assignments of the variables the commands read, for a human running them by hand."""
        used: list[str] = []
        for act in _actions(self.proc):
            if act.run is not None:
                used.extend(n for n in shellvars.command(act.run, self.proc).names if n not in used)
        for h in self.proc.final_validation.health:
            if h.command is not None:
                used.extend(n for n in shellvars.command(h.command, self.proc).names if n not in used)
            for text in h.texts():
                used.extend(r.name for r in templating.references(text) if r.name not in used)
        for doc in [*(pr.commands for pr in self.proc.troubleshooting), *(a.commands for a in self.proc.annexes)]:
            if doc:
                used.extend(n for n in shellvars.command(doc, self.proc).names
                            if n not in used and n in self.proc.parameters)
        if not used:
            return None
        lines = []
        w = self.w
        for name in sorted(used):
            prm = self.proc.parameters.get(name)
            if prm is None and name in self.caps:
                # Not known before the run: the engineer notes it at the capturing step.
                lines.append(f"{name}=''  # " + w["capture_var"].format(k=self.caps[name][0]))
            elif prm is None:
                value = shlex.quote(self.proc.id) if name == "procc_proc_id" else _BUILTIN_VALUES.get(name, "''")
                # An internal name: what procc (or Ansible) sets it to, said where a human sets it.
                note = w.get(f"builtin_{name}", "")
                lines.append(f"{name}={value}" + (f"  # {note}" if note else ""))
            elif prm.secret:
                lines.append(f'{name}="${{{prm.env}}}"  # ' + w["secret_note"].format(env=prm.env) if prm.env
                             else f"read -rsp '{name}: ' {name}  # " + w["secret_read"])
            elif self.values is not None and name in self.values.values:
                origin = self.values.origins[name]
                lines.append(f"{name}={shlex.quote(self.values.values[name])}  # "
                             + (w["param_default"] if origin == "default" else " ".join(origin.split())))
            elif prm.default is not None:
                default = str(prm.default).lower() if isinstance(prm.default, bool) else str(prm.default)
                lines.append(f"{name}={shlex.quote(default)}")
            else:
                note = " ".join(prm.description.split())
                lines.append(f"{name}=''" + (f"  # {note}" if note else ""))
        return md.fence("\n".join(lines), "bash")

    def action_notes(self, act: Action) -> list[str]:
        notes = []
        if act.role is not None:
            doc = self.roles.get(act.role_fqcn)
            if doc is not None:
                doc_short, doc_lines = doc.text(self.lang)
                short = _ansible_doc(doc_short)
                # A note is a whole emphasized paragraph: without final
                # punctuation Markdown linters take it for a heading (MD036).
                if not short.endswith((".", "!", "?", ":")):
                    short += "."
                notes.append(f"{self.w['role']} {md.inline(act.role_fqcn)}: {short}")
                notes.extend(_ansible_doc(d) for d in doc_lines)
            else:
                notes.append(f"{self.w['role']} {md.inline(act.role_fqcn)}.")
        if act.where == "controller":
            notes.append(self.w["on_controller"])
        notes.extend(self.w["capture_used"].format(name=md.code(n), k=self.caps[n][0])
                     for n in self.captured_refs(act))
        return notes

    def captured_refs(self, act: Action) -> list[str]:
        """The captured values ``act`` reads, in order of first use."""
        if not self.caps:
            return []
        if act.run is not None:
            names = list(shellvars.command(act.run, self.proc).names)
        else:
            names = [r.name for t in (repr(act.task or {}), repr(act.vars)) for r in templating.references(t)]
        texts = [getattr(act, "expect", None)]
        for exp in texts:
            if isinstance(exp, Expect):
                for t in (exp.stdout_contains, exp.stdout_regex):
                    names.extend(r.name for r in templating.references(t or ""))
        return [n for n in dict.fromkeys(names) if n in self.caps]

    def capture_lines(self, s: Step) -> list[str]:
        """What the step captures and how, one line per value (for a human to note them)."""
        w = self.w
        out = []
        for name, cap in s.capture.items():
            if cap.kind == "stdout":
                how = w["capture_stdout"]
            elif cap.kind == "json":
                how = w["capture_json"].format(path=md.code(cap.json_ or ""))
            else:
                key = "capture_regex_group" if cap.group else "capture_regex"
                how = w[key].format(re=md.code(cap.regex or ""))
            if cap.type != "string":
                how += f" ({w['capture_type'].format(t=md.code(cap.type))})"
            desc = f" ({md.inline(cap.description)})" if cap.description else ""
            out.append(f"{md.code(name)}{desc}: {how}")
        return out

    def expect_text(self, expect: Expect, retries: int, delay: int, kind: str) -> str:
        parts = []
        if kind == "run":
            parts.append(self.w["expect_rc"].format(rc=expect.rc))
        if expect.stdout_contains is not None:
            parts.append(self.w["expect_contains"].format(s=md.code(self.fill_text(expect.stdout_contains))))
        if expect.stdout_regex is not None:
            parts.append(self.w["expect_regex"].format(s=md.code(self.fill_text(expect.stdout_regex))))
        if kind in ("task", "role") and not parts:
            # The playbook checks a module or a role by its own outcome.
            parts.append(self.w[f"expect_{kind}_ok"])
        if retries:
            parts.append(self.w["retries"].format(r=retries, d=delay))
        return "; ".join(parts)

    def checks(self, items: list[Any], prefix: str) -> list[dict[str, Any]]:
        out = []
        for i, c in enumerate(items, 1):
            out.append({
                "heading": f"{prefix}{i}: {md.inline(c.title)}",
                "title": md.inline(c.title),
                "block": self.action_block(c),
                "notes": self.action_notes(c),
                "criteria": self.expect_text(c.expect, c.retries, c.delay, c.kind),
                "expected": self.text(c.expected) if getattr(c, "expected", "") else "",
                "if_fails": [self.text(x) for x in getattr(c, "if_fails", [])],
            })
        return out

    def steps_text(self, ns: list[int]) -> str:
        """'el Paso 2' / 'los Pasos 1 y 2' (Step 2 / Steps 1 and 2), ascending."""
        ns = sorted(ns)
        if len(ns) == 1:
            return self.w["step_one"].format(n=ns[0])
        listed = ", ".join(str(n) for n in ns[:-1]) + f" {self.w['and']} {ns[-1]}"
        return self.w["steps_many"].format(ns=listed)

    def covers_notes(self, k: int) -> tuple[str, str]:
        """What step ``k``'s runbook says about covering rollbacks (see :mod:`compiler.covers`).

        (note on its own rollback when it covers earlier steps, note when a
        later step's rollback covers it): at 3am nobody undoes a step twice.
        """
        w = self.w
        mine = covers.covered(self.proc).get(k, [])
        by = covers.coverers(self.proc).get(k, [])
        covering = w["covers_note"].format(
            x=self.steps_text(mine), t=w["covers_their_one" if len(mine) == 1 else "covers_their_many"]
        ) if mine else ""
        covered = w["covered_note" if len(by) == 1 else "covered_note_many"].format(
            x=self.steps_text(by)) if by else ""
        return covering, covered

    def covers_section(self) -> list[str]:
        """The rollback section's list: each covering rollback and the steps it spares."""
        w = self.w
        return [w["covers_item"].format(k=k, x=self.steps_text(js),
                                        t=w["covers_item_their_one" if len(js) == 1 else "covers_item_their_many"])
                for k, js in sorted(covers.covered(self.proc).items())]

    def step(self, k: int, s: Step) -> dict[str, Any]:
        w = self.w
        covering, covered = self.covers_notes(k)
        has_rb = s.rollback is not None
        view: dict[str, Any] = {
            "heading": f"{w['step']} {k}: {md.inline(s.title)}",
            "minutes": self.duration(s.minutes),
            "criticality": enum(self.lang, s.criticality),
            "rollback_available": w["yes"] if has_rb else w["none_needed_short"] if s.none_needed else w["no"],
            "changes": self.changes_text(s),
            "block": self.action_block(s),
            "notes": self.action_notes(s),
            "expected": self.text(s.expected) if s.expected else "",
            "validation": None,
            "if_fails": [self.text(x) for x in s.if_fails],
            "rollback": None,
            "irreversible": md.inline(s.irreversible) if s.irreversible else None,
            "none_needed": md.inline(s.none_needed) if s.none_needed else None,
            "covers_note": covering,
            "covered_note": covered,
            "tags": f"step{k}" + (f", {s.id}" if s.id else ""),
            "throttle": w["step_throttle_n"].format(n=s.throttle) if s.throttle is not None else "",
            "timeout": w["step_timeout_n"].format(n=s.timeout) if s.timeout is not None else "",
            "become": self.become_text(s),
            "captures": self.capture_lines(s),
        }
        if has_rb:
            view["if_fails"].append(w["run_rollback_hint"])
            assert s.rollback is not None
            view["rollback"] = {
                "block": self.action_block(s.rollback),
                "notes": self.action_notes(s.rollback),
                "expected": self.text(s.rollback.expected) if s.rollback.expected else "",
            }
        if s.validate_ is not None:
            v = s.validate_
            view["validation"] = {
                "block": self.action_block(v),
                "notes": self.action_notes(v),
                "criteria": self.expect_text(v.expect, v.retries, v.delay, v.kind),
                "output": md.fence(v.output, "text") if v.output else None,
            }
        return view

    def become_text(self, act: Action) -> str:
        """The privilege escalation of one action, when it differs from the procedure's ("" when not)."""
        if act.become is None or act.become == self.proc.become:
            return ""
        return self.w["step_become_yes"] if act.become else self.w["step_become_no"]

    def changes_text(self, s: Step) -> str:
        """Whether a step changes the system, and what --check does with it (Markdown)."""
        w = self.w
        if not mutates(s, True):
            return w["changes_none"]
        if isinstance(s.changes, ChangesWhen):
            c = s.changes
            conds = ([w["changes_rc"].format(rc=c.rc)] if c.rc is not None else []) + (
                [w["changes_contains"].format(x=md.code(c.stdout_contains))] if c.stdout_contains is not None
                else []) + (
                [w["changes_regex"].format(x=md.code(c.stdout_regex))] if c.stdout_regex is not None else [])
            return w["changes_when"].format(cond=f" {w['and']} ".join(conds))
        return w["changes_module"] if s.kind == "task" else w["changes_yes"]

    def health_command(self, h: HealthCheck) -> list[str]:
        """A health check as the bash a person pastes: curl, bash's /dev/tcp, or the command itself.

        Every value from the source is one double-quoted word (parameters as
        "${name}", a secret one too: the variables block reads it), so no
        header, body or path becomes shell syntax.
        """
        if h.kind == "command":
            assert h.command is not None
            text = shellvars.command(h.command, self.proc).text
            if h.contains is None:
                return [text]
            return ["{", text, f"}} | grep -F -- {_dq(h.contains)}"]
        if h.kind == "tcp":
            host, port = h.host_port
            # bash's own TCP client (no nc needed); host and port are arguments, never code.
            return [f"timeout {h.timeout} bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' {_dq(host)} {_dq(port)}"
                    f" && echo open"]
        assert h.url is not None
        opts = [f"-{'f' if h.status < 400 else ''}sS", "-L", f"--max-time {h.timeout}"]
        if h.ca_path is not None:
            opts.append(f"--cacert {_dq(h.ca_path)}")
        if not h.validate_certs:
            opts.append("-k")
        if h.method == "HEAD":
            opts.append("-I")
        elif h.method != "GET":
            opts.append(f"-X {h.method}")
        opts.extend(f"-H {_dq(f'{k}: {v}')}" for k, v in h.headers.items())
        if isinstance(h.body, str):
            opts.append(f"--data-binary {_dq(h.body)}")
        elif h.body is not None:
            opts.append("-H 'Content-Type: application/json'")
            opts.append(f"--data-binary {_dq(json.dumps(h.body, ensure_ascii=False, sort_keys=False))}")
        if h.retries:
            opts.append(f"--retry {h.retries} --retry-delay {h.delay} --retry-all-errors")
        curl = f"curl {' '.join(opts)}"
        url = _dq(h.url)
        checks: list[str] = []
        if h.contains is not None:
            checks.append(f"grep -F -- {_dq(h.contains)}")
        if h.json_:
            # jq reads each path and value as data (--argjson/--arg), never as its program.
            args: list[str] = []
            conds: list[str] = []
            for i, (path, value) in enumerate(h.json_.items()):
                args.append(f"--argjson p{i} {shlex.quote(json.dumps(path.split('.'), ensure_ascii=False))}")
                args.append(f"--arg v{i} {_dq(value)}" if isinstance(value, str)
                            else f"--argjson v{i} {shlex.quote(json.dumps(value))}")
                conds.append(f"getpath($p{i}) == $v{i}")
            checks.append(f"jq -e {' '.join(args)} {shlex.quote(' and '.join(conds))}")
        if not checks:
            return [f"{curl} -o /dev/null -w '%{{http_code}}\\n' {url}"]
        if len(checks) == 1:
            return [f"{curl} {url} | {checks[0]}"]
        return [f"body=$({curl} {url})", *(f"{c} <<<\"$body\"" for c in checks)]

    def health_text(self, h: HealthCheck) -> str:
        """What a health check checks, in words (Markdown, one line)."""
        w = self.w
        name = md.inline(" ".join((h.name or "health").split()))
        bits: list[str] = []
        if h.kind == "url":
            assert h.url is not None
            shown = md.code(md.flat(f"{h.method} {self.fill_text(h.url)}"))
            bits.append(w["health_status"].format(status=h.status))
            if h.contains is not None:
                bits.append(w["health_contains"].format(s=md.code(md.flat(self.fill_text(h.contains)))))
            for path, value in (h.json_ or {}).items():
                shown_value = self.fill_text(value) if isinstance(value, str) else json.dumps(value)
                bits.append(w["health_json"].format(f=md.code(md.flat(path)), v=md.code(md.flat(shown_value))))
            if h.headers:
                bits.append(w["health_headers"].format(n=", ".join(md.code(k) for k in h.headers)))
            if h.body is not None:
                bits.append(w["health_body_json"] if not isinstance(h.body, str) else w["health_body_text"])
            if h.ca_path is not None:
                bits.append(w["health_ca"].format(p=md.code(md.flat(self.fill_text(h.ca_path)))))
            if not h.validate_certs:
                bits.append(w["health_no_verify"])
        elif h.kind == "tcp":
            assert h.tcp is not None
            shown = md.code(md.flat(f"TCP {self.fill_text(h.tcp)}"))
            bits.append(w["health_tcp_open"])
        else:
            assert h.command is not None
            shown = md.code(md.flat(h.command))
            bits.append(w["health_command_ok"])
            if h.contains is not None:
                bits.append(w["expect_contains"].format(s=md.code(md.flat(self.fill_text(h.contains)))))
        if "timeout" in h.model_fields_set:
            bits.append(w["health_timeout"].format(t=h.timeout))
        bits.append(w["health_retries"].format(r=h.retries, d=h.delay) if h.retries else w["health_no_retries"])
        bits.append(w["health_where_controller"] if h.where == "controller" else w["health_where_targets"])
        return w["health_check"].format(name=name, url=shown) + "; " + "; ".join(bits)

    def health_criterion(self, h: HealthCheck) -> str:
        """The health check as an item of the success checklist (Markdown)."""
        w = self.w
        if h.kind == "url":
            assert h.url is not None
            return w["health_item"].format(url=md.code(md.flat(self.fill_text(h.url))), status=h.status)
        if h.kind == "tcp":
            assert h.tcp is not None
            return w["health_item_tcp"].format(t=md.code(md.flat(self.fill_text(h.tcp))))
        assert h.command is not None
        return w["health_item_command"].format(c=md.code(md.flat(h.command)))

    def final(self) -> dict[str, Any]:
        fv = self.proc.final_validation
        lines: list[str] = []
        criteria: list[str] = []
        health: list[str] = []
        for h in fv.health:
            name = " ".join((h.name or "health").split())
            what = {"url": f"HTTP {h.status}", "tcp": f"TCP {h.tcp}", "command": "exit 0"}[h.kind]
            lines.append(f"# {name}: {what}")
            lines.extend(self.health_command(h))
            health.append(self.health_text(h))
            criteria.append(self.health_criterion(h))
        for m in fv.metrics:
            limit = " ".join(x for x in (f"< {_bound(m.below)}" if m.below is not None else "",
                                         f"> {_bound(m.above)}" if m.above is not None else "") if x)
            lines.append(f"# {' '.join(m.name.split())}: {limit}")
            assert m.run is not None
            lines.append(shellvars.command(m.run, self.proc).text)
            # Escaped once, piece by piece (the description was escaped twice).
            captured = [self.w["capture_var"].format(k=self.caps[n][0]) for n in
                        (m.threshold_param("below"), m.threshold_param("above")) if n in self.caps]
            criteria.append(md.code(md.flat(f"{m.name} {limit}"))
                            + (f" ({md.inline(m.description)})" if m.description else "")
                            + "".join(f" ({c})" for c in captured))
        return {
            "health": health,
            "health_block": md.fence(self.fill_shell("\n".join(lines)), "bash") if lines else None,
            "criteria": criteria,
            "smoke": self.checks(list(fv.smoke), ""),
            "monitoring": [md.inline(x) for x in fv.monitoring],
        }

    def build(self, kpis: Kpis) -> dict[str, Any]:
        p = self.proc
        w = self.w
        front = {
            "id": p.id,
            "tipo": p.type,
            "categoria": md.flat(p.category),
            "titulo": md.flat(p.title),
            "criticidad": enum("es", p.criticality),
            "frecuencia": enum("es", p.frequency),
            "tiempo_estimado": f"{_minutes(p.estimated_minutes)}min",
            "version": p.version,
            "ultima_actualizacion": p.updated,
            "autor": md.flat(p.author),
            "revisores": [md.flat(r) for r in p.reviewers],
        }
        created = min((c.date for c in p.changelog), default=p.updated)
        next_review = _add_months(p.updated, 6)
        params = []
        how: list[list[str]] = []
        for name, prm in sorted(p.parameters.items()):
            bits = [w["param_required"] if prm.required else w["param_optional"]]
            if prm.secret:
                bits.append(w["param_secret"])
            if prm.default is not None and not prm.secret:
                bits.append(f"{w['param_default']} {md.code(str(prm.default))}")
            if prm.pattern:
                bits.append(f"{w['param_pattern']} {md.code(prm.pattern)}")
            if prm.choices:
                bits.append(f"{w['param_choices']}: " + ", ".join(md.code(c) for c in prm.choices))
            if prm.env:
                bits.append(f"{w['param_env']} {md.code(prm.env)}")
            if prm.type != "string":
                bits.insert(1, f"{w['param_type']} {md.code(prm.type)}")
            vals = self.values
            if vals is not None and name in vals.values:
                # The value this runbook is written with, and where it comes from.
                bits.insert(0, f"{w['param_value'].format(env=md.span(vals.env))}: {md.code(md.flat(vals.values[name]))}"
                            f" ({self.origin(vals.origins[name])})")
            params.append(f"{md.code(name)}: {md.inline(prm.description)} ({'; '.join(bits)})")
            if prm.secret:
                how.append([md.code(name), w["how_secret"].format(env=md.code(prm.env or name.upper())),
                            w["how_secret_vars"]])
            else:
                how.append([md.code(name), md.code(f"-e {name}=...") + " " + w["how_e_awx"],
                            md.code(f"{name}: ...")])
        tools = []
        for t in p.prerequisites.tools:
            label = md.code(t.name)
            if t.version:
                label += " " + _version(w, t.version)
            if t.note:
                label += f" ({md.inline(t.note)})"
            tools.append(label)
        rb_steps = []
        for i, r in enumerate(p.rollback.steps, 1):
            rb_steps.append({
                "heading": f"{w['step']} R{i}: {md.inline(r.title)}",
                "block": self.action_block(r),
                "notes": self.action_notes(r),
                "expected": self.text(r.expected) if r.expected else "",
            })
        problems = []
        for i, pr in enumerate(p.troubleshooting, 1):
            problems.append({
                "heading": f"{w['problem']} {i}: {md.inline(pr.problem)}",
                "symptoms": [md.inline(x) for x in pr.symptoms],
                "cause": md.inline(pr.cause),
                "solution": md.paragraph(pr.solution),
                "block": self.doc_block(pr.commands, pr.language) if pr.commands else None,
                # A reference is often a bare URL: a link (a bare one fails MD034).
                "references": ", ".join(md.linked(x) for x in pr.references),
            })
        annexes = self.annexes()
        env_note = None
        if self.values is not None:
            env_note = w["env_note"].format(
                env=md.span(self.values.env), generic=md.span(self.source).replace("`", "'"),
                extra=w["env_extra"] if "-e" in self.values.origins.values() else "")
        return {
            "w": w,
            "p": p,
            # The flow diagram and the quick card's link (compiler/diagram.py, compiler/quickcard.py).
            "diagram": md.fence(diagram.flowchart(p, self.lang), "mermaid"),
            # An environment's runbook lives apart (.procc/runbooks/NAME/): no card beside it.
            "quick_link": quickcard.runbook_line(p, self.source, self.lang) if self.values is None else "",
            "env_note": env_note,
            "env_hosts": ([w["env_hosts"].format(env=md.span(self.values.env)),
                           ", ".join(md.code(md.flat(h)) for h in self.values.hosts)]
                          if self.values is not None and self.values.hosts else None),
            # One line per value (no width limit, no line break in a value):
            # no text can reach column 0 and close the front matter with "---".
            "frontmatter": yaml.safe_dump(front, sort_keys=False, allow_unicode=True,
                                          default_flow_style=None, width=2**30).rstrip("\n"),
            "title": md.inline(p.title),
            "criticality": enum(self.lang, p.criticality),
            "frequency": enum(self.lang, p.frequency),
            "minutes": self.duration(p.estimated_minutes),
            # Printed inside a code span by the template: one line, no backtick.
            "source": md.flat(self.source).replace("`", "'"),
            "kpis": kpis,
            "what": md.paragraph(p.purpose.what),
            "when": [md.inline(x) for x in p.purpose.when],
            "when_not": [md.inline(x) for x in p.purpose.when_not],
            "impact": [(w["users"], md.inline(p.purpose.impact.users)),
                       (w["systems"], md.inline(p.purpose.impact.systems)),
                       (w["data"], md.inline(p.purpose.impact.data)),
                       (w["sla"], md.inline(p.purpose.impact.sla))],
            "access": [md.inline(x) for x in p.prerequisites.access],
            "tools": tools,
            "knowledge": [md.inline(x) for x in p.prerequisites.knowledge],
            "system_state": [md.inline(x) for x in p.prerequisites.system_state]
            + [f"{w['approvals_needed']}: {md.inline(x)}" for x in p.prerequisites.approvals],
            "params": params,
            "params_how": how,
            "vars_block": self.vars_block(),
            "preflight": self.checks(list(p.preflight), "P"),
            "backups": self.backups(),
            "fleet": self.fleet(),
            "steps": [self.step(k, s) for k, s in enumerate(p.steps, 1)],
            "final": self.final(),
            "triggers": [md.inline(x) for x in p.rollback.triggers],
            "rollback_steps": rb_steps,
            "covers": self.covers_section(),
            "problems": problems,
            "cleanup": self.post_actions(p.post.cleanup),
            "notify": self.post_actions(p.post.notify),
            "documentation": [md.linked(x) for x in p.post.documentation],
            "post_monitoring": [md.inline(x) for x in p.post.monitoring],
            "improvement": md.paragraph(p.continuous_improvement) if p.continuous_improvement else "",
            "related": [md.linked(x) for x in p.references.related],
            "contacts": [(md.span(c.role), md.span(c.name), md.span(c.contact)) for c in p.references.contacts],
            "resources": [(md.inline(r.name), md.link(r.url)) for r in p.references.resources],
            "annexes": annexes,
            "changelog": [[md.cell(c.version), c.date.isoformat(), md.cell(c.author), md.cell(c.changes)]
                          for c in p.changelog],
            "approvals": self.approvals(kpis),
            "created": created.isoformat(),
            "next_review": next_review.isoformat(),
        }

    def backups(self) -> dict[str, Any] | None:
        """The template's "Ubicacion de Backups": after the pre-flight check that makes the backup.

        ``after``: the index of that check (None: at the end of the section);
        None when the procedure neither makes a backup nor names a location.
        """
        at = next((i for i, c in enumerate(self.proc.preflight) if _calls(c, "backup")), None)
        if self.proc.backups is None and at is None:
            return None
        where = md.code(md.flat(self.fill_text(self.proc.backups))) if self.proc.backups else self.w["backups_unset"]
        return {"after": at, "text": where}

    def annexes(self) -> list[dict[str, Any]]:
        """The template's Anexo A (Comandos Utiles) and B (Checklist Rapido), then the source's other annexes."""
        w = self.w
        src = list(self.proc.annexes)
        useful = next((a for a in src if _norm(a.title) in _USEFUL_TITLES), None)
        out = [self.annex("A", w["annex_commands"], useful),
               {"heading": f"{w['annex']} B: {w['annex_checklist']}", "text": "", "block": None,
                "entries": self.checklist(), "none": ""}]
        for i, a in enumerate(x for x in src if x is not useful):
            out.append(self.annex(chr(ord("C") + i), md.inline(a.title), a))
        return out

    def annex(self, letter: str, title: str, a: Annex | None) -> dict[str, Any]:
        return {
            "heading": f"{self.w['annex']} {letter}: {title}",
            "text": md.paragraph(a.text) if a is not None and a.text else "",
            "block": self.doc_block(a.commands, a.language) if a is not None and a.commands else None,
            "entries": [md.inline(x) for x in a.items] if a is not None else [],
            "none": self.w["none"] if a is None else "",
        }

    def checklist(self) -> list[str]:
        """The template's quick checklist, filled from the procedure."""
        w, p = self.w, self.proc
        pre = p.preflight
        items = [w["cl_preflight"].format(n=len(pre)) if len(pre) > 1
                 else (w["cl_prereqs"] + (" (P1)" if pre else ""))]
        backup = [i for i, c in enumerate(pre, 1) if _calls(c, "backup")]
        if backup or p.backups:
            where = f" ({', '.join(f'P{i}' for i in backup)})" if backup else ""
            items.append(w["cl_backup"] + where
                         + (f": {md.code(md.flat(self.fill_text(p.backups)))}" if p.backups else ""))
        else:
            items.append(w["cl_backup_none"])
        notified = [i for i, c in enumerate(pre, 1) if _calls(c, "notify")]
        items.append(w["cl_notified"] + f" ({', '.join(f'P{i}' for i in notified)})" if notified
                     else w["cl_notified_none"])
        items.extend(w["cl_step"].format(k=k, title=md.span(s.title)) for k, s in enumerate(p.steps, 1))
        items.extend([w["cl_final"], w["cl_monitoring"], w["cl_docs"]])
        return items

    def post_actions(self, items: list[PostAction]) -> list[dict[str, Any]]:
        return [{"title": md.inline(a.title), "block": self.action_block(a),
                 "notes": [*self.post_when(a), *self.action_notes(a)]} for a in items]

    def post_when(self, act: PostAction) -> list[str]:
        """The note saying on which outcomes a post action runs (none when it always runs)."""
        if "always" in act.on_outcome:
            return []
        outcomes = ", ".join(self.w[f"post_on_{o}"] for o in act.on_outcome)
        return [self.w["post_on"].format(outcomes=outcomes)]

    def approvals(self, kpis: Kpis) -> list[tuple[str, str]]:
        a = self.proc.approvals
        w = self.w
        pend = w["pending"]

        def sign(s: Any) -> str:
            return f"{md.inline(s.name)} - {s.date.isoformat() if s.date else pend}"

        out = [(w["created_by"], sign(a.created_by) if a.created_by else f"{md.inline(self.proc.author)} - {pend}")]
        reviewed = ", ".join(sign(r) for r in a.reviewed_by) or ", ".join(
            f"{md.inline(r)} - {pend}" for r in self.proc.reviewers) or pend
        out.append((w["reviewed_by"], reviewed))
        out.append((w["approved_by"], sign(a.approved_by) if a.approved_by else pend))
        tested = a.tested_in
        # What the source says, then what the run history proves (already escaped).
        proven = ([f"{md.inline(tested.env)} - {tested.date.isoformat() if tested.date else pend}"] if tested
                  else []) + kpis.tested
        out.append((w["tested_in"], "; ".join(proven) or pend))
        return out


# A value written into a command as it is: no character bash (or a terminal's
# history expansion) would read as syntax inside double quotes.
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_./:@%+=,-]*")

# Titles of the source annex that is the template's Anexo A (compared without accents or case).
_USEFUL_TITLES = frozenset({"comandos utiles", "useful commands"})


def _norm(text: str) -> str:
    """``text`` lower-case, without accents, spaces collapsed (to compare titles)."""
    plain = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).lower().split())


def _calls(act: Action, role: str) -> bool:
    """Whether ``act`` calls the role ``role`` (short name or any collection's)."""
    return act.role is not None and act.role_fqcn.rsplit(".", 1)[-1] == role


def _version(w: Mapping[str, str], version: str) -> str:
    """A tool's version: ">=5.0" as the template words it ("version 5.0 o superior"), else as code."""
    m = re.fullmatch(r">=\s*([0-9][0-9A-Za-z.+-]*)", version.strip())
    if m:
        return w["version_or_higher"].format(v=m.group(1))
    return w["version_is"].format(v=md.code(md.flat(version)))


def _ansible_doc(text: str) -> str:
    """Ansible doc markup (C(), I(), B(), V()) as Markdown, on one line."""
    out: list[str] = []
    for part in re.split(r"(\b[CV]\([^()]*\))", text):
        code = re.fullmatch(r"[CV]\(([^()]*)\)", part)
        if code:
            out.append(md.code(code.group(1)))
            continue
        # Escape the free text first, then turn the markup into emphasis.
        flat = _keep_edges(part, md.inline(part))
        flat = re.sub(r"\bI\(([^()]*)\)", r"*\1*", flat)
        out.append(re.sub(r"\bB\(([^()]*)\)", r"**\1**", flat))
    return "".join(out)


def _keep_edges(raw: str, flat: str) -> str:
    """``flat`` with the single spaces around ``raw`` kept (text next to a code span)."""
    if not flat:
        return " " if raw[:1].isspace() else ""
    return (" " if raw[:1].isspace() else "") + flat + (" " if raw[-1:].isspace() else "")


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    return day  # pragma: no cover - unreachable: day 28 exists in every month


def _yaml(data: Any) -> str:
    return dump(data, explicit_start=False)


def render(proc: Procedure, lang: Lang = "es", source: str = "", kpis: Kpis | None = None,
           roles: Mapping[str, RoleDoc] | None = None, values: Values | None = None) -> str:
    """The runbook of ``proc`` as Markdown text (``roles``: docs of the roles it calls).

    ``values``: an environment's parameter values (:mod:`compiler.envvalues`):
    the runbook of that environment, commands and text filled in.
    """
    view = _View(proc, lang, source, roles, values).build(kpis or Kpis())
    text = _env().get_template(TEMPLATE).render(**view)
    return md.tidy(text)
