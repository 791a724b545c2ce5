"""The benchmark harness's own logic: samples of real subprocesses, catalogs, task counts, the report.

No figure's time is asserted anywhere (issue 14): these check that the
harness measures what it says (a child's memory and CPU, not this
process's), that its generated catalog is valid and lint-clean, and that
RESULTS.md says met / NOT MET / FAILED from the numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks import catalog, figures, report
from benchmarks.measure import Cmd, CommandFailed, Sample, run
from compiler.lint.engine import lint_files
from compiler.parse import parse_file

PY = sys.executable


def _cmd(code: str, tmp: Path, **kw: object) -> Cmd:
    return Cmd("py", [PY, "-c", code], tmp, {"PATH": "/usr/bin:/bin"}, **kw)  # type: ignore[arg-type]


def test_sample_is_the_childs_own_memory_and_cpu(tmp_path: Path) -> None:
    # This process holds 150 MiB while it starts the children: Linux carries a
    # process's peak RSS across fork and exec, so a child forked from here
    # directly would be measured at 150 MiB or more whatever it does.
    held = bytearray(150 * 1024 * 1024)
    held[::4096] = b"x" * len(held[::4096])
    big = _cmd("b = bytearray(120 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])", tmp_path)
    small = _cmd("pass", tmp_path)
    s_big, s_small = run(big, tmp_path / "log"), run(small, tmp_path / "log")
    assert s_big.rss_mib > 110 > s_small.rss_mib  # per child: the big one does not leak into the next
    del held
    busy = run(_cmd("import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass", tmp_path),
               tmp_path / "log")
    assert busy.cpu >= 0.3 and busy.rc == 0
    assert [len(c.samples) for c in (big, small)] == [1, 1]


def test_failed_command_raises_with_its_output_and_records_no_sample(tmp_path: Path) -> None:
    calls: list[int] = []
    bad = _cmd("import sys; print('boom here'); sys.exit(3)", tmp_path, prepare=lambda: calls.append(1))
    with pytest.raises(CommandFailed, match=r"exit 3(.|\n)*boom here"):
        run(bad, tmp_path / "log")
    assert bad.samples == [] and calls == [1]


def test_generated_catalog_is_valid_distinct_and_lint_clean(tmp_path: Path) -> None:
    root = catalog.write(tmp_path, 4, 7)
    files = sorted((root / "procedures").glob("*.yml"))
    procs = [parse_file(f).procedure for f in files]
    assert len({p.id for p in procs}) == 4
    assert all(len(p.steps) == 7 for p in procs)
    result = lint_files([(f, f.name) for f in files])
    assert result.findings == [], result.findings
    # Ids beyond 999 stay valid (the 1000-procedure memory catalog starts at 100).
    assert parse_file(catalog.write(tmp_path / "more", 1, 1, first=1099) / "procedures"
                      / "PROC-BENCH1-099-generated.yml").procedure.id == "PROC-BENCH1-099"


def test_task_counts() -> None:
    recap = ("localhost : ok=20   changed=10   unreachable=0    failed=1    skipped=3    rescued=0\n"
             "other     : ok=2    changed=0    unreachable=0    failed=0    skipped=0    rescued=0\n")
    assert figures.tasks_run(recap) == 26
    assert figures.tasks_run("no recap") is None
    # The hand-written reference: 3 pre-flight, 10 steps x (command + validation), final, 11 rescue, fail.
    assert figures.tasks_defined(figures.REF_PLAYBOOK) == 3 + 20 + 1 + 11 + 1


def _unit(*samples: tuple[float, float], error: str | None = None) -> tuple[figures.Unit, list[Cmd]]:
    cmds = []
    for wall, rss in samples:
        c = Cmd(f"c{len(cmds)}", ["true"], Path("."), {})
        c.samples.append(Sample(wall, wall, rss, 0))
        cmds.append(c)
    return figures.Unit("g", cmds, error=error), cmds


def test_ratio_pairs_samples_of_the_same_repetitions() -> None:
    a, b = Cmd("a", ["true"], Path("."), {}), Cmd("b", ["true"], Path("."), {})
    a.samples += [Sample(10.0, 1, 1, 0, rep=0), Sample(1.0, 1, 1, 0, rep=1), Sample(1.0, 1, 1, 0, rep=2)]
    b.samples += [Sample(5.0, 1, 1, 0, rep=0)]  # b stopped after one repetition; a (shared) went on
    assert figures.ratio(b, a) == 0.5
    assert figures.median(a) == 1.0


def test_rows_and_report_say_met_not_met_and_failed() -> None:
    ok, (a, b) = _unit((2.0, 50.0), (0.5, 60.0))
    bad, _ = _unit(error="c0: exit 1: procc lint")
    rows = [
        figures.guarded("ratio fig", "<= 0.4x", "0.52x", [ok], lambda: figures.Row(
            "ratio fig", "a", "b", f"{figures.median(b) / figures.median(a):.2f}x", "<= 0.4x",
            figures.verdict(figures.median(b) / figures.median(a), 0.4), "0.52x"))(),
        figures.guarded("`procc check` of x", "<= 1 s", "38 s", [ok], lambda: figures.Row(
            "`procc check` of x", "goal", "2 s", "2 s", "<= 1 s", figures.verdict(figures.median(a), 1.0), "38 s"))(),
        figures.guarded("broken | fig", "<= 2 s", "7.7 s", [bad], lambda: pytest.fail("never built"))(),
    ]
    assert [r.met for r in rows] == ["met", "NOT MET", "FAILED"]
    assert figures.verdict(0.25, 0.4) == "met"
    text = report.render(rows, command="python -m benchmarks all", repeat=5, sizes="tiny",
                         load_before=(1.0, 1.0, 1.0), seconds=60)
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 3
    assert "| 0.25x | <= 0.4x | met |" in table[1]
    assert "| 2 s | <= 1 s | **NOT MET** |" in table[2]
    assert "broken \\| fig" in table[3] and "**FAILED**" in table[3]
    assert "c0: exit 1: procc lint" in text
    # A goal not met says what would meet it.
    assert "what would meet it (issue 14's profile): a cache keyed on every input" in text
    for fact in ("cores: ", "Python ", "ansible-core ", "commit "):
        assert fact in text
