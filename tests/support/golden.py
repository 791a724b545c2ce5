"""Golden files: compare generated text with a committed file, or rewrite it under ``--update-goldens``.

One helper for every golden test (tests/core/test_golden.py, tests/run/test_kpis_golden.py).
A normal run fails with a unified diff on a mismatch; an updating run writes
only files whose content changed and records each one in the test report's
user_properties, which tests/conftest.py lists in the terminal summary (also
across pytest-xdist workers).
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

UPDATE_OPTION = "--update-goldens"
GOLDEN_KEY = "golden-updated"
REPO = Path(__file__).resolve().parents[2]


def check_golden(request: pytest.FixtureRequest, actual: str, golden: Path) -> None:
    """Fail with a diff when ``actual`` differs from ``golden``; rewrite it instead under --update-goldens."""
    expected = golden.read_text(encoding="utf-8") if golden.exists() else None
    if request.config.getoption(UPDATE_OPTION):
        if actual != expected:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(actual, encoding="utf-8")
            request.node.user_properties.append((GOLDEN_KEY, golden.relative_to(REPO).as_posix()))
        return
    if expected is None:
        pytest.fail(f"{golden} does not exist (pytest {UPDATE_OPTION} creates it)", pytrace=False)
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                            fromfile=str(golden), tofile="generated"))
        pytest.fail(f"output differs from {golden.name} (pytest {UPDATE_OPTION} to accept, then review "
                    f"git diff):\n{diff}", pytrace=False)
