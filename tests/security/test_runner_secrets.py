"""Parameter values reach Ansible as data, and secrets never reach a file, a command line or the terminal.

Real ``procc run`` runs through ansible-runner on localhost. Every assertion
is an observation: a marker file that must not exist, a ``grep -r`` of the
secret (and its URL-quoted forms) over the project and the run's private
data dir that must find nothing, an exit status, a message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from compiler.masking import MASK, Masker
from tests.security.runner_support import FIXTURES, grep, procc, project, sha256, web_server

FIXTURE_DATA = FIXTURES / "runner-data.yml"


def _lookup(marker: Path) -> str:
    return "{{ lookup('pipe', 'touch " + str(marker) + "') }}"


@pytest.mark.slow
@pytest.mark.ansible
def test_values_are_never_evaluated_as_jinja_on_any_route(tmp_path: Path) -> None:
    """-e, the secret's env variable (FIFO), role vars, expect strings and a health URL."""
    root = project(tmp_path, "data")
    work = root / "work"
    free_m, token_m, page_m = (tmp_path / f"MARKER-{n}" for n in ("free", "token", "page"))
    free, token, page = _lookup(free_m), _lookup(token_m), _lookup(page_m)
    with web_server() as (port, _seen):
        res = procc(root, "run", "procedures/runner-data.yml", "-e", f"workdir={work}", "-e", f"free={free}",
                    "-e", f"web_port={port}", "-e", f"page={page}",
                    extra_env={"PROCC_RUNNER_TOKEN": token})
    out = res.stdout + res.stderr
    # No marker: nothing was evaluated, on any stage.
    assert not free_m.exists() and not token_m.exists() and not page_m.exists(), out
    # The values arrived as the same text: in a command, in a role's vars, and the secret's digest.
    assert (work / "free.txt").read_text(encoding="utf-8") == free, out
    assert (work / "role.txt").read_text(encoding="utf-8") == free, out
    assert (work / "token.sha").read_text().split()[0] == sha256(token), out
    # The health URL with the hostile page is not a valid URL: the final validation fails, literally.
    assert res.returncode == 1, out


@pytest.mark.slow
@pytest.mark.ansible
def test_secret_never_reaches_disk_command_line_or_terminal(tmp_path: Path) -> None:
    """A secret in a command, a validation's stdout and a health URL; -e given while the env variable differs."""
    root = project(tmp_path, "secret")
    work = root / "work"
    given = "Zq8-s3cr3t/&x=y~e"          # -e: the value used
    other = "Env-0ther/s3cr3t&v=w~env"   # $PROCC_RUNNER_TOKEN: a different value, unused
    with web_server() as (port, seen):
        res = procc(root, "run", "procedures/runner-secret.yml", "-e", f"workdir={work}",
                    "-e", f"web_port={port}", "-e", f"token={given}",
                    extra_env={"PROCC_RUNNER_TOKEN": other})
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    # The secret was really used: in the command and in the URL the server received.
    assert (work / "token.sha").read_text().split()[0] == sha256(given)
    assert seen == [f"/health?key={given}"]
    # -e exposes it in the process list: procc says so.
    assert "secret parameter 'token' was given with -e" in res.stderr and "process list" in res.stderr
    # Nowhere on disk (project, history, runs dir with artifacts) and not on the terminal.
    for value in (given, other):
        assert grep(value, tmp_path) == []
        assert all(f not in out for f in (value, value.replace("/", "%2F")))
    runs = list((root / ".procc" / "runs").iterdir())
    assert len(runs) == 1
    artifacts = next((runs[0] / "artifacts").iterdir())
    # No raw stdout file; the job events exist (masked), ansible-playbook's command has no secret.
    assert not (artifacts / "stdout").exists()
    assert list((artifacts / "job_events").glob("*.json"))
    command = json.loads((artifacts / "command").read_text(encoding="utf-8"))
    assert "PROCC_RUNNER_TOKEN" not in command["env"]
    assert not any("token=" in arg for arg in command["command"])


