"""Executing a compiled procedure through ansible-runner.

The only module that imports ``ansible_runner``. Each run gets a private data
directory under ``.procc/runs/RUN_ID/`` holding the compiled playbook, the
inventory, the extra vars and ansible-runner's artifacts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets as _secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler import playbook
from compiler.i18n import Lang
from compiler.parse import Source
from compiler.yamlout import dump

Event = dict[str, Any]


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus randomness."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{now}-{_secrets.token_hex(3)}"


def local_inventory() -> str:
    """The embedded default: localhost with the local connection."""
    return (
        "[local]\n"
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )


@dataclass
class RunResult:
    """What a run ended as, read from its events."""

    run_id: str
    rc: int
    status: str
    data_dir: Path
    summary: str = ""
    drill_passed: bool = False
    events: int = 0
    failed_tasks: list[str] = field(default_factory=list)


@dataclass
class RunRequest:
    """Everything needed to execute one procedure."""

    source: Source
    root: Path
    params: dict[str, str]
    secret_names: set[str] = field(default_factory=set)
    inventory: str | None = None
    limit: str | None = None
    fail_at: int | None = None
    check: bool = False
    lang: Lang = "es"
    runs_dir: Path | None = None
    run_id: str = field(default_factory=new_run_id)
    extra: dict[str, Any] = field(default_factory=dict)


def prepare(req: RunRequest) -> Path:
    """Lay out the private data directory; returns its path."""
    runs = req.runs_dir or (req.root / ".procc" / "runs")
    data_dir = runs / req.run_id
    (data_dir / "project").mkdir(parents=True, exist_ok=True)
    (data_dir / "inventory").mkdir(parents=True, exist_ok=True)
    (data_dir / "env").mkdir(parents=True, exist_ok=True)
    pb = playbook.render(req.source.procedure, req.lang, source=req.source.display)
    (data_dir / "project" / "playbook.yml").write_text(pb, encoding="utf-8")
    if req.inventory is None:
        (data_dir / "inventory" / "hosts").write_text(local_inventory(), encoding="utf-8")
    return data_dir


def extravars(req: RunRequest) -> dict[str, Any]:
    """Extra vars of a run (parameter values included)."""
    ev: dict[str, Any] = dict(req.params)
    ev["procc_run_id"] = req.run_id
    if req.inventory is None:
        ev["procc_hosts"] = "all"
    if req.fail_at:
        ev["procc_fail_at"] = req.fail_at
    ev.update(req.extra)
    return ev


def execute(req: RunRequest, on_event: Callable[[Event], None] | None = None,
            cancel: Callable[[], bool] | None = None) -> RunResult:
    """Run the procedure; events go to ``on_event`` as they happen."""
    import ansible_runner  # deferred: compiling must never import ansible

    data_dir = prepare(req)
    result = RunResult(req.run_id, 1, "unstarted", data_dir)
    roles = req.root / "roles"
    envvars = {
        "ANSIBLE_ROLES_PATH": f"{roles}:{os.environ.get('ANSIBLE_ROLES_PATH', '')}".rstrip(":"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
    }
    # Extra vars go in a file of the private data dir; secret values are
    # passed through the environment of the run instead (never written).
    ev = extravars(req)
    secret_env: dict[str, str] = {}
    for name in req.secret_names:
        if name in ev:
            secret_env[f"PROCC_SECRET_{name.upper()}"] = str(ev.pop(name))
            ev[name] = "{{ lookup('ansible.builtin.env', 'PROCC_SECRET_" + name.upper() + "') }}"
    (data_dir / "env" / "extravars").write_text(dump(ev), encoding="utf-8")

    def handler(event: Event) -> bool:
        result.events += 1
        data = event.get("event_data", {})
        task = str(data.get("task", ""))
        res = data.get("res") or {}
        if event.get("event") == "runner_on_failed" and task == "Procc | Resumen del fallo":
            result.summary = str(res.get("msg", ""))
        elif event.get("event") == "runner_on_ok" and task == "Procc | Simulacro superado":
            result.summary = str(res.get("msg", ""))
            result.drill_passed = True
        elif event.get("event") == "runner_on_failed" and not data.get("ignore_errors"):
            result.failed_tasks.append(task)
        if on_event is not None:
            on_event(event)
        return True

    inventory = req.inventory if req.inventory is not None else str(data_dir / "inventory" / "hosts")
    cmdline = []
    if req.check:
        cmdline.append("--check")
    # ansible-runner finds ansible-playbook on PATH; procc may be started
    # from a venv that is not activated, so put the venv's bin first.
    bindir = str(Path(sys.executable).parent)
    path_env = {"PATH": f"{bindir}:{os.environ.get('PATH', '')}"}
    old_env = {k: os.environ.get(k) for k in (*secret_env, "PATH")}
    os.environ.update(secret_env)
    os.environ.update(path_env)
    try:
        runner = ansible_runner.run(
            private_data_dir=str(data_dir),
            playbook="playbook.yml",
            inventory=inventory,
            envvars=envvars,
            limit=req.limit,
            cmdline=" ".join(cmdline) or None,
            quiet=True,
            event_handler=handler,
            cancel_callback=cancel,
            settings={"suppress_ansible_output": True},
        )
    finally:
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    result.rc = int(runner.rc if runner.rc is not None else 1)
    result.status = str(runner.status)
    if not result.summary and result.rc != 0 and result.failed_tasks:
        result.summary = f"failed at: {result.failed_tasks[-1]}"
    (data_dir / "procc-result.json").write_text(
        json.dumps({"run_id": result.run_id, "rc": result.rc, "status": result.status,
                    "summary": result.summary, "drill_passed": result.drill_passed}, indent=2),
        encoding="utf-8",
    )
    return result
