"""What the first Ctrl-C says: a run stops its step and rolls back; a rollback run goes on."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from compiler.session import Interrupts


def _first_notice(tmp_path: Path, first: str) -> list[str]:
    said: list[str] = []
    with Interrupts(tmp_path / "cancel", said.append, first) as irq:
        os.kill(os.getpid(), signal.SIGINT)
        assert irq.count == 1 and not irq.abort
    assert (tmp_path / "cancel").read_text(encoding="utf-8") == "stop\n"
    return said


def test_a_run_says_it_stops_and_rolls_back(tmp_path: Path) -> None:
    assert _first_notice(tmp_path, Interrupts.STOPPING) == [Interrupts.STOPPING]
    assert "rolled back" in Interrupts.STOPPING


def test_a_rollback_run_says_it_goes_on(tmp_path: Path) -> None:
    (said,) = _first_notice(tmp_path, Interrupts.ROLLING_BACK)
    assert "not stopped half-way" in said and "rolled back" not in said
