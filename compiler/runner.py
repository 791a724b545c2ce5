"""Executing a compiled procedure through ansible-runner.

The only module that imports ``ansible_runner``. Each run gets a private data
directory under ``.procc/runs/RUN_ID/`` holding the compiled playbook, the
inventory, the extra vars and ansible-runner's artifacts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets as _secrets
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler import playbook, protocol, yamlout
from compiler.errors import UsageError
from compiler.i18n import Lang
from compiler.masking import Masker
from compiler.parse import Source

Event = dict[str, Any]

# RunRequest.rollback_of of procc rollback without --run (the procedure's full rollback).
FULL_ROLLBACK = "full"

# Where the project's compiled playbooks live (compiler.project.DEFAULT_PLAYBOOKS).
PLAYBOOKS = Path("playbooks")


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
    """What a run ended as: the playbook's per-host results (:mod:`compiler.protocol`) and rc."""

    run_id: str
    rc: int
    status: str
    data_dir: Path
    summary: str = ""
    drill_passed: bool = False
    unreachable: list[str] = field(default_factory=list)
    events: int = 0
    failed_tasks: list[str] = field(default_factory=list)
    # host -> the playbook's procc_result (outcome, failed step, cause, rollbacks).
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The host pattern (or --limit) that matched no host: the run did nothing.
    no_hosts: str | None = None
    # Every host an event named (a task ran, failed or was skipped on it).
    hosts: set[str] = field(default_factory=set)
    # ansible-playbook's own error lines (a playbook that does not load:
    # a role not found, a syntax error): no task event says why.
    errors: list[str] = field(default_factory=list)


@dataclass
class RunRequest:
    """Everything needed to execute one procedure."""

    source: Source
    root: Path
    params: dict[str, str]
    secret_names: set[str] = field(default_factory=set)
    inventory: str | None = None
    limit: str | None = None
    # Parallel connections (ansible-playbook --forks); None: the procedure's
    # ``forks``, else Ansible's own default (ansible.cfg, 5).
    forks: int | None = None
    fail_at: int | None = None
    check: bool = False
    diff: bool = False
    lang: Lang = "es"
    runs_dir: Path | None = None
    run_id: str = field(default_factory=new_run_id)
    # A playbook to run instead of the compiled one (procc rollback).
    playbook_text: str | None = None
    # procc rollback: the run whose started steps this run rolls back, or
    # FULL_ROLLBACK; recorded, and that run's id is this run's procc_run_id.
    rollback_of: str | None = None
    # procc run --fast / PROCC_FAST=1: the Mitogen strategy (the CLI falls
    # back to stock Ansible, with a notice, when mitogen_strategy_dir() is None).
    fast: bool = False

    @property
    def data_dir(self) -> Path:
        """The private data directory of this run."""
        return (self.runs_dir or (self.root / ".procc" / "runs")) / self.run_id

    @property
    def cancel_file(self) -> Path:
        """The flag file procc creates to ask the playbook for a graceful stop."""
        return self.data_dir / "cancel"


def missing_inventory(inventory: str | None) -> bool:
    """Whether ``inventory`` names a path that does not exist (an inline ``h1,h2,`` list is no path).

    ansible-runner takes a string that is not an existing path for inventory
    TEXT: a mistyped ``-i /nonexistent.ini`` would become an inventory of one
    host of that name, match nothing and end "successful".
    """
    if inventory is None or ("," in inventory and not os.path.exists(inventory)):
        return False
    return not os.path.exists(inventory)


def no_hosts_message(pattern: str, inventory: str | None) -> str:
    """The refusal of a run whose targets match no host."""
    where = inventory if inventory is not None else "the local inventory (localhost)"
    return f"procc: no hosts matched '{pattern}' in {where}"


def target_pattern(req: RunRequest) -> str:
    """The host pattern a run targets, as the user sees it: --limit, else the procedure's hosts."""
    if req.limit:
        return req.limit
    return "all" if req.inventory is None else req.source.procedure.hosts


