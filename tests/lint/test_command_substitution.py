"""command-substitution-argument: which ``$(...)`` hide a failure, and that bash really hides it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from compiler.lint.rules.command_substitution_argument import hidden_substitutions
from compiler.playbook import SHELL_PREFIX


@pytest.mark.parametrize(("text", "found"), [
    ('ln -sfn "releases/$(cat f)" current', [(18, "ln")]),
    ("rm -rf `cat dirs`", [(7, "rm")]),
    ('sudo -n systemctl restart "$(cat unit)"', [(27, "systemctl")]),
    ('if [ "$(cat f)" = x ]; then\n  kill "$(cat pid)"\nfi', [(36, "kill")]),
    ('basename "$(readlink current)" > etc/previous', [(10, "basename")]),
    ('psql -c "DELETE FROM t WHERE id = $(cat id)"', [(34, "psql")]),
    ("x=$(cat f) rm -f g", [(2, "rm")]),
    ('export X="$(cat f)"', [(10, "export")]),
    ('local v="$(cat f)"', [(9, "local")]),
    ('x=$(rm "$(cat f)")', [(8, "rm")]),
    ('mkdir -p "/tmp/$(date +%F)" && cp a "b.$(date +%s)"', [(15, "mkdir"), (39, "cp")]),
])
def test_flagged(text: str, found: list[tuple[int, str]]) -> None:
    assert list(hidden_substitutions(text)) == found


@pytest.mark.parametrize("text", [
    "x=$(cat f)",
    'x=$(cat f)\nln -sfn "releases/$x" current',
    'rotated="$log.$(date -u +%F)" && mv "$log" "$rotated"',
    'echo "host: $(hostname)"',
    'echo "$(cat f)" > /dev/null',
    'test "$(curl -fsS http://x/version)" = "$(cat f)"',
    'systemctl status "$(cat unit)"',
    "psql -tAc 'SELECT count(*) FROM t' -d \"$(cat db)\"",
    "echo $(( $(find . | wc -l) - 2 ))",
    'tail -n +$((3 + 1)) f | while read -r d; do rm -rf "$d"; done',
    'ps -o pid -p "$(cat pid)" || echo no',
    "echo '$(not run)' > f",
    "diff <(sort a) <(sort b)",
    "touch f  # then $(rm x)",
    'echo "$(sort f > sorted)"',
])
def test_not_flagged(text: str) -> None:
    assert list(hidden_substitutions(text)) == []


def _bash(cmd: str, cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/bash", "-c", SHELL_PREFIX + cmd], cwd=cwd, text=True,
                          capture_output=True, timeout=30, check=False)


def test_bash_runs_the_command_whatever_the_substitution(tmp_path: Path) -> None:
    # Why the rule exists: no shell option stops this one.
    res = _bash('ln -sfn "releases/$(cat /nonexistent)" current; echo reached', str(tmp_path))
    assert res.returncode == 0 and "reached" in res.stdout


def test_the_fix_stops_on_the_failure(tmp_path: Path) -> None:
    res = _bash('previous=$(cat /nonexistent)\nln -sfn "releases/$previous" current; echo reached',
                str(tmp_path))
    assert res.returncode != 0 and "reached" not in res.stdout
