"""The runbook's "Metricas y KPIs" figures, computed from the run history.

Depends only on the procedure and its committed history file, never on the
clock, so ``procc check`` stays deterministic. Drills are counted apart from
real runs: they prove the rollbacks, not the procedure.

Every value read from the history (executor, approver, environment, version,
outcome ...) is text someone typed or a file anyone can edit: it reaches the
runbook only through :mod:`compiler.markdown`'s escaping.
"""

from __future__ import annotations

from pathlib import Path

from compiler import markdown as md
from compiler.history.store import HistoryProblem, Run, history_path, read
from compiler.i18n import Lang, kpi_words
from compiler.parse import Source
from compiler.runbook import Kpis

RATE_WINDOW = 20  # "Tasa de Exito" is over the last N real runs
TABLE_ROWS = 10  # latest runs shown in each history table


def _text(value: object) -> str:
    """A history value as escaped Markdown text on one line (never at a line start)."""
    return md.cell(str(value))


def _mins(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds / 60:.1f}min"


def _num(value: float) -> str:
    return f"{value:.1f}"


def _is_check(run: Run) -> bool:
    """A ``--check`` run: listed in the history table, never counted."""
    return bool(run.get("check"))


def _outcome(w: dict[str, str], run: Run) -> str:
    key = run.outcome if run.finished else "unfinished_o"
    if _is_check(run) and run.finished:
        key = "check" if run.outcome == "check" else key
    return w[key] if key in w else _text(run.outcome.upper())


def _date(run: Run) -> str:
    return _text(str(run.get("start", ""))[:16].replace("T", " "))


def _row(w: dict[str, str], run: Run) -> list[str]:
    """One table row; every value from the history is escaped (pipes included)."""
    notes: list[str] = [_outcome(w, run)]
    if run.drill:
        notes.insert(0, f"{w['drill']} (procc_fail_at={_text(run.get('fail_at'))})")
    env = run.get("environment")
    if env:
        notes.append(_text(env))
    notes.append(f"v{_text(run.get('version', '?'))}")
    if run.get("failed_step"):
        notes.append(w["failed_at"].format(k=_text(run.get("failed_step"))))
    rbs = run.get("rollbacks") or []
    if rbs:
        notes.append(w["rolled_back"].format(x=", ".join(_text(x) for x in rbs)))
    if run.get("approved_by"):
        notes.append(w["approved"].format(x=_text(run.get("approved_by"))))
    if run.get("forced"):
        notes.append(w["forced"])
    if _is_check(run):
        notes.append(w["check_note"])
        ok = "-"
    else:
        ok = w["yes"] if run.succeeded else w["no"]
    return [_date(run), _text(run.get("executor", "?")), _mins(run.duration), ok, "; ".join(notes)]


def kpis_from_runs(runs: list[Run], source: Source, lang: Lang = "es") -> Kpis:
    """The runbook figures for ``runs`` (oldest first)."""
    w = kpi_words(lang)
    # A run that matched no host ran nothing: it counts nowhere.
    runs = [r for r in runs if r.outcome != "no-hosts"]
    real = [r for r in runs if not r.drill and not _is_check(r) and not r.get("rollback_of")]
    drills = [r for r in runs if r.drill and not _is_check(r)]
    # The history table lists check runs among the real ones; no figure counts them.
    listed = [r for r in runs if not r.drill and not r.get("rollback_of")]
    # procc rollback runs: counted as rollbacks executed, never as runs (no totals, no success rate).
    rollback_runs = [r for r in runs if r.get("rollback_of") and not r.drill and not _is_check(r)]
    if not listed and not drills and not rollback_runs:
        return Kpis()
    last_run = None
    if real:
        r = real[-1]
        last_run = w["last"].format(date=_date(r), outcome=_outcome(w, r),
                                    who=_text(r.get("executor", "?")), dur=_mins(r.duration))
    window = real[-RATE_WINDOW:]
    rate = None
    if window:
        ok = sum(1 for r in window if r.succeeded)
        rate = w["rate" if len(window) > 1 else "rate_one"].format(p=round(100 * ok / len(window)), n=len(window))
    history_rows = [_row(w, r) for r in reversed(listed[-TABLE_ROWS:])]
    drill_rows = [_row(w, r) for r in reversed(drills[-TABLE_ROWS:])]
    stats: list[tuple[str, str]] = []
    if real:
        durs = [r.duration for r in real if r.finished and r.duration is not None]
        ok_all = sum(1 for r in real if r.succeeded)
        stats.append((w["total"], str(len(real))))
        stats.append((w["rate_label"], f"{round(100 * ok_all / len(real))}%"))
        if durs:
            stats.append((w["avg"], f"{_num(sum(durs) / len(durs) / 60)} {w['minutes']}"))
            stats.append((w["min"], f"{_num(min(durs) / 60)} {w['minutes']}"))
            stats.append((w["max"], f"{_num(max(durs) / 60)} {w['minutes']}"))
    if real or rollback_runs:
        # Runs in which rollbacks ran (a failed step and its predecessors
        # undone), plus the rollback runs (procc rollback), said apart.
        rollbacks = sum(1 for r in real if r.get("rollbacks"))
        shown = str(rollbacks + len(rollback_runs))
        if rollback_runs:
            shown += " " + w["rollback_runs"].format(n=len(rollback_runs))
        stats.append((w["rollbacks"], shown))
    if real:
        unfinished = sum(1 for r in real if not r.finished)
        if unfinished:
            stats.append((w["unfinished"], str(unfinished)))
    if drills:
        passed = sum(1 for r in drills if r.succeeded)
        stats.append((w["drills"], f"{len(drills)} ({passed} {w['yes']})"))
    step_times, header = _step_times(w, real, source)
    return Kpis(last_run=last_run, success_rate=rate, history_rows=history_rows,
                drill_rows=drill_rows, stats=stats, step_times=step_times, tested=_tested(w, real, drills),
                step_time_header=header)