def check_inventory(req: RunRequest) -> None:
    """Refuse a run whose inventory path does not exist, before anything runs or is recorded."""
    if missing_inventory(req.inventory):
        raise UsageError(no_hosts_message(target_pattern(req), req.inventory)
                         + ": the inventory does not exist")


def prepare(req: RunRequest) -> Path:
    """Lay out the private data directory; returns its path."""
    check_inventory(req)
    data_dir = req.data_dir
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Created here, exclusively and private: nothing in it can have been
        # placed beforehand (a symlink where procc writes, say).
        data_dir.mkdir(mode=0o700)
    except FileExistsError:
        raise UsageError(f"procc: the run directory {data_dir} already exists; refusing to reuse it") from None
    (data_dir / "project").mkdir(parents=True, exist_ok=True)
    (data_dir / "inventory").mkdir(parents=True, exist_ok=True)
    (data_dir / "env").mkdir(parents=True, exist_ok=True)
    pb = req.playbook_text
    if pb is None:
        pb = playbook.render(req.source.procedure, req.lang, source=req.source.display)
    (data_dir / "project" / "playbook.yml").write_text(pb, encoding="utf-8")
    for name, target in playbook_vars_dirs(req.root).items():
        # The committed playbooks' group_vars/host_vars apply beside the run's
        # copy of the playbook too. Linked, not copied: they may hold values
        # (vault files) that have no business in a run's artifacts.
        (data_dir / "project" / name).symlink_to(target, target_is_directory=True)
    if req.inventory is None:
        (data_dir / "inventory" / "hosts").write_text(local_inventory(), encoding="utf-8")
    return data_dir


def playbook_vars_dirs(root: Path) -> dict[str, Path]:
    """The ``group_vars``/``host_vars`` directories beside the project's playbooks that exist."""
    base = root / PLAYBOOKS
    return {name: (base / name).resolve() for name in ("group_vars", "host_vars") if (base / name).is_dir()}


def extravars(req: RunRequest) -> dict[str, Any]:
    """Extra vars of a run (parameter values included)."""
    ev: dict[str, Any] = dict(req.params)
    # A rollback of a run works on that run's things (dir/{{ procc_run_id }}).
    original = req.rollback_of if req.rollback_of not in (None, FULL_ROLLBACK) else None
    ev["procc_run_id"] = original or req.run_id
    ev["procc_cancel_file"] = str(req.cancel_file)
    if req.inventory is None:
        ev["procc_hosts"] = "all"
    if req.fail_at:
        ev["procc_fail_at"] = req.fail_at
    return ev


def secret_env_names(req: RunRequest) -> set[str]:
    """The environment variables declared by the run's secret parameters."""
    params = req.source.procedure.parameters
    return {p.env for name, p in params.items() if (p.secret or name in req.secret_names) and p.env}


# The strategy plugin of the opt-in fast lane (issue 14: 0.57x of stock Ansible's time).
FAST_STRATEGY = "mitogen_linear"


