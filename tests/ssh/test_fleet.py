"""procc over real SSH: the fleet fixture on 3 hosts (network namespaces + sshd).

Each host of the fixture PROC-TEST-010 writes under WORKDIR/<inventory_hostname>/
(the hosts share this machine's filesystem): ran.log gets one line per step
run, rollback.log one line per rollback run, so the order of rollbacks is
the order of the lines. That the commands really went through sshd, inside
each host's namespace, is read from what the step wrote ($SSH_CONNECTION and
``ip netns identify``), from each sshd's log and from the events' addresses.

Runs go through the real CLI (``python -m compiler run ... -i INVENTORY``) and
through ansible-runner's API (:func:`compiler.runner.execute`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compiler.parse import parse_file
from compiler.runner import RunRequest, RunResult, execute
from tests.conftest import BIN, FIXTURES, ROOT
from tests.support.sshhosts import Fleet

pytestmark = pytest.mark.slow

FLEET = FIXTURES / "procedures" / "PROC-TEST-010-fleet.yml"
STEPS = ["one", "two", "three"]


def _cli(fleet: Fleet, work: Path, *args: str, source: Path = FLEET) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "compiler", "run", str(source), "-i", str(fleet.inventory),
         "-e", f"workdir={work}", "--plain", "--no-record", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def _api(fleet: Fleet, tmp_path: Path, source: Path = FLEET, fail_at: int | None = None,
         limit: str | None = None, **params: str) -> tuple[RunResult, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    req = RunRequest(source=parse_file(source, source.name), root=ROOT,
                     params={"workdir": str(tmp_path / "work"), **params}, limit=limit,
                     inventory=str(fleet.inventory), fail_at=fail_at, runs_dir=tmp_path / "runs")
    return execute(req, on_event=events.append), events


def _work(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    return work


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def _marks(hostdir: Path) -> list[str]:
    return [s for s in STEPS if (hostdir / s).exists()]


def _log_sizes(fleet: Fleet) -> dict[str, int]:
    return {h: fleet.sshd_log(h).stat().st_size for h in fleet.hosts}


def _log_since(fleet: Fleet, host: str, size: int) -> str:
    with fleet.sshd_log(host).open(encoding="utf-8", errors="replace") as fh:
        fh.seek(size)
        return fh.read()


def _assert_completed(hostdir: Path) -> None:
    assert _lines(hostdir / "ran.log") == STEPS
    assert _marks(hostdir) == STEPS
    assert not (hostdir / "rollback.log").exists()
    assert _lines(hostdir / "post.log") == ["post"]


def _assert_ran_over_ssh(fleet: Fleet, host: str, hostdir: Path) -> None:
    """The step's shell was a child of host's sshd, inside host's namespace."""
    client, _cport, server, sport = (hostdir / "connection").read_text(encoding="utf-8").split()
    assert (client, server, sport) == (fleet.controller_address(host), fleet.address(host), "22")
    assert (hostdir / "netns").read_text(encoding="utf-8").strip() == host


