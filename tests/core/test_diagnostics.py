"""Malformed and hostile sources: every problem with its path:line:col, never a traceback.

Each file in tests/fixtures/bad/ starts with ``# expect: LINE:COL code``: the
first diagnostic procc prints for it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT

BAD = sorted((FIXTURES / "bad").glob("*.yml"))
LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+) \[(?P<code>[a-z-]+)\]$")


def test_there_are_at_least_twenty_bad_sources() -> None:
    assert len(BAD) >= 20


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_source_is_reported_with_its_position(path: Path, procc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    expect = path.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    m = re.match(r"# expect: (\d+):(\d+) ([a-z-]+)$", expect)
    assert m, f"{path.name}: first line must be '# expect: LINE:COL code'"
    rel = path.relative_to(ROOT).as_posix()
    res = procc("compile", rel, "--docs-dir", str(tmp_path), "--playbooks-dir", str(tmp_path))
    assert res.code == 1
    assert "Traceback" not in res.err and "internal error" not in res.err
    lines = [l for l in res.err.splitlines() if l.startswith(rel)]
    assert lines, res.err
    first = LINE.match(lines[0])
    assert first, lines[0]
    assert (first["line"], first["col"], first["code"]) == (m[1], m[2], m[3]), lines[0]
    assert not list(tmp_path.iterdir()), "nothing is written for a bad source"


def test_all_problems_of_a_file_in_one_pass(procc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "many.yml"
    src.write_text(
        "id: bad\ntype: deploy\ntitle: x\ncriticality: high\nfrequency: on-demand\n"
        "estimated_minutes: 5\nversion: 1.0\nupdated: 2026-11-01\nauthor: a\npurpose: {what: x}\n"
        "stepz: []\nsteps:\n  - title: a\n    minutes: 1\n    run: echo {{ nope }}\n", encoding="utf-8")
    res = procc("compile", str(src), "--docs-dir", str(tmp_path), "--playbooks-dir", str(tmp_path))
    codes = [LINE.match(l)["code"] for l in res.err.splitlines() if LINE.match(l)]  # type: ignore[index]
    assert codes == ["invalid-value", "invalid-choice", "wrong-type", "unknown-key", "undeclared-parameter"]


@pytest.mark.slow  # many child processes (bash or procc): not in the unit layer's minute
def test_subprocess_never_prints_a_traceback(tmp_path: Path) -> None:
    for path in BAD[:5]:
        proc = subprocess.run([sys.executable, "-m", "compiler", "compile", str(path),
                               "--docs-dir", str(tmp_path), "--playbooks-dir", str(tmp_path)],
                              capture_output=True, text=True, cwd=ROOT, check=False)
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        assert re.search(r":\d+:\d+: error: .+ \[[a-z-]+\]", proc.stderr)


def test_missing_file_is_a_usage_error(procc) -> None:  # type: ignore[no-untyped-def]
    res = procc("compile", "procedures/does-not-exist.yml")
    assert res.code == 2 and "no procedure file or id" in res.err