def mitogen_strategy_dir() -> Path | None:
    """The strategy plugins directory of the installed ``ansible_mitogen``; None when it is not installed.

    Found without importing it (importing ansible_mitogen imports ansible).
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec("ansible_mitogen")
    except (ImportError, ValueError):
        return None
    for base in (spec.submodule_search_locations or []) if spec is not None else []:
        d = Path(base) / "plugins" / "strategy"
        if (d / f"{FAST_STRATEGY}.py").is_file():
            return d
    return None


def masker_for(req: RunRequest, environ: dict[str, str] | None = None) -> Masker:
    """What a run must mask: its secret values, and the values of the secret env variables."""
    env = dict(os.environ) if environ is None else environ
    values = [str(req.params[n]) for n in req.secret_names if n in req.params]
    values += [env[k] for k in secret_env_names(req) if env.get(k)]
    return Masker(values)


def child_env(req: RunRequest, masker: Masker) -> dict[str, str]:
    """The variables procc adds to ansible-playbook's environment (never ``os.environ``)."""
    roles = req.root / "roles"
    # ansible-runner finds ansible-playbook on PATH; procc may be started
    # from a venv that is not activated, so put the venv's bin first.
    bindir = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
        "ANSIBLE_ROLES_PATH": f"{roles}:{os.environ.get('ANSIBLE_ROLES_PATH', '')}".rstrip(":"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
    }
    # ansible-playbook runs in the private data dir, where the project's
    # ansible.cfg would not be found: point at it (host-key checking and the
    # rest of the user's settings stay theirs).
    cfg = req.root / "ansible.cfg"
    if "ANSIBLE_CONFIG" not in os.environ and cfg.is_file():
        env["ANSIBLE_CONFIG"] = str(cfg)
    strategies = mitogen_strategy_dir() if req.fast else None
    if strategies is not None:
        # The environment beats ansible.cfg's [defaults] strategy; the
        # compiled plays name no strategy of their own.
        env["ANSIBLE_STRATEGY"] = FAST_STRATEGY
        env["ANSIBLE_STRATEGY_PLUGINS"] = f"{strategies}:{os.environ.get('ANSIBLE_STRATEGY_PLUGINS', '')}".rstrip(":")
    return env


def _clean_env(env: dict[str, str], drop: set[str], masker: Masker) -> None:
    """Remove secrets and procc's own host-key override from the child's environment, in place.

    ansible-runner seeds the environment from ``os.environ``, records it in
    ``artifacts/*/command`` and sets ANSIBLE_HOST_KEY_CHECKING=False unless
    it is already set: undo that when the user did not set it themself.
    """
    for k in list(env):
        if k in drop or masker.hits(env[k]):
            del env[k]
    if "ANSIBLE_HOST_KEY_CHECKING" not in os.environ:
        env.pop("ANSIBLE_HOST_KEY_CHECKING", None)


