"""Real runs: what ``shopt -s inherit_errexit`` stops, and what only the lint rule can catch.

Bash ignores the status of a ``$(...)`` in a command's arguments under any
option, so ``ln -sfn "x/$(cat /nonexistent)" y`` still runs (the rule
command-substitution-argument flags it). What inherit_errexit adds is set -e
inside the substitution: ``v=$(cat /nonexistent; echo fallback)`` fails
instead of assigning ``fallback``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.history import history_path, read
from tests.run.helpers import procc

pytestmark = [pytest.mark.slow, pytest.mark.ansible]

SOURCE = """\
id: PROC-TEST-020
type: maintenance
title: Fixture de command substitution
criticality: low
frequency: on-demand
estimated_minutes: 2
version: 1.0.0
updated: 2026-11-28
author: Equipo procc
reviewers: [Revisor Uno]
hosts: all
parameters:
  workdir:
    description: Directorio de trabajo del fixture
    required: true
    pattern: '^/[A-Za-z0-9_./-]+$'
purpose:
  what: Un paso cuya sustitucion de comando falla.
steps:
  - title: Usar una sustitucion que falla
    minutes: 1
    run: |
      cd {{ workdir }}
      RUN
      touch {{ workdir }}/after
    irreversible: fixture de prueba
"""


def _run(tmp_path: Path, command: str) -> tuple[int, str, Path]:
    root = tmp_path / "proj"
    (root / "procedures").mkdir(parents=True)
    (root / "work").mkdir()
    src = SOURCE.replace("RUN", command)
    (root / "procedures" / "PROC-TEST-020-subst.yml").write_text(src, encoding="utf-8")
    res = procc(root, "run", "PROC-TEST-020", "-e", f"workdir={root / 'work'}")
    runs, problems = read(history_path(root, "PROC-TEST-020"))
    assert problems == [] and len(runs) == 1
    return res.returncode, runs[0].outcome, root


def test_a_failure_inside_an_assigned_substitution_stops_the_step(tmp_path: Path) -> None:
    rc, outcome, root = _run(tmp_path, 'v=$(cat /nonexistent; echo fallback)\n      echo "$v" > got')
    work = root / "work"
    assert rc == 1 and outcome != "success"
    assert not (work / "got").exists() and not (work / "after").exists()


def test_a_substitution_in_an_argument_still_runs_and_lint_flags_it(tmp_path: Path) -> None:
    rc, outcome, root = _run(tmp_path, 'ln -sfn "x/$(cat /nonexistent)" y')
    work = root / "work"
    # No shell option stops this: the link points at "x/" and the run succeeds...
    assert rc == 0 and outcome == "success"
    assert (work / "y").is_symlink() and os.readlink(work / "y") == "x/"
    # ...which is why the rule exists.
    lint = procc(root, "lint", "procedures/PROC-TEST-020-subst.yml")
    assert lint.returncode == 1 and "[command-substitution-argument]" in lint.stdout, lint.stdout


def test_the_fix_stops_before_the_link(tmp_path: Path) -> None:
    rc, outcome, root = _run(tmp_path, 'target=$(cat /nonexistent)\n      ln -sfn "x/$target" y')
    work = root / "work"
    assert rc == 1 and outcome != "success"
    assert not (work / "y").is_symlink()
    lint = procc(root, "lint", "procedures/PROC-TEST-020-subst.yml")
    assert "[command-substitution-argument]" not in lint.stdout, lint.stdout
