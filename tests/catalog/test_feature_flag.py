"""PROC-BACKEND-009 for real: a feature flag of the edge service changed with a restart,
with outcome-aware notifications to a local webhook receiver.

The webhook URL is a secret parameter (read from PROCC_CHANGES_WEBHOOK): it
carries a token in its path, which must reach the receiver and nothing else
(no file of the project, no output). The receiver gets EXITO for a success,
SIMULACRO for a drill, ROLLBACK for a real failure that was rolled back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.catalog.cli_support import Edge, edge, last_outcome, leaks, project_with, run, state
from tests.support.webhook import receiving

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

__all__ = ["edge"]  # the fixture, used by name

PROC = "PROC-BACKEND-009"
TOKEN = "hook-Zq81xV-never-shown"


def _params(e: Edge, name: str = "checkout_v2", value: str = "true") -> dict[str, str]:
    return {"edge_dir": str(e.dir), "edge_port": str(e.port), "flag_name": name, "flag_value": value}


def _flags(e: Edge) -> dict[str, bool]:
    flags = json.loads(e.get("/flags"))["flags"]
    assert isinstance(flags, dict)
    return flags


def test_the_flag_is_served_after_the_restart_and_the_channel_hears_success(tmp_path: Path, edge: Edge) -> None:
    pid = edge.ctl("status")
    root = project_with(tmp_path, PROC)
    with receiving() as hook:
        res = run(root, PROC, _params(edge),
                  extra_env={"PROCC_CHANGES_WEBHOOK": f"http://127.0.0.1:{hook.port}/hooks/{TOKEN}"})
    assert res.returncode == 0, res.stdout + res.stderr
    assert _flags(edge) == {"checkout_v2": True, "maintenance_banner": False, "search_beta": False}
    assert "checkout_v2=true\n" in (edge.dir / "etc" / "flags.env").read_text(encoding="utf-8")
    assert edge.ctl("status") != pid  # restarted: a new process
    assert [p for p, _ in hook.posts] == [f"/hooks/{TOKEN}"]
    assert hook.texts[0].startswith("[EXITO] PROC-BACKEND-009 en localhost: flag checkout_v2=true aplicado")
    assert last_outcome(root, PROC) == "success"
    assert leaks(TOKEN, root, edge.dir, outputs=(res,)) == []


@pytest.mark.parametrize("k", [1, 2, 3])
def test_drill_at_each_step_restores_the_flags_and_notifies_a_drill(tmp_path: Path, edge: Edge, k: int) -> None:
    before, flags = state(edge.dir), _flags(edge)
    root = project_with(tmp_path, PROC)
    with receiving() as hook:
        res = run(root, PROC, _params(edge), fail_at=k,
                  extra_env={"PROCC_CHANGES_WEBHOOK": f"http://127.0.0.1:{hook.port}/hooks/{TOKEN}"})
    assert res.returncode == 0 and "DRILL PASSED" in res.stdout, res.stdout + res.stderr
    assert state(edge.dir) == before
    assert _flags(edge) == flags
    assert len(hook.texts) == 1 and hook.texts[0].startswith("[SIMULACRO] PROC-BACKEND-009"), hook.texts
    assert leaks(TOKEN, root, edge.dir, outputs=(res,)) == []


def test_a_flag_the_service_does_not_know_is_rolled_back(tmp_path: Path, edge: Edge) -> None:
    # A real failure, not a drill: a typo in the flag's name. The file takes it, the service
    # ignores it, step 3's validation (the running service reports the flag) fails.
    before, flags = state(edge.dir), _flags(edge)
    root = project_with(tmp_path, PROC)
    with receiving() as hook:
        res = run(root, PROC, _params(edge, name="chekout_v2"),
                  extra_env={"PROCC_CHANGES_WEBHOOK": f"http://127.0.0.1:{hook.port}/hooks/{TOKEN}"})
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "step 3" in out and "rolled back: 3, 2, 1" in out, out
    assert state(edge.dir) == before
    assert _flags(edge) == flags
    assert len(hook.texts) == 1 and hook.texts[0].startswith("[ROLLBACK] PROC-BACKEND-009"), hook.texts
    assert last_outcome(root, PROC) != "success"
    assert leaks(TOKEN, root, edge.dir, outputs=(res,)) == []
