"""Real runs of the 4-step fixture through ansible-runner on localhost.

What is asserted is observed on disk: each step appends to ran.log and each
rollback appends to rollback.log, so the order in which rollbacks ran is the
order of the lines, not what the events claim.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.parse import parse_file
from compiler.runner import RunRequest, RunResult, execute
from tests.conftest import FOUR_STEPS, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.ansible]


def _run(tmp_path: Path, fail_at: int | None = None, source: Path = FOUR_STEPS, **params: str) -> RunResult:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    src = parse_file(source, source.name)
    values = {"workdir": str(work), **params}
    req = RunRequest(source=src, root=ROOT, params=values, fail_at=fail_at,
                     runs_dir=tmp_path / "runs")
    return execute(req)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def _marks(work: Path) -> list[str]:
    return sorted(p.name for p in work.iterdir() if p.name in {"one", "two", "three", "four"})


def test_success(tmp_path: Path) -> None:
    res = _run(tmp_path)
    work = tmp_path / "work"
    assert res.rc == 0 and res.status == "successful"
    assert _marks(work) == ["four", "one", "three", "two"]
    assert _lines(work / "rollback.log") == []
    assert _lines(work / "post.log") == ["post"]


NAMES = ["one", "two", "three", "four"]


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_drill_rolls_back_k_to_1_in_order(tmp_path: Path, k: int) -> None:
    res = _run(tmp_path, fail_at=k)
    work = tmp_path / "work"
    assert res.rc == 0, res.summary
    assert res.drill_passed
    assert "DRILL PASSED" in res.summary
    assert _lines(work / "rollback.log") == list(reversed(NAMES[:k]))
    assert _marks(work) == []  # every started step undone
    assert _lines(work / "post.log") == ["post"]


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_real_failure_rolls_back_and_fails_with_summary(tmp_path: Path, k: int) -> None:
    params = {"three_dir": "missing"} if k == 3 else {"fail_step": str(k)}
    res = _run(tmp_path, **params)
    work = tmp_path / "work"
    assert res.rc != 0
    assert not res.drill_passed
    assert f"FAILED at step {k}" in res.summary
    assert _lines(work / "rollback.log") == list(reversed(NAMES[:k]))
    assert f"rolled back: {', '.join(str(i) for i in range(k, 0, -1))}" in res.summary
    assert _marks(work) == []
    assert _lines(work / "post.log") == ["post"]


def test_a_failing_rollback_does_not_stop_the_others(tmp_path: Path) -> None:
    res = _run(tmp_path, fail_step="4", fail_rollback="2")
    work = tmp_path / "work"
    assert res.rc != 0
    assert _lines(work / "rollback.log") == ["four", "three", "two", "one"]
    assert "ROLLBACK FAILED for: 2" in res.summary
    assert "rolled back: 4, 3, 1" in res.summary


def test_a_drill_with_a_failing_rollback_does_not_pass(tmp_path: Path) -> None:
    res = _run(tmp_path, fail_at=3, fail_rollback="1")
    assert res.rc != 0 and not res.drill_passed
    assert "DRILL FAILED at step 3" in res.summary and "ROLLBACK FAILED for: 1" in res.summary


def test_failing_preflight_runs_no_step(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "preflight-fail").touch()
    res = _run(tmp_path)
    assert res.rc != 0
    assert "FAILED in pre-flight" in res.summary and "no step was run" in res.summary
    assert _lines(work / "ran.log") == []
    assert _lines(work / "rollback.log") == []


def test_failing_final_validation_runs_the_full_rollback(tmp_path: Path) -> None:
    res = _run(tmp_path, final_ok="no")
    work = tmp_path / "work"
    assert res.rc != 0
    assert "FAILED in final validation" in res.summary
    assert _lines(work / "rollback.log") == ["full"]
    assert _marks(work) == []


HOSTILE = """\
id: PROC-TEST-066
type: maintenance
title: "Hostil {{{{ lookup('pipe','touch {pwned}') }}}}"
criticality: low
frequency: on-demand
estimated_minutes: 1
version: 1.0.0
updated: 2026-11-28
author: "{{{{ lookup('pipe','touch {pwned}') }}}}"
purpose: {{what: "{{% for x in range(3) %}}{{{{ lookup('pipe','touch {pwned}') }}}}{{% endfor %}}"}}
parameters:
  workdir: {{description: dir, required: true}}
steps:
  - title: "Paso {{{{ lookup('pipe','touch {pwned}') }}}}"
    minutes: 1
    expected: "{{{{ lookup('pipe','touch {pwned}') }}}}"
    if_fails: ["{{{{ lookup('pipe','touch {pwned}') }}}}"]
    run: echo "{{{{.State}}}}" > {{{{ workdir }}}}/out.txt
"""


@pytest.mark.parametrize("where", ["tmp", "literal"])
def test_hostile_text_is_printed_never_run(tmp_path: Path, where: str) -> None:
    # "literal" is the exact title of the issue: {{ lookup('pipe','touch /tmp/pwned') }}
    pwned = Path("/tmp/pwned") if where == "literal" else tmp_path / "pwned"
    pwned.unlink(missing_ok=True)
    source = tmp_path / "PROC-TEST-066-hostile.yml"
    source.write_text(HOSTILE.format(pwned=pwned), encoding="utf-8")
    res = _run(tmp_path, source=source)
    assert res.rc == 0, res.summary
    assert not pwned.exists()
    # Non-parameter Jinja in a command reaches the shell literally.
    assert (tmp_path / "work" / "out.txt").read_text(encoding="utf-8") == "{{.State}}\n"


def test_two_procedures_in_one_ansible_playbook_do_not_share_bookkeeping(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Facts outlive their play: the second play must start from a clean run state."""
    import os
    import sys

    import ansible_runner

    from compiler import playbook

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    work = tmp_path / "work"
    work.mkdir()
    project = tmp_path / "data" / "project"
    project.mkdir(parents=True)
    text = playbook.render(parse_file(FOUR_STEPS).procedure, "es", source=FOUR_STEPS.name)
    (project / "four.yml").write_text(text, encoding="utf-8")
    (project / "site.yml").write_text(
        "---\n"
        "- name: Normal run\n  ansible.builtin.import_playbook: four.yml\n"
        "- name: Drill at step 2\n  ansible.builtin.import_playbook: four.yml\n  vars:\n    procc_fail_at: 2\n",
        encoding="utf-8")
    runner = ansible_runner.run(
        private_data_dir=str(tmp_path / "data"), playbook="site.yml", quiet=True,
        inventory=f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}",
        extravars={"workdir": str(work), "procc_hosts": "all"},
    )
    assert runner.rc == 0
    assert _lines(work / "ran.log") == ["one", "two", "four", "one", "two"]
    # Only the drill's started steps were rolled back, 2 then 1: nothing of the first play.
    assert _lines(work / "rollback.log") == ["two", "one"]
