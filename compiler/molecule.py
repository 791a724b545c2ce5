"""``procc molecule``: a Molecule scenario that drills every step of any procedure on real test hosts.

The scenario a team drops into its CI, generated from the procedure alone:

- ``create.yml``/``destroy.yml``: N SSH-reachable hosts from the collection
  role ``procc.ops.testhosts`` (Molecule's default driver), per-run state
  under ``MOLECULE_EPHEMERAL_DIRECTORY``;
- ``prepare.yml``/``cleanup.yml``: stubs the team fills in (marked FILL IN);
- ``drills.yml`` (Molecule's side_effect, run before converge on the
  prepared hosts): for every step K, a state fingerprint, the compiled
  playbook with ``procc_fail_at=K``, a second fingerprint that must equal
  the first, then ``faults survived: X of Y``;
- ``converge.yml``: the compiled playbook (``procedure.yml``) unchanged;
- ``verify.yml``: the procedure's own final validation (health checks,
  metrics, smoke tests) run on their own, outside the playbook.

Every file is Python data dumped by :mod:`compiler.yamlout`; user text
(titles, commands, paths, parameter values) only ever travels as data,
never spliced into YAML or Jinja text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler import playbook
from compiler.i18n import Lang
from compiler.model import Procedure
from compiler.yamlout import dump

Task = dict[str, Any]

# A parameter whose value is a path the scenario can place under the host's own directory.
_ABSOLUTE_PATTERN = re.compile(r"^\^?/")
_GROUP = re.compile(r"[A-Za-z0-9_-]+")
FILL_IN = "CHANGE-ME"


@dataclass(frozen=True)
class Scenario:
    """The generated files, name -> text, relative to the scenario directory."""

    name: str
    files: dict[str, str]


def _header(lines: list[str]) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for line in lines)


def host_params(proc: Procedure) -> dict[str, Any]:
    """Values of the parameters that have none (required, no default): a path under the host's directory
    for an absolute-path parameter, else ``CHANGE-ME`` (the run's parameter check then names it)."""
    out: dict[str, Any] = {}
    for name, p in sorted(proc.parameters.items()):
        if p.default is not None or not p.required:
            continue
        if p.type == "path" or (p.pattern is not None and _ABSOLUTE_PATTERN.match(p.pattern)):
            out[name] = "{{ procc_host_dir }}/" + name
        else:
            out[name] = FILL_IN
    return out


def _group(proc: Procedure) -> str:
    """The inventory group the platforms join: the procedure's hosts when it is a plain group name."""
    return proc.hosts if _GROUP.fullmatch(proc.hosts) and proc.hosts != "all" else ""


def generate(proc: Procedure, out: Path, root: Path, hosts: int = 2, lang: Lang = "es",
             source: str | None = None) -> Scenario:
    """The scenario of ``proc`` for the directory ``out`` of the project at ``root``."""
    if not 1 <= hosts <= 50:
        raise ValueError("--hosts must be between 1 and 50")
    name = out.name
    group = _group(proc)
    files = {
        "molecule.yml": _molecule_yml(proc, out, root, hosts, group),
        "create.yml": _create(),
        "destroy.yml": _destroy(),
        "prepare.yml": _prepare(proc),
        "cleanup.yml": _cleanup(),
        "procedure.yml": playbook.render(proc, lang, source),
        "converge.yml": _converge(proc),
        "drills.yml": _drills(proc, name),
        "tasks/fingerprint.yml": _fingerprint(),
        "tasks/drill.yml": _drill(),
        "verify.yml": _verify(proc, lang),
    }
    return Scenario(name, files)


# -- molecule.yml ----------------------------------------------------------------


def _molecule_yml(proc: Procedure, out: Path, root: Path, hosts: int, group: str) -> str:
    platforms: list[dict[str, Any]] = []
    for i in range(1, hosts + 1):
        plat: dict[str, Any] = {"name": f"host{i}"}
        if group:
            plat["groups"] = [group]
        platforms.append(plat)
    env: dict[str, str] = {
        # SSH control masters in the run's own directory: destroy closes them.
        "ANSIBLE_SSH_CONTROL_PATH_DIR": "${MOLECULE_EPHEMERAL_DIRECTORY}/testhosts/cp",
    }
    for var, sub in (("ANSIBLE_ROLES_PATH", "roles"), ("ANSIBLE_COLLECTIONS_PATH", "collections")):
        if (root / sub).is_dir():
            env[var] = os.path.relpath((root / sub).resolve(), out.resolve())
    group_vars: dict[str, Any] = {
        # Unique per run (the ephemeral directory is): the hosts share this filesystem.
        "molecule_data_root": "/tmp/procc-molecule-{{ (molecule_ephemeral_directory | hash('sha1'))[:10] }}",
        "procc_host_dir": "{{ molecule_data_root }}/{{ inventory_hostname }}",
        "ansible_pipelining": True,
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "molecule_faults_file": "{{ lookup('ansible.builtin.env', 'PROCC_FAULTS_FILE')"
                                " | default(molecule_ephemeral_directory ~ '/faults.jsonl', true) }}",
        # Regular expressions of fingerprint lines a drill may change: what a step
        # with rollback: {none-needed: ...} leaves behind on purpose.
        "molecule_may_change": [],
        # Extra shell printing more state to compare (a database checksum, a service's version).
        "molecule_fingerprint_cmd": "",
        **host_params(proc),
    }
    data = {
        "driver": {"name": "default", "options": {"managed": True}},
        "platforms": platforms,
        # The prerun would galaxy-install the project over its own collection link.
        "prerun": False,
        "provisioner": {
            "name": "ansible",
            "playbooks": {"create": "create.yml", "destroy": "destroy.yml", "side_effect": "drills.yml"},
            "env": env,
            "inventory": {"group_vars": {"all": group_vars}},
        },
        "scenario": {
            "test_sequence": ["destroy", "syntax", "create", "prepare", "side_effect", "converge",
                              "verify", "cleanup", "destroy"],
        },
    }
    head = _header([
        f"Generated by procc molecule for {proc.id} ({hosts} host(s)); regenerate rather than edit,",
        "except prepare.yml and cleanup.yml, and the FILL IN values of group_vars below:",
        f"parameters set to {FILL_IN} need a value for the test hosts. Parameters with a default use it.",
        "Sequence: the drills (side_effect: every step failed on purpose, state compared) run on the",
        "prepared hosts, then converge runs the compiled playbook, then verify its final validation.",
    ])
    return head + dump(data)


# -- create / destroy / prepare / cleanup ------------------------------------------


def _create() -> str:
    data = [{
        "name": "Create the SSH test hosts",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "tasks": [
            {"name": "Bring up one host per platform",
             "ansible.builtin.include_role": {"name": "procc.ops.testhosts", "tasks_from": "create"},
             "vars": {"testhosts_state_dir": "{{ molecule_ephemeral_directory }}/testhosts",
                      "testhosts_count": "{{ molecule_yml.platforms | length }}",
                      "testhosts_names": "{{ molecule_yml.platforms | map(attribute='name') | list }}",
                      "testhosts_python": "{{ ansible_playbook_python }}"}},
            {"name": "Write Molecule's instance config",
             "ansible.builtin.copy": {"content": "# Molecule managed\n{{ testhosts_instances | to_nice_yaml(indent=2) }}\n",
                                      "dest": "{{ molecule_instance_config }}", "mode": "0600"}},
        ],
    }]
    return _header(["Molecule's create (default driver): real SSH hosts from procc.ops.testhosts."]) + dump(data)


def _destroy() -> str:
    data = [{
        "name": "Destroy the SSH test hosts",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "tasks": [
            {"name": "Remove the hosts and every process left in them",
             "ansible.builtin.include_role": {"name": "procc.ops.testhosts", "tasks_from": "destroy"},
             "vars": {"testhosts_state_dir": "{{ molecule_ephemeral_directory }}/testhosts"}},
            {"name": "Remove the hosts' data directory",
             "ansible.builtin.file": {
                 "path": "/tmp/procc-molecule-{{ (molecule_ephemeral_directory | hash('sha1'))[:10] }}",
                 "state": "absent"}},
            {"name": "Write Molecule's (empty) instance config",
             "ansible.builtin.copy": {"content": "# Molecule managed\n[]\n",
                                      "dest": "{{ molecule_instance_config }}", "mode": "0600"}},
        ],
    }]
    return _header(["Molecule's destroy: idempotent, also after a failed scenario."]) + dump(data)


def _prepare(proc: Procedure) -> str:
    dirs = ["{{ procc_host_dir }}"] + [
        f"{{{{ {n} }}}}" for n, v in host_params(proc).items() if v != FILL_IN]
    data = [{
        "name": "Prepare the hosts",
        "hosts": "all",
        "gather_facts": False,
        "tasks": [
            {"name": "Create the host's directories",
             "ansible.builtin.file": {"path": "{{ item }}", "state": "directory", "mode": "0755"},
             "loop": dirs},
            # FILL IN marker as a task, so it survives in the output users read.
            {"name": "FILL IN - install and start what the procedure acts on (services, data)",
             "ansible.builtin.debug": {"msg": "prepare.yml is a stub generated by procc molecule"}},
        ],
    }]
    return _header([
        "FILL IN: the state the procedure starts from, on every test host (re-runnable).",
        "The hosts share this machine's filesystem: keep each host's files under procc_host_dir.",
        "Never run the procedure here: converge does.",
    ]) + dump(data)


def _cleanup() -> str:
    data = [{
        "name": "Clean up the hosts",
        "hosts": "all",
        "gather_facts": False,
        "tasks": [
            {"name": "FILL IN - stop what prepare.yml started (destroy removes the hosts and their files)",
             "ansible.builtin.debug": {"msg": "cleanup.yml is a stub generated by procc molecule"}},
        ],
    }]
    return _header(["FILL IN: undo prepare.yml (services it started); never verify here."]) + dump(data)


# -- converge / drills ----------------------------------------------------------


def _converge(proc: Procedure) -> str:
    data = [{"name": f"{proc.id} (the compiled playbook, unchanged)",
             "ansible.builtin.import_playbook": "procedure.yml",
             "vars": {"procc_run_id": "molecule"}}]
    return _header(["The procedure's real run: procedure.yml is procc's compiled playbook."]) + dump(data)


def _drills(proc: Procedure, scenario: str) -> str:
    n = len(proc.steps)
    data = [
        {
            "name": f"Drill every step of {proc.id}",
            "hosts": "all",
            "gather_facts": False,
            "vars": {"molecule_steps": n, "molecule_proc_id": proc.id, "molecule_scenario": scenario},
            "tasks": [
                {"name": "Drill one step between two fingerprints",
                 "ansible.builtin.include_tasks": "tasks/drill.yml",
                 "loop": list(range(1, n + 1)),
                 "loop_control": {"loop_var": "molecule_step"}},
                {"name": "Count the faults survived",
                 "ansible.builtin.set_fact": {
                     "molecule_survived": "{{ hostvars['localhost'].molecule_drills | default([]) | select | list | length }}"},
                 "delegate_to": "localhost", "delegate_facts": True, "run_once": True},
                {"name": "Print the count",
                 "ansible.builtin.debug": {
                     "msg": "faults survived: {{ hostvars['localhost'].molecule_survived }} of {{ molecule_steps }}"},
                 "run_once": True},
                {"name": "Every drill passed and left the hosts as they were",
                 "ansible.builtin.assert": {
                     "that": ["hostvars['localhost'].molecule_survived | int == molecule_steps | int"],
                     "fail_msg": "faults survived: {{ hostvars['localhost'].molecule_survived }} of "
                                 "{{ molecule_steps }} (see the NOT SURVIVED lines above)",
                     "quiet": True},
                 "run_once": True},
            ],
        },
    ]
    return _header([
        f"One drill per step of {proc.id} (procc_fail_at=K), each between two independent fingerprints",
        "of every host (tasks/fingerprint.yml) that must be equal; one JSON line per drill in",
        "molecule_faults_file; at the end 'faults survived: X of Y' (fails unless X = Y).",
    ]) + dump(data)


def _fingerprint() -> str:
    cmd = (
        "set -o pipefail\n"
        "cd \"$PROCC_HOST_DIR\"\n"
        "find . -printf '%y %m %p -> %l\\n' | sort\n"
        "find . -type f -print0 | sort -z | xargs -0 -r sha256sum\n"
        "if [ -n \"$PROCC_FP_CMD\" ]; then bash -c \"$PROCC_FP_CMD\"; fi\n"
    )
    data = [
        {"name": "Fingerprint the host (files, modes, link targets, contents; and molecule_fingerprint_cmd)",
         "ansible.builtin.shell": {"cmd": cmd, "executable": "/bin/bash"},
         "environment": {"PROCC_HOST_DIR": "{{ procc_host_dir }}",
                         "PROCC_FP_CMD": "{{ molecule_fingerprint_cmd | default('') }}"},
         "register": "molecule_fp_raw",
         "changed_when": False},
        {"name": "Keep the lines a drill must not change",
         "ansible.builtin.set_fact": {
             "molecule_fp": "{{ molecule_fp_raw.stdout_lines | reject('search', molecule_may_change | join('|') "
                            "or '^$NEVER') | list }}"}},
    ]
    return _header(["An independent state fingerprint of one host, read with plain tools."]) + dump(data)


def _drill() -> str:
    data = [
        {"name": "Fingerprint before the drill", "ansible.builtin.include_tasks": "fingerprint.yml"},
        {"name": "Keep the fingerprint before", "ansible.builtin.set_fact": {"molecule_before": "{{ molecule_fp }}"}},
        {"name": "Run the compiled playbook with a drill at this step",
         "ansible.builtin.command": {
             "argv": "{{ [ansible_playbook_python | dirname ~ '/ansible-playbook']"
                     " + (ansible_inventory_sources | map('regex_replace', '^', '--inventory=') | list)"
                     " + [molecule_scenario_directory ~ '/procedure.yml', '--extra-vars', molecule_vars | to_json] }}"},
         "vars": {"molecule_vars": "{{ {'procc_fail_at': molecule_step | int,"
                                   " 'procc_run_id': 'molecule-drill-' ~ molecule_step} }}"},
         "delegate_to": "localhost", "run_once": True,
         "register": "molecule_drill", "changed_when": True, "failed_when": False},
        {"name": "Fingerprint after the drill", "ansible.builtin.include_tasks": "fingerprint.yml"},
        {"name": "Compare (this host)",
         "ansible.builtin.set_fact": {
             "molecule_host_problems": "{{ ([] if (inventory_hostname ~ ': DRILL PASSED') in molecule_drill.stdout"
                                       " else ['the drill did not pass']) + ([] if molecule_before == molecule_fp"
                                       " else ['state changed: ' ~ (molecule_before | symmetric_difference(molecule_fp)"
                                       " | join(' | '))]) }}"}},
        {"name": "Record the drill",
         "ansible.builtin.lineinfile": {
             "path": "{{ molecule_faults_file }}",
             "line": "{{ {'scenario': molecule_scenario, 'kind': 'drill',"
                     " 'id': molecule_proc_id ~ ' step ' ~ molecule_step, 'ok': molecule_ok,"
                     " 'detail': molecule_detail} | to_json }}",
             "create": True, "mode": "0644"},
         "vars": {
             "molecule_ok": "{{ ansible_play_hosts | map('extract', hostvars, 'molecule_host_problems')"
                            " | reject('equalto', []) | list | length == 0"
                            " and ansible_play_hosts | length == ansible_play_hosts_all | length }}",
             "molecule_detail": "{{ ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars,"
                                " 'molecule_host_problems')) | list | rejectattr('1', 'equalto', []) | list }}"},
         "delegate_to": "localhost", "run_once": True},
        {"name": "Remember the result",
         "ansible.builtin.set_fact": {
             "molecule_drills": "{{ hostvars['localhost'].molecule_drills | default([]) + [molecule_ok] }}"},
         "vars": {"molecule_ok": "{{ ansible_play_hosts | map('extract', hostvars, 'molecule_host_problems')"
                                 " | reject('equalto', []) | list | length == 0 }}"},
         "delegate_to": "localhost", "delegate_facts": True, "run_once": True},
        {"name": "Show the result",
         "ansible.builtin.debug": {
             "msg": "{{ molecule_proc_id }} step {{ molecule_step }} on {{ inventory_hostname }}: "
                    "{{ 'survived' if not molecule_host_problems else 'NOT SURVIVED: ' ~ "
                    "(molecule_host_problems | join('; ')) }}"}},
    ]
    return _header(["One drill (procc_fail_at=molecule_step) between two fingerprints, recorded."]) + dump(data)


# -- verify --------------------------------------------------------------------


def _verify(proc: Procedure, lang: Lang) -> str:
    b = playbook._Builder(proc, lang)
    fv = proc.final_validation
    prefix = b.w["final_validation"]
    tags = ["verify"]
    tasks: list[Task] = [t for h in fv.health for t in b._health(prefix, h, tags)]
    for m in fv.metrics:
        tasks.extend(b._metric(prefix, m, tags))
    tasks.extend(b._check(prefix, s, tags) for s in fv.smoke)
    if not tasks:
        tasks.append({"name": "FILL IN - the procedure has no final validation: add checks of its end state",
                      "ansible.builtin.debug": {"msg": "verify.yml has nothing to check"}})
    play: dict[str, Any] = {
        "name": f"{proc.id} | {prefix} (independent of the playbook run)",
        "hosts": "{{ procc_hosts | default('" + proc.hosts.replace("'", "") + "') }}",
        "gather_facts": False,
        # The parameters' defaults, the way the compiled playbook reads them
        # (inventory values, then these): the same values as the real run.
        "vars": {"procc_run_id": "molecule", "procc_proc_id": proc.id, **b.parameter_defaults()},
        "tasks": tasks,
    }
    if proc.become:
        play["become"] = True
    return _header([
        f"The final validation of {proc.id} (health checks, metrics, smoke tests), run on its own:",
        "the same commands as the playbook's, outside its run. Changes nothing: re-runnable.",
    ]) + dump([play])
