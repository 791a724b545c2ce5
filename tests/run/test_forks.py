"""Forks reach Ansible: the procedure's ``forks``, or ``procc run --forks N`` over it.

ansible-runner records the ansible-playbook command line of a run in its
artifacts (``artifacts/<ident>/command``): that is what ran.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.run.helpers import procc, project

pytestmark = [pytest.mark.slow, pytest.mark.ansible]


def _command(root: Path) -> list[str]:
    files = list((root / ".procc" / "runs").glob("*/artifacts/*/command"))
    assert len(files) == 1, files
    return list(json.loads(files[0].read_text(encoding="utf-8"))["command"])


def _forks(cmd: list[str]) -> str | None:
    return cmd[cmd.index("--forks") + 1] if "--forks" in cmd else None


@pytest.mark.parametrize(("source_forks", "cli", "expected"), [
    ("", [], None), ("forks: 7\n", [], "7"), ("forks: 7\n", ["--forks", "3"], "3"),
])
def test_forks_of_the_procedure_or_the_command_line(tmp_path: Path, source_forks: str, cli: list[str],
                                                    expected: str | None) -> None:
    root = project(tmp_path, "PROC-TEST-001")
    src = next((root / "procedures").glob("*.yml"))
    text = src.read_text(encoding="utf-8")
    assert "\nhosts: all\n" in text
    src.write_text(text.replace("\nhosts: all\n", f"\nhosts: all\n{source_forks}"), encoding="utf-8")
    res = procc(root, "run", "PROC-TEST-001", "-e", f"workdir={root / 'work'}", "--plain", "--no-record", *cli)
    assert res.returncode == 0, res.stdout + res.stderr
    assert _forks(_command(root)) == expected
