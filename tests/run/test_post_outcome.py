"""Outcome-aware post-execution (issue 13, item 2): real runs on a two-host fleet in batches of one.

PROC-TEST-040 runs two steps per host with ``serial: 1`` (h1, then h2, both
local). Its post actions: one always (appends ``{{ procc_outcome }}`` to
outcome-<host>.log), one only on success (a clean-up), a notification on
success and one on failure or drill, posted through the ``notify`` role to a
real local webhook receiver. Post-execution runs once the fleet has decided:
when h2 fails after h1's batch succeeded, h1 is rolled back by the fleet and
its post actions see 'rolled-back', never 'success'.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.run.helpers import procc, project
from tests.support.webhook import Receiver, receiving

pytestmark = [pytest.mark.slow, pytest.mark.ansible]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def _run(tmp_path: Path, receiver: Receiver, *args: str, broken_preflight: bool = False) -> tuple[Path, str]:
    token = f"HOOK-{uuid.uuid4().hex}"
    url = f"http://127.0.0.1:{receiver.port}/hooks/{token}"
    root = project(tmp_path, "PROC-TEST-040")
    work = root / "work"
    if broken_preflight:
        (work / "preflight-fails").touch()
    inv = root / "hosts.ini"
    inv.write_text("".join(f"{h} ansible_connection=local ansible_python_interpreter={sys.executable}\n"
                           for h in ("h1", "h2")), encoding="utf-8")
    done = procc(root, "run", "PROC-TEST-040", "-i", str(inv), "-e", f"workdir={work}", *args,
                 extra_env={"PROCC_TEST_WEBHOOK": url,
                            # The procc.ops collection (the notify role), as installed by a user.
                            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections")}, timeout=300)
    output = done.stdout + done.stderr
    # The webhook URL is a secret: nowhere in what the run wrote or printed.
    assert token not in output
    for f in root.rglob("*"):
        if f.is_file():
            assert token not in f.read_text(encoding="utf-8", errors="replace"), f
    return work, output


def _outcomes(work: Path, host: str) -> list[str]:
    log = work / f"outcome-{host}.log"
    return log.read_text(encoding="utf-8").split() if log.exists() else []


def test_success_runs_the_success_actions_and_announces_success(tmp_path: Path, receiver: Receiver) -> None:
    work, out = _run(tmp_path, receiver)
    assert _outcomes(work, "h1") == ["success"] and _outcomes(work, "h2") == ["success"], out
    # The success-only clean-up ran on both hosts.
    assert not (work / "h1" / "one").exists() and not (work / "h2" / "one").exists()
    assert (work / "h1" / "two").exists()
    assert sorted(receiver.texts) == ["[EXITO] PROC-TEST-040 en h1", "[EXITO] PROC-TEST-040 en h2"]


def test_a_later_batch_failing_makes_the_earlier_hosts_post_as_rolled_back(tmp_path: Path,
                                                                          receiver: Receiver) -> None:
    # h1's batch succeeds; h2 fails at step 2; the fleet rolls h1 back. Post runs
    # after that decision: no host announces success, both announce the rollback.
    work, out = _run(tmp_path, receiver, "-e", "fail_host=h2")
    assert "paso 2 roto en este host" in out
    assert _outcomes(work, "h1") == ["rolled-back"] and _outcomes(work, "h2") == ["rolled-back"], out
    assert not any("EXITO" in t for t in receiver.texts), receiver.texts
    assert sorted(receiver.texts) == ["[ROLLBACK] PROC-TEST-040 en h1: resultado rolled-back",
                                      "[ROLLBACK] PROC-TEST-040 en h2: resultado rolled-back"]
    assert sorted(p.name for p in (work / "h1").iterdir()) == []


def test_a_drill_posts_as_a_drill(tmp_path: Path, receiver: Receiver) -> None:
    # A drill rehearses the rollback on every batch: each host posts a drill, never a failure.
    work, out = _run(tmp_path, receiver, "--fail-at", "2")
    assert "DRILL PASSED" in out
    assert _outcomes(work, "h1") == ["drill"] and _outcomes(work, "h2") == ["drill"], out
    assert sorted(receiver.texts) == ["[SIMULACRO] PROC-TEST-040 en h1: resultado drill",
                                      "[SIMULACRO] PROC-TEST-040 en h2: resultado drill"]


def test_a_preflight_failure_posts_as_failed(tmp_path: Path, receiver: Receiver) -> None:
    work, out = _run(tmp_path, receiver, broken_preflight=True)
    assert _outcomes(work, "h1") == ["failed"] and _outcomes(work, "h2") == [], out
    assert receiver.texts == ["[FALLO] PROC-TEST-040 en h1: resultado failed"]