def _by_host(events: list[dict[str, Any]], kind: str, task_prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ev in events:
        data = ev.get("event_data", {})
        if ev.get("event") == kind and str(data.get("task", "")).startswith(task_prefix):
            out.setdefault(str(data.get("host")), []).append(str(data.get("task")))
    return out


def test_success_on_every_host_over_ssh(ssh_fleet: Fleet, tmp_path: Path) -> None:
    work = _work(tmp_path)
    before = _log_sizes(ssh_fleet)
    proc = _cli(ssh_fleet, work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for host in ssh_fleet.hosts:
        hostdir = work / host
        _assert_completed(hostdir)
        _assert_ran_over_ssh(ssh_fleet, host, hostdir)
        # This run opened sessions on this host's sshd, from the controller's end of its veth.
        log = _log_since(ssh_fleet, host, before[host])
        assert f"Starting session: command for root from {ssh_fleet.controller_address(host)}" in log, log
        assert host in out


def test_failure_on_one_host_rolls_back_every_host(ssh_fleet: Fleet, tmp_path: Path) -> None:
    # All-or-nothing across hosts (compiler/playbook.py): procc-h2 fails at step 3 and rolls
    # back 3..1 in its rescue; the hosts that finished are rolled back by the outcome play.
    work = _work(tmp_path)
    res, events = _api(ssh_fleet, tmp_path, fail_host="procc-h2", fail_step="3")
    assert res.rc != 0 and res.status == "failed"
    assert not res.drill_passed
    assert "procc-h2: FAILED at step 3" in res.summary, res.summary
    assert "rolled back: 3, 2, 1" in res.summary, res.summary
    for host in ("procc-h1", "procc-h3"):
        assert f"{host}: ROLLED BACK because procc-h2 failed; rolled back: 3, 2, 1" in res.summary, res.summary
    for host in ssh_fleet.hosts:
        hostdir = work / host
        assert _lines(hostdir / "ran.log") == STEPS
        assert _lines(hostdir / "rollback.log") == ["three", "two", "one"]  # k..1, in that order
        assert _marks(hostdir) == []
        assert _lines(hostdir / "post.log") == ["post"]  # post-execution always runs
        _assert_ran_over_ssh(ssh_fleet, host, hostdir)
    assert {h: r["outcome"] for h, r in res.results.items()} == {
        "procc-h1": "rolled-back", "procc-h2": "rolled-back", "procc-h3": "rolled-back"}
    # Only procc-h2 failed a step.
    failed = {h: [t for t in ts if t.startswith("Paso ")] for h, ts in _by_host(events, "runner_on_failed").items()}
    assert {h for h, ts in failed.items() if ts} == {"procc-h2"}, failed
    assert failed["procc-h2"][0].startswith("Paso 3 | ")
    assert set(_by_host(events, "runner_on_ok", "Paso 1 | Rollback")) == set(ssh_fleet.hosts)


def test_drill_passes_on_every_host(ssh_fleet: Fleet, tmp_path: Path) -> None:
    work = _work(tmp_path)
    proc = _cli(ssh_fleet, work, "--fail-at", "2")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "DRILL PASSED" in out, out
    for host in ssh_fleet.hosts:
        hostdir = work / host
        assert _lines(hostdir / "ran.log") == ["one", "two"]
        assert _lines(hostdir / "rollback.log") == ["two", "one"]
        assert _marks(hostdir) == []
        assert _lines(hostdir / "post.log") == ["post"]
        _assert_ran_over_ssh(ssh_fleet, host, hostdir)


def test_rolling_failure_on_the_first_host_stops_the_rollout(ssh_fleet: Fleet, tmp_path: Path) -> None:
    work = _work(tmp_path)
    text = FLEET.read_text(encoding="utf-8")
    assert "\nhosts: all\n" in text
    rolling = tmp_path / "src" / FLEET.name
    rolling.parent.mkdir()
    rolling.write_text(text.replace("\nhosts: all\n", "\nhosts: all\nserial: 1\n"), encoding="utf-8")
    res, events = _api(ssh_fleet, tmp_path, source=rolling, fail_host="procc-h1", fail_step="2")
    assert res.rc != 0
    assert "FAILED at step 2" in res.summary and "rolled back: 2, 1" in res.summary, res.summary
    first = work / "procc-h1"
    assert _lines(first / "ran.log") == ["one", "two"]
    assert _lines(first / "rollback.log") == ["two", "one"]
    assert _marks(first) == []
    # The rollout stopped before the next hosts started: nothing ran there.
    for host in ("procc-h2", "procc-h3"):
        assert not (work / host / "ran.log").exists()
        assert not (work / host).exists()
    hosts_seen = {str(e["event_data"].get("host")) for e in events
                  if e.get("event") in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable")
                  and str(e["event_data"].get("task", "")).startswith("Paso ")}
    assert hosts_seen == {"procc-h1"}
    assert {h: r["outcome"] for h, r in res.results.items()} == {
        "procc-h1": "rolled-back", "procc-h2": "not-run", "procc-h3": "not-run"}


def test_a_drill_that_fails_for_real_on_one_host_is_not_a_passed_drill(ssh_fleet: Fleet, tmp_path: Path) -> None:
    work = _work(tmp_path)
    res, _ = _api(ssh_fleet, tmp_path, fail_at=2, limit="procc-h1:procc-h2", fail_host="procc-h2", fail_step="1")
    # On disk: h1 rehearsed 2..1; h2 failed for real at step 1 and rolled it back.
    assert _lines(work / "procc-h1" / "rollback.log") == ["two", "one"]
    assert _lines(work / "procc-h2" / "rollback.log") == ["one"]
    assert _lines(work / "procc-h2" / "ran.log") == ["one"]
    assert res.rc != 0
    # A drill that failed for real on one host is not a passed drill, and the
    # summary says which host ended how.
    assert not res.drill_passed, res.summary
    assert "procc-h1: " in res.summary and "DRILL PASSED" in res.summary, res.summary
    assert "procc-h2: " in res.summary, res.summary
    assert "FAILED at step 1" in res.summary, res.summary


# Step 2, on fail_host, kills the sshd process of its own connection: the host
# drops off mid-step (Ansible: UNREACHABLE) although its sshd still listens.
_DROP = """\
        p=$$
        while [ "$p" -gt 1 ]; do
          case "$(tr '\\0' ' ' < /proc/$p/cmdline)" in "sshd: root"*) kill -9 "$p"; sleep 5;; esac
          p=$(awk '{print $4}' /proc/$p/stat)
        done
"""


def test_a_host_lost_mid_step_is_reported_with_its_unrolled_back_steps(ssh_fleet: Fleet, tmp_path: Path) -> None:
    work = _work(tmp_path)
    text = FLEET.read_text(encoding="utf-8")
    fail2 = '[ "{{ fail_step }}" = 2 ]; then exit 1; fi\n'
    assert text.count(fail2) == 1
    dropping = tmp_path / "src" / FLEET.name
    dropping.parent.mkdir()
    dropping.write_text(text.replace(fail2, '[ "{{ fail_step }}" = 2 ]; then\n' + _DROP + "      fi\n"),
                        encoding="utf-8")
    res, events = _api(ssh_fleet, tmp_path, source=dropping, limit="procc-h1:procc-h2",
                       fail_host="procc-h2", fail_step="2")
    assert res.rc != 0
    unreachable = _by_host(events, "runner_on_unreachable")
    assert set(unreachable) == {"procc-h2"} and unreachable["procc-h2"][0].startswith("Paso 2 | "), unreachable
    # procc-h1 finished, then was rolled back because procc-h2 was lost (all-or-nothing).
    assert _lines(work / "procc-h1" / "ran.log") == STEPS
    assert _lines(work / "procc-h1" / "rollback.log") == ["three", "two", "one"]
    # Steps 1 and 2 started on procc-h2 and nothing rolled them back (it cannot be reached).
    assert _lines(work / "procc-h2" / "ran.log") == ["one", "two"]
    assert not (work / "procc-h2" / "rollback.log").exists()
    # The summary names the lost host, says its steps were not rolled back and how to do it.
    assert "procc-h2: UNREACHABLE" in res.summary, res.summary
    assert "NOT rolled back" in res.summary and "--limit procc-h2" in res.summary, res.summary