def _tested(w: dict[str, str], real: list[Run], drills: list[Run]) -> list[str]:
    """Where the procedure was proven: per environment, its last successful run or passed drill ("Testeado en")."""
    seen: dict[str, list[Run]] = {}
    for r in [*real, *drills]:
        if r.succeeded:
            seen.setdefault(str(r.get("environment") or "local"), []).append(r)
    out = []
    for env, runs in sorted(seen.items()):
        last = max(str(r.get("start", ""))[:10] for r in runs)
        n_real = sum(1 for r in runs if not r.drill)
        n_drill = len(runs) - n_real
        counts = [w["tested_runs" if n_real > 1 else "tested_run"].format(n=n_real)] if n_real else []
        counts += [w["tested_drills" if n_drill > 1 else "tested_drill"].format(n=n_drill)] if n_drill else []
        out.append(f"{_text(env)} - {_text(last)} ({', '.join(counts)})")
    return out


def _step_times(w: dict[str, str], real: list[Run], source: Source,
                ) -> tuple[list[list[str]], list[str]]:
    """Real (average over completed steps of runs of this version) against estimate."""
    proc = source.procedure
    same = [r for r in real if r.get("version") == proc.version]
    rows: list[list[str]] = []
    for k, step in enumerate(proc.steps, 1):
        samples: list[float] = []
        for r in same:
            for s in r.get("steps") or []:
                if isinstance(s, dict) and s.get("step") == k and s.get("status") == "ok" \
                        and isinstance(s.get("duration"), int | float):
                    samples.append(float(s["duration"]) / 60)
        if samples:
            avg = sum(samples) / len(samples)
            dev = f"{(avg - step.minutes):+.1f} min"
            rows.append([f"{w['step']} {k}", _num(step.minutes), _num(avg), dev, str(len(samples))])
        else:
            rows.append([f"{w['step']} {k}", _num(step.minutes), "-", "-", "0"])
    if not any(row[4] != "0" for row in rows):
        return [], []
    return rows, [w["step"], w["estimated"], w["real"], w["deviation"], w["samples"]]


def kpis_and_problems(source: Source, root: Path, lang: Lang) -> tuple[Kpis, list[HistoryProblem]]:
    """The runbook figures of ``source`` and the history lines that were skipped."""
    path = history_path(root, source.procedure.id)
    try:
        name = path.relative_to(root).as_posix()
    except ValueError:  # pragma: no cover - history_path is always under root
        name = str(path)
    runs, problems = read(path, name)
    return kpis_from_runs(runs, source, lang), problems


def kpis_for(source: Source, root: Path, lang: Lang) -> Kpis:
    """The runbook figures of ``source`` from its committed history (KpisProvider)."""
    return kpis_and_problems(source, root, lang)[0]
