"""Run small playbooks against localhost through ansible-runner's Python API.

Every run gets its own private data directory; the result keeps the status,
the whole stdout and the events, so a test can assert on messages and grep
the artifacts for secrets.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = REPO / "roles"
COLLECTIONS = REPO / "collections"  # ansible_collections/procc/ops links back to REPO
VENV_BIN = Path(sys.executable).parent


@dataclass
class PlayResult:
    """What a playbook run left behind."""

    status: str
    rc: int
    stdout: str
    private_data_dir: Path
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0

    def task_results(self, task_name: str) -> list[dict[str, Any]]:
        """The ``res`` of every runner_on_ok/failed event of tasks whose name contains this."""
        found = []
        for ev in self.events:
            data = ev.get("event_data", {})
            if ev.get("event") in ("runner_on_ok", "runner_on_failed") and task_name in data.get("task", ""):
                found.append(data.get("res", {}))
        return found

    def facts(self) -> dict[str, Any]:
        """Every fact set with set_fact during the run (last value wins)."""
        facts: dict[str, Any] = {}
        for ev in self.events:
            res = ev.get("event_data", {}).get("res", {})
            if ev.get("event") == "runner_on_ok" and isinstance(res, dict):
                facts.update(res.get("ansible_facts", {}))
        return facts

    def all_output_text(self) -> str:
        """stdout plus the content of every file in the private data dir (artifacts included)."""
        parts = [self.stdout]
        for path in sorted(self.private_data_dir.rglob("*")):
            if path.is_file():
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)


def run_play(
    workdir: Path,
    tasks: list[dict[str, Any]],
    extravars: dict[str, Any] | None = None,
    envvars: dict[str, str] | None = None,
    play_vars: dict[str, Any] | None = None,
) -> PlayResult:
    """Run one play of ``tasks`` on localhost (local connection, this interpreter).

    ansible-runner records its whole environment and the extra vars in
    ``artifacts/<id>/command``: never pass a secret through ``envvars`` or
    ``extravars`` (read it from a file outside ``workdir`` instead).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    project = workdir / "project"
    project.mkdir(exist_ok=True)
    play = [{"name": "Test play", "hosts": "all", "gather_facts": False, "vars": play_vars or {}, "tasks": tasks}]
    (project / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    inventory = f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    env = {
        "ANSIBLE_ROLES_PATH": str(ROLES),
        # The roles call the collection's modules by FQCN (procc.ops.prometheus_check).
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PIPELINING": "1",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        **(envvars or {}),
    }
    runner = ansible_runner.run(
        private_data_dir=str(workdir),
        playbook="play.yml",
        inventory=inventory,
        envvars=env,
        extravars=extravars or {},
        quiet=True,
    )
    stdout = runner.stdout.read() if runner.stdout else ""
    events = list(runner.events)
    return PlayResult(status=runner.status, rc=runner.rc, stdout=stdout, private_data_dir=workdir, events=events)


def dump(result: PlayResult) -> str:
    """A readable failure report for assertion messages."""
    return f"status={result.status} rc={result.rc}\n{result.stdout[-6000:]}" + (
        "" if result.ok else "\n" + json.dumps(result.task_results("")[-1:], indent=1)[-3000:]
    )
