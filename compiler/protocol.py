"""The protocol between a compiled playbook and procc's runner: structured task data, never names.

Task names are for people and are translated (``--lang``); procc never reads
them. Every task procc must interpret carries two task variables, set on the
task or inherited from an enclosing block:

``procc_step``
    which part of the procedure the task belongs to: a step number (``3``), a
    pre-flight check (``"P1"``) or a full-rollback step (``"R2"``). Absent on
    tasks that belong to no step (bookkeeping, final validation, post).
``procc_kind``
    what the task does, one of :data:`KINDS`.

ansible-runner events carry ``event_data.task_path`` (``/abs/playbook.yml:LINE``)
but not task variables. The runner wrote the playbook itself, so it parses it
once (:func:`task_map`, YAML composed with marks) into ``line -> Tag`` with
the variables of the enclosing blocks inherited. A task whose path is not in
the playbook (a task of an included role) belongs to the step its host is
running. This was chosen over a callback plugin shipped with procc: nothing
to install or enable on the controller, AWX or a plain ansible-playbook run
need nothing from procc, and the map is a pure function of a file procc
wrote.

The outcome of a run is computed once, in the playbook, as the fact
``procc_result`` of the task of kind ``result`` (one per host)::

    outcome        success | failed | rolled-back | unreachable | not-run
    phase          init | preflight | step | final | fleet (another host failed)
    failed_step    the step number or pre-flight ref that failed, or null
    failed_task    its task name (display only)
    message, rc, stderr, stdout   the failed task's msg, return code and last lines
    rolled_back    refs rolled back; rollback_failed: refs whose rollback failed
    covered        [step, covering step] pairs: steps undone by a later step's rollback (covers)
    rollback_errors  [{ref, message, rc, stderr, stdout}] for each failed rollback
    irreversible   started steps declared irreversible
    started, done  step numbers
    drill, drill_passed, unreachable, host

The runner builds its summary from these dicts; ansible-playbook and AWX
users get the same facts as the human ``msg`` of the final ``summary`` task.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# What a task does. Phases follow from kinds (see PHASES).
KINDS = (
    "init", "preflight", "cancel", "start", "run", "wait", "kill", "stopped", "drill", "guard",
    "validate", "done", "final", "rescue", "rollback", "rollback-ok", "rollback-failed",
    "irreversible", "post", "fleet", "result", "summary",
)

PHASES: dict[str, str] = {
    "init": "init", "preflight": "preflight",
    "cancel": "step", "start": "step", "run": "step", "wait": "step", "kill": "step", "stopped": "step",
    "drill": "step", "guard": "step", "validate": "step", "done": "step",
    "final": "final",
    "rescue": "rollback", "rollback": "rollback", "rollback-ok": "rollback", "rollback-failed": "rollback",
    "irreversible": "rollback", "fleet": "rollback",
    "post": "post", "result": "post", "summary": "post",
}


@dataclass(frozen=True)
class Tag:
    """What procc knows about one task of the playbook."""

    step: int | str | None
    kind: str | None


def tag_vars(step: int | str | None = None, kind: str | None = None) -> dict[str, int | str]:
    """The task variables that tag a task (or a block) for the runner."""
    out: dict[str, int | str] = {}
    if step is not None:
        out["procc_step"] = step
    if kind is not None:
        out["procc_kind"] = kind
    return out


def _scalar(node: yaml.Node | None) -> int | str | None:
    if not isinstance(node, yaml.ScalarNode):
        return None
    value = str(node.value)
    return int(value) if value.isdigit() else value


def _walk(tasks: yaml.Node, inherited: Tag, out: dict[int, Tag]) -> None:
    if not isinstance(tasks, yaml.SequenceNode):
        return
    for task in tasks.value:
        if not isinstance(task, yaml.MappingNode):
            continue
        keys = {str(k.value): v for k, v in task.value if isinstance(k, yaml.ScalarNode)}
        step, kind = inherited.step, inherited.kind
        tvars = keys.get("vars")
        if isinstance(tvars, yaml.MappingNode):
            own = {str(k.value): v for k, v in tvars.value if isinstance(k, yaml.ScalarNode)}
            if "procc_step" in own:
                step = _scalar(own["procc_step"])
            if "procc_kind" in own:
                kind = str(_scalar(own["procc_kind"]))
        tag = Tag(step, kind)
        # Ansible's task_path line is the line of the task's first key (1-based).
        out[task.start_mark.line + 1] = tag
        for section in ("block", "rescue", "always"):
            if section in keys:
                _walk(keys[section], tag, out)


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int) -> dict[int, Tag]:
    text = Path(path).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out: dict[int, Tag] = {}
    for doc in yaml.compose_all(text, Loader=loader):
        if not isinstance(doc, yaml.SequenceNode):
            continue
        for play in doc.value:
            if not isinstance(play, yaml.MappingNode):
                continue
            for k, v in play.value:
                if isinstance(k, yaml.ScalarNode) and k.value in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                    _walk(v, Tag(None, None), out)
    return out


def task_map(path: Path) -> dict[int, Tag]:
    """``line -> Tag`` for every task of the playbook at ``path`` (parsed once per version)."""
    try:
        st = path.stat()
    except OSError:
        return {}
    try:
        return _load(str(path), st.st_mtime_ns)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}


def split_task_path(task_path: str) -> tuple[str, int | None]:
    """``/abs/file.yml:LINE`` -> (file, line)."""
    path, sep, line = task_path.rpartition(":")
    if not sep or not line.isdigit():
        return task_path, None
    return path, int(line)


def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values) if isinstance(values, list) else ""


def _lines(values: Any) -> list[str]:
    return [str(v) for v in values] if isinstance(values, list) else []


def host_summary(r: dict[str, Any], proc_id: str, run_id: str) -> str:
    """One host's result as text (the same words as the playbook's own summary message)."""
    host = str(r.get("host", ""))
    msg = str(r.get("message", ""))
    task = str(r.get("failed_task", ""))
    outcome, phase = r.get("outcome"), r.get("phase")
    rolled = _join(r.get("rolled_back")) or "none"
    if r.get("drill_passed"):
        text = f"DRILL PASSED: step {r.get('failed_step')} failed on purpose; rolled back {rolled}"
    elif outcome == "success":
        text = "SUCCESS"
    elif outcome == "not-run":
        text = f"NOT RUN: the run had stopped ({_join(r.get('fleet_failed_hosts'))} failed)"
    elif outcome == "unreachable":
        text = (f"UNREACHABLE during step {r.get('failed_step')} ({task}): {msg}; its started steps"
                f" {_join(r.get('started')) or 'none'} were NOT rolled back; when it is back:"
                f" procc rollback {proc_id} --run {run_id} --limit {host}")
    elif phase == "preflight":
        text = f"FAILED in pre-flight ({task}): {msg}; no step was run"
    elif phase == "final":
        text = f"FAILED in final validation ({task}): {msg}; full rollback ran: {rolled}"
    elif phase == "fleet":
        text = (f"ROLLED BACK because {_join(r.get('fleet_failed_hosts'))} failed; rolled back: {rolled}")
    else:
        label = "DRILL FAILED" if r.get("drill") and str(msg).startswith("procc-drill") else "FAILED"
        text = f"{label} at step {r.get('failed_step')} ({task}): {msg}; rolled back: {rolled}"
    for pair in r.get("covered") or []:
        if isinstance(pair, list) and len(pair) == 2:
            text += f"; step {pair[0]} undone by step {pair[1]}'s rollback"
    lines = [text]
    rc = r.get("rc")
    if isinstance(rc, int) and rc != 0:
        lines.append(f"  rc {rc}")
    for name in ("stderr", "stdout"):
        tail = _lines(r.get(name))
        if tail:
            lines.append(f"  {name}:")
            lines.extend(f"    {line}" for line in tail)
    if r.get("rollback_failed"):
        lines.append(f"  ROLLBACK FAILED for: {_join(r.get('rollback_failed'))}")
        for e in r.get("rollback_errors") or []:
            if not isinstance(e, dict):
                continue
            erc = e.get("rc")
            lines.append(f"    rollback {e.get('ref')} ({e.get('task', '')}): {e.get('message', '')}"
                         + (f" (rc {erc})" if isinstance(erc, int) else ""))
            lines.extend(f"      {line}" for line in _lines(e.get("stderr")))
    if r.get("irreversible") and outcome != "success":
        lines.append(f"  irreversible, not rolled back: {_join(r.get('irreversible'))}")
    return "\n".join(lines)


def summary(results: dict[str, dict[str, Any]], unreachable: list[str], proc_id: str, run_id: str) -> str:
    """The run's summary: one text when every host ended alike, else one per host.

    ``unreachable`` hosts that sent no result were dropped by Ansible
    outside a step; they get the rollback command to run once they are back.
    """
    texts = {h: host_summary(r, proc_id, run_id) for h, r in sorted(results.items())
             if r.get("outcome") != "success" or r.get("drill_passed")}
    if texts and len(texts) < len(results):
        # Some hosts failed and the others kept the change (max_fail_percentage
        # tolerated it): name those too, every host's outcome in one place.
        texts = {h: texts.get(h) or host_summary(r, proc_id, run_id) for h, r in sorted(results.items())}
    lines: list[str] = []
    alike = len(set(texts.values())) == 1 and len(texts) == len(results)
    if alike and not set(unreachable) - set(results):
        lines.append(next(iter(texts.values())))
    else:
        lines.extend(f"{h}: {t}" for h, t in texts.items())
    for host in sorted(set(unreachable) - set(results)):
        lines.append(
            f"{host}: UNREACHABLE; its started steps were NOT rolled back"
            f" (when it is back: procc rollback {proc_id} --run {run_id} --limit {host})"
        )
    return "\n".join(lines)