@pytest.mark.slow
@pytest.mark.ansible
def test_failing_command_that_echoes_the_secret_is_masked_not_dropped(tmp_path: Path) -> None:
    root = project(tmp_path, "fail")
    secret = "Fa1l-s3cr3t/&q=r"
    res = procc(root, "run", "procedures/runner-fail.yml", extra_env={"PROCC_RUNNER_TOKEN": secret})
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert grep(secret, tmp_path) == []
    assert secret not in out
    # The summary still names the failed step and why (the builder hides this task's output with
    # no_log; the reason then is the return code and the notice that the output was hidden).
    assert "failed step: Paso 1 (Rechazar el secreto)" in res.stdout, res.stdout
    assert "non-zero return code" in res.stdout
    # The cause is there (rc and stderr tail), with the secret masked by the command's own bash.
    assert "rc 3" in res.stdout and "token rejected: ********" in res.stdout, res.stdout


# A task that is not no_log and shows the secret three ways, then fails echoing it:
# what procc's masking must catch whatever the playbook does.
_LEAKY_PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: "url=http://h/?k={{ token | urlencode }} json={{ {'t': token} | to_json }}"
    - ansible.builtin.shell: "echo 'token rejected: {{ token }}' >&2; exit 3"
"""


@pytest.mark.slow
@pytest.mark.ansible
def test_events_are_masked_and_os_environ_and_host_keys_left_alone(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """In process: masked events (on disk and as procc sees them); ``os.environ`` unchanged; no host-key override."""
    from compiler.parse import parse_file
    from compiler.runner import RunRequest, execute

    root = project(tmp_path, "fail")
    secret = "InProc-s3cr3t/&v=w"
    monkeypatch.delenv("ANSIBLE_HOST_KEY_CHECKING", raising=False)
    monkeypatch.setenv("PROCC_RUNNER_TOKEN", secret)  # the same value as the parameter
    before = dict(os.environ)
    during: list[dict[str, str]] = []
    seen: list[dict[str, Any]] = []
    src = parse_file(root / "procedures" / "runner-fail.yml", "procedures/runner-fail.yml")
    req = RunRequest(source=src, root=root, params={"token": secret}, secret_names={"token"},
                     runs_dir=tmp_path / "runs", playbook_text=_LEAKY_PLAYBOOK)

    def on_event(event: dict[str, Any]) -> None:
        during.append(dict(os.environ))
        seen.append(json.loads(json.dumps(event)))

    res = execute(req, on_event=on_event)
    assert res.rc != 0 and during
    # Masked, not dropped: the failure says why, without the value.
    failed = [e["event_data"]["res"] for e in seen if e.get("event") == "runner_on_failed"]
    assert failed and failed[0]["stderr"] == f"token rejected: {MASK}"
    assert grep(secret, tmp_path) == []
    assert all(secret not in json.dumps(e) for e in seen)
    # os.environ: the same during the run and after it.
    assert all(snapshot == before for snapshot in during)
    assert dict(os.environ) == before
    # ansible-playbook's environment: no host-key override, no secret variable.
    command = json.loads(next((res.data_dir / "artifacts").glob("*/command")).read_text(encoding="utf-8"))
    assert "ANSIBLE_HOST_KEY_CHECKING" not in command["env"]
    assert "PROCC_RUNNER_TOKEN" not in command["env"]


def test_masker_masks_every_spelling_in_place() -> None:
    secret = "p@ss w/rd&\"x'"
    m = Masker([secret])
    event: dict[str, Any] = {
        "event_data": {
            "res": {"url": "http://h/?k=p%40ss%20w%2Frd%26%22x%27", "cmd": ["echo", secret],
                    "stdout": json.dumps({"v": secret}), "msg": "bad: " + repr(secret)},
            secret: "key too",
        },
        "stdout": "fatal: p%40ss+w%2Frd%26%22x%27 / " + "'p@ss w/rd&\"x'\"'\"''",
    }
    same = m.scrub(event)
    assert same is event
    text = json.dumps(event)
    for f in ("p@ss", "p%40ss", "w/rd", "w%2Frd"):
        assert f not in text, text
    assert event["event_data"]["res"]["msg"].startswith("bad: ")
    assert MASK in event["event_data"]["res"]["cmd"]


@pytest.mark.slow
@pytest.mark.ansible
def test_secret_typed_at_the_prompt_is_used_and_never_shown_or_stored(tmp_path: Path) -> None:
    import pexpect

    from tests.security.runner_support import PROCC, env

    root = project(tmp_path, "secret")
    work = root / "work"
    secret = "Pr0mpt-s3cr3t/&k=v"
    with web_server() as (port, seen):
        child = pexpect.spawn(PROCC, ["run", "procedures/runner-secret.yml", "--plain", "-e", f"workdir={work}",
                                      "-e", f"web_port={port}"],
                              cwd=str(root), env=env(tmp_path), encoding="utf-8", timeout=120)
        child.expect("secret parameter 'token'")
        child.sendline(secret)
        child.expect(pexpect.EOF)
        child.close()
    out = child.before or ""
    assert child.exitstatus == 0, out
    assert seen == [f"/health?key={secret}"]
    assert (work / "token.sha").read_text().split()[0] == sha256(secret)
    assert secret not in out and "given with -e" not in out
    assert grep(secret, tmp_path) == []


@pytest.mark.parametrize("value", ["no", "yes", "off", "1.10", "0x1F", "010", "~", "", "=", "<<", "2026-11-29",
                                   "1e3", ".inf", "{{ x }}", "{% raw %}", "{# c #}", "plain", "ünï “q” \\ \" '",
                                   "a\nb", "  lead and trail  ", "\U0001f600"])
def test_extra_vars_load_in_ansible_as_the_same_untrusted_text(value: str, tmp_path: Path) -> None:
    """What ansible-core's own loader makes of procc's extra vars file, read as ``-e @file`` is: same str, no template."""
    from ansible._internal._datatag._tags import TrustedAsTemplate
    from ansible.parsing.dataloader import DataLoader

    from compiler.yamlout import extravars

    path = tmp_path / "extravars"
    path.write_text(extravars({"v": value}), encoding="utf-8")
    # ansible.utils.vars.load_extra_vars reads -e @file with trusted_as_template=True.
    loaded = DataLoader().load_from_file(str(path), trusted_as_template=True)
    assert isinstance(loaded["v"], str) and loaded["v"] == value
    # Untrusted = never templated. ansible-core 2.19 cannot load "no" or "1.10" under !unsafe as a
    # string, so those (which cannot hold a template delimiter) are plain strings; every other is untrusted.
    holds_template = any(d in value for d in ("{{", "{%", "{#"))
    if holds_template or value in ("plain", "a\nb", "  lead and trail  ", "\U0001f600") or "“" in value:
        assert not TrustedAsTemplate.is_tagged_on(loaded["v"])


@pytest.mark.parametrize("hostile", ["x; touch {m}; #", "$(touch {m})", "`touch {m}`", "a\ntouch {m}\n#",
                                     "x' ; touch {m} ; '", "\\1 ; touch {m} #"])
def test_printed_rollback_commands_are_safe_to_paste(tmp_path: Path, hostile: str) -> None:
    """After a hard abort procc prints each started step's rollback command: pasting it never runs a value."""
    import subprocess

    from compiler.parse import parse_file
    from compiler.session import rollback_commands

    marker = tmp_path / "PASTED"
    value = hostile.format(m=marker)
    src = parse_file(FIXTURE_DATA, "runner-data.yml")
    [(k, cmd)] = rollback_commands(src, [1], {"workdir": value, "token": "t0ken-s3cr3t"}, {"token"})
    assert k == 1
    subprocess.run(["bash", "-c", cmd], cwd=tmp_path, capture_output=True, check=False)
    assert not marker.exists(), cmd