def execute(req: RunRequest, on_event: Callable[[Event], None] | None = None,
            cancel: Callable[[], bool] | None = None) -> RunResult:
    """Run the procedure; events go to ``on_event`` as they happen.

    Every event is masked (see :mod:`compiler.masking`) before ansible-runner
    writes it and before ``on_event`` sees it; no ``stdout`` file is written;
    secret values reach ansible-playbook only through a FIFO, never a command
    line or the environment. ``os.environ`` is never changed.
    """
    from ansible_runner import Runner, RunnerConfig  # deferred: compiling must never import ansible

    data_dir = prepare(req)
    result = RunResult(req.run_id, 1, "unstarted", data_dir)
    masker = masker_for(req)
    # Extra vars go in a file of the private data dir, every string !unsafe;
    # secret values never touch the disk: ansible-playbook reads them from a
    # FIFO (-e @fifo).
    ev = extravars(req)
    secret_values = {name: ev.pop(name) for name in sorted(req.secret_names) if name in ev}
    (data_dir / "env" / "extravars").write_text(yamlout.extravars(ev), encoding="utf-8")
    # Settings go in env/settings: ansible-runner 2.4 drops a settings= argument
    # when that file is missing. A short poll so that a hard abort (second
    # Ctrl-C) is immediate; no stdout/stderr files: the masked events are the record.
    (data_dir / "env" / "settings").write_text(json.dumps(
        {"suppress_ansible_output": True, "suppress_output_file": True, "pexpect_timeout": 0.2}),
        encoding="utf-8")

    # Events map to tasks of the playbook procc wrote through compiler.protocol.
    tasks = protocol.task_map(data_dir / "project" / "playbook.yml")
    play_pattern = ["all" if req.inventory is None else req.source.procedure.hosts]

    def handler(event: Event) -> bool:
        # In place: ansible-runner writes this very dict to job_events/ after we return.
        masker.scrub(event)
        result.events += 1
        data = event.get("event_data", {})
        _no_hosts(event, play_pattern, result, req)
        task = str(data.get("task", ""))
        host = str(data.get("host", ""))
        res = data.get("res") or {}
        kind = event.get("event")
        if host and str(kind).startswith("runner_on_"):
            result.hosts.add(host)
        elif kind == "verbose" and len(result.errors) < 4:
            text = str(event.get("stdout", "")).strip()
            if text.startswith(("[ERROR]:", "ERROR!")) or (result.errors and text.startswith("Origin:")):
                result.errors.append(text)
        _, line = protocol.split_task_path(str(data.get("task_path", "")))
        tag = tasks.get(line) if line is not None else None
        if kind == "runner_on_ok" and tag is not None and tag.kind == "result":
            facts = res.get("ansible_facts") if isinstance(res, dict) else None
            if isinstance(facts, dict) and isinstance(facts.get("procc_result"), dict):
                result.results[host] = facts["procc_result"]
        elif kind == "runner_on_unreachable":
            result.unreachable.append(host)
            result.failed_tasks.append(task)
        elif kind == "runner_on_failed" and not data.get("ignore_errors") \
                and not (tag is not None and tag.kind == "summary"):
            result.failed_tasks.append(task)
        if on_event is not None:
            on_event(event)
        return True

    inventory = req.inventory if req.inventory is not None else str(data_dir / "inventory" / "hosts")
    cmdline: list[str] = []
    if req.check:
        cmdline.append("--check")
    if req.diff:
        cmdline.append("--diff")
    feeder = _SecretFeeder(secret_values) if secret_values else None
    if feeder is not None:
        cmdline += ["-e", f"@{feeder.path}"]
    watchdog = _watchdog(data_dir)
    try:
        config = RunnerConfig(
            private_data_dir=str(data_dir),
            playbook="playbook.yml",
            inventory=inventory,
            envvars=child_env(req, masker),
            limit=req.limit,
            forks=req.forks or req.source.procedure.forks,
            cmdline=" ".join(cmdline) or None,
            quiet=True,
        )
        config.prepare()
        _clean_env(config.env, secret_env_names(req), masker)
        runner = Runner(config, event_handler=handler, cancel_callback=cancel)
        runner.run()
    finally:
        watchdog.kill()
        watchdog.wait()
        if feeder is not None:
            feeder.close()
        _sweep_partials(data_dir)
    result.rc = int(runner.rc if runner.rc is not None else 1)
    result.status = str(runner.status)
    results = result.results
    if result.no_hosts is not None:
        # ansible-playbook ends an unmatched play "successful": it is not.
        result.rc, result.status = 2, "no-hosts"
        result.summary = no_hosts_message(result.no_hosts, req.inventory)
    elif result.rc == 0 and req.playbook_text is None and result.hosts - set(results):
        # ansible-playbook can end "successfully" before the outcome play (a
        # failed include_role counts as a failed host even when rescued, and
        # ends the playbook after that play): without its result a host has
        # no verdict, and that is never a success.
        result.rc, result.status = 2, "failed"
        missing = ", ".join(sorted(result.hosts - set(results)))
        last = f" (last failed task: {result.failed_tasks[-1]})" if result.failed_tasks else ""
        result.summary = (f"FAILED: ansible-playbook ended before the procedure's outcome play, so {missing}"
                          f" has no result{last}; read the events in {data_dir}")
    result.drill_passed = (bool(results) and all(r.get("drill_passed") for r in results.values())
                           and not set(result.unreachable) - set(results) and result.rc == 0)
    result.summary = result.summary or protocol.summary(results, result.unreachable, req.source.procedure.id,
                                                        req.run_id)
    if not result.summary and result.rc != 0 and result.failed_tasks:
        result.summary = f"failed at: {result.failed_tasks[-1]}"
    if not result.summary and result.rc != 0 and result.errors:
        result.summary = "FAILED before any task ran: " + " ".join(result.errors)
    result.summary = masker.text(result.summary)
    (data_dir / "procc-result.json").write_text(
        json.dumps({"run_id": result.run_id, "rc": result.rc, "status": result.status,
                    "summary": result.summary, "drill_passed": result.drill_passed,
                    "results": result.results}, indent=2, default=str),
        encoding="utf-8",
    )
    return result


# ansible-playbook's error when --limit (with the hosts pattern) leaves no host;
# it comes before any play, as a line of output (a "verbose" event).
NO_HOSTS_ERROR = "leaves us with no hosts to target"


def _no_hosts(event: Event, pattern: list[str], result: RunResult, req: RunRequest) -> None:
    """Note in ``result`` a play that matched no host, or a --limit that left none."""
    kind = event.get("event")
    data = event.get("event_data") or {}
    if kind == "playbook_on_play_start" and data.get("pattern"):
        # The play's pattern as Ansible templated it (procc_hosts or the procedure's hosts).
        pattern[0] = str(data["pattern"])
    elif kind == "playbook_on_no_hosts_matched":
        # With --limit, named as Ansible's own intersection: "backend:&web1".
        result.no_hosts = f"{pattern[0]}:&{req.limit}" if req.limit else pattern[0]
    elif kind == "verbose" and NO_HOSTS_ERROR in str(event.get("stdout", "")):
        result.no_hosts = req.limit or pattern[0]


def _sweep_partials(data_dir: Path) -> None:
    """Remove the unmasked partial event files the callback left (a run that was killed)."""
    for p in data_dir.glob("artifacts/*/job_events/*-partial.json*"):
        with contextlib.suppress(OSError):
            p.unlink()


# Runs beside procc for the length of a run: if procc dies without a chance to
# clean up (SIGKILL, OOM), ansible-playbook would go on orphaned, writing to a
# terminal nobody reads; this stops it (TERM, like the hard abort of a second
# Ctrl-C) so the run ends as "did not finish" and `procc rollback --run` can follow.
_WATCHDOG = """
while kill -0 "$1" 2>/dev/null; do sleep 1; done
pkill -TERM -f -- "$2" 2>/dev/null
sleep 5
pkill -KILL -f -- "$2" 2>/dev/null
rm -f "$3"/artifacts/*/job_events/*-partial.json "$3"/artifacts/*/job_events/*-partial.json.tmp
exit 0
"""


def _watchdog(data_dir: Path) -> subprocess.Popen[bytes]:
    """A detached shell that stops this run's ansible-playbook if procc dies."""
    return subprocess.Popen(
        ["/bin/sh", "-c", _WATCHDOG, "procc-watchdog", str(os.getpid()), f"@{data_dir}/env/extravars",
         str(data_dir)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class _SecretFeeder:
    """Serves the secret extra vars through a FIFO for as long as the run lasts.

    A FIFO holds no data at rest: the values exist only in this process and
    in ansible-playbook's memory. Each open by a reader gets the whole YAML
    (ansible-playbook reads extra vars once; later opens are served too).
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self._dir = tempfile.mkdtemp(prefix="procc-secrets-")
        self.path = os.path.join(self._dir, "secrets.yml")
        os.mkfifo(self.path, stat.S_IRUSR | stat.S_IWUSR)
        # YAML with !unsafe strings (JSON would be evaluated as templates).
        self._data = yamlout.extravars(values).encode("utf-8")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY)  # blocks until a reader opens
            except OSError:
                return
            try:
                if not self._stop.is_set():
                    os.write(fd, self._data)
            except OSError:
                pass
            finally:
                os.close(fd)
            # While the reader still holds the FIFO open, a new open() for
            # writing would succeed at once and append a second copy to what
            # it reads: give it time to reach end-of-file and close first.
            self._stop.wait(0.5)

    def close(self) -> None:
        """Stop serving and remove the FIFO."""
        self._stop.set()
        # Unblock a writer waiting in open() by opening the read side once.
        with contextlib.suppress(OSError):
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            os.close(fd)
        self._thread.join(timeout=2)
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)


def read_vault(path: Path, password_file: Path) -> dict[str, str]:
    """The variables of an ansible-vault encrypted YAML file (secret parameters)."""
    import yaml
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    password = password_file.read_bytes().strip()
    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(password))])
    data = yaml.safe_load(vault.decrypt(path.read_bytes()).decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a vault of parameters must be a mapping")
    return {str(k): str(v) for k, v in data.items()}
