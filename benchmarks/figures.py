"""Issue 14's table as code: every figure, its anchor, its goal, and the commands that measure it.

A *unit* is what is measured together: one command (an absolute figure) or
an anchor and a subject (a ratio), run alternately, each sample in a fresh
subprocess. :func:`plan` builds the units of the chosen groups in a
temporary directory (catalogs generated, reference compiled: untimed);
:func:`measure` runs them interleaved, repetition by repetition, so a
change of load on the shared machine hits every figure alike; a figure
then reads the medians of its units' samples.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import catalog, reasons
from benchmarks.measure import Cmd, CommandFailed, run

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "benchmarks" / "reference"
REF_SOURCE = REFERENCE / "PROC-BENCH-010-reference-deploy.yml"
REF_PLAYBOOK = REFERENCE / "reference-deploy.yml"
BIN = Path(sys.executable).parent
PROCC = str(BIN / "procc")
ANSIBLE_PLAYBOOK = str(BIN / "ansible-playbook")

# The subcommands of ``python -m benchmarks``, in the order ``all`` measures them.
GROUPS = ("compile", "check", "lint", "lean", "run", "big", "fast")

# The anchor cell of a figure measured against its goal alone (no anchor command).
ABSOLUTE = "none (absolute)"

# Peak memory is "flat in the catalog size" when 5x the procedures costs at most this much more.
FLAT = 1.25


@dataclass(frozen=True)
class Sizes:
    """How big the generated inputs are: the issue's sizes, or the smoke run's."""

    procedures: int = 200
    steps: int = 30
    memory_procedures: int = 1000
    big_steps: int = 3000


FULL = Sizes()
SMOKE = Sizes(procedures=5, steps=3, memory_procedures=10, big_steps=30)


@dataclass
class Unit:
    """Commands measured together, alternately (anchor first on even repetitions)."""

    group: str
    cmds: list[Cmd]
    spent: float = 0.0
    error: str | None = None


@dataclass
class Row:
    """One line of the results table."""

    figure: str
    anchor: str
    measured: str
    result: str
    goal: str
    met: str  # "met", "NOT MET", "informational", "FAILED"
    now: str  # issue 14's "now" cell
    details: list[str] = field(default_factory=list)
    # Where the time or memory goes, measured by this run (phases, floors, task counts), and
    # what would meet the goal, derived from those numbers: printed beside a verdict that is not met.
    reasons: list[str] = field(default_factory=list)
    meet: str = ""


@dataclass
class Probe:
    """A breakdown taken once after the timed samples: ``python -m benchmarks.phases MODE DIR``'s JSON."""

    mode: str
    project: Path
    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class Figure:
    """A figure of the table: which units it reads and how it turns their samples into a row."""

    group: str
    units: list[Unit]
    row: Callable[[], Row]


def median(cmd: Cmd, metric: str = "wall", reps: set[int] | None = None) -> float:
    """The median of ``metric`` (wall, cpu, rss_mib) over ``cmd``'s samples (of repetitions ``reps``)."""
    return float(statistics.median(float(getattr(s, metric)) for s in cmd.samples
                                   if reps is None or s.rep in reps))


def ratio(subject: Cmd, anchor: Cmd, metric: str = "wall") -> float:
    """subject / anchor, medians over the repetitions both were sampled in (a shared command may have more)."""
    both = {s.rep for s in subject.samples} & {s.rep for s in anchor.samples}
    return median(subject, metric, both) / median(anchor, metric, both)


def samples_line(cmd: Cmd) -> str:
    """The raw samples of ``cmd``, for the details."""
    walls = ", ".join(f"{s.wall:.2f}" for s in cmd.samples)
    cpus = ", ".join(f"{s.cpu:.2f}" for s in cmd.samples)
    rss = ", ".join(f"{s.rss_mib:.0f}" for s in cmd.samples)
    return f"`{cmd.label}` (n={len(cmd.samples)}): wall s [{walls}]; CPU s [{cpus}]; peak RSS MiB [{rss}]"


def verdict(value: float, limit: float) -> str:
    return "met" if value <= limit else "NOT MET"


def _failed(units: list[Unit]) -> str | None:
    errors = [u.error for u in units if u.error]
    if errors:
        return errors[0]
    if any(not c.samples for u in units for c in u.cmds):
        return "not measured"
    return None


def guarded(title: str, goal: str, now: str, units: list[Unit], build: Callable[[], Row]) -> Callable[[], Row]:
    """``build``, or a FAILED row when a unit's command failed or never ran."""
    def row() -> Row:
        why = _failed(units)
        if why is not None:
            return Row(title, "", "", "", goal, "FAILED", now, [why])
        return build()
    return row


def _base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROCC_", "ANSIBLE_"))}
    env.update({
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        # procc's per-user caches (the compiled Jinja template) go to tmp, not the user's home; like
        # Python's .pyc files they stay warm between samples (the untimed setup compile warms them).
        "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
        "PROCC_EXECUTOR": "benchmarks",
    })
    return env


def _cold(project: Path) -> Callable[[], None]:
    """Remove a project's outputs and its output cache (.procc/) before a compile: a compile from scratch.

    What a fresh clone in CI has: no outputs cached. Per-user bytecode
    caches (Python's, procc's Jinja template in $XDG_CACHE_HOME) stay, as
    on any machine after its first compile.
    """
    def prepare() -> None:
        for d in (project / "playbooks", project / "docs", project / ".procc"):
            shutil.rmtree(d, ignore_errors=True)
    return prepare


def fresh(path: Path) -> Callable[[], None]:
    def prepare() -> None:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    return prepare


def _setup_run(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    """An untimed command the measurements need (a compile); its failure is the benchmark's failure."""
    import subprocess

    res = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         check=False)
    if res.returncode != 0:
        raise CommandFailed(f"setup: exit {res.returncode}: {' '.join(argv)} (in {cwd})\n"
                            + "\n".join((res.stdout + res.stderr).splitlines()[-15:]))


_RECAP = re.compile(r"ok=(\d+)\s+changed=\d+\s+unreachable=\d+\s+failed=(\d+)\s+skipped=(\d+)")


def tasks_run(output: str) -> int | None:
    """Task results in ansible-playbook's recap (ok + failed + skipped, every host and play)."""
    hits = _RECAP.findall(output)
    return sum(int(a) + int(b) + int(c) for a, b, c in hits) if hits else None


def tasks_defined(playbook: Path) -> int:
    """Tasks in a playbook file, blocks not counted (their tasks are)."""
    import yaml

    def count(items: object) -> int:
        if not isinstance(items, list):
            return 0
        n = 0
        for t in items:
            if isinstance(t, dict) and any(k in t for k in ("block", "rescue", "always")):
                n += sum(count(t.get(k)) for k in ("block", "rescue", "always"))
            elif isinstance(t, dict):
                n += 1
        return n

    plays = yaml.safe_load(playbook.read_text(encoding="utf-8")) or []
    return sum(count(p.get(k)) for p in plays if isinstance(p, dict)
               for k in ("pre_tasks", "tasks", "post_tasks", "handlers"))


class Plan:
    """The units and figures of one benchmark run, built in ``tmp``."""

    def __init__(self, tmp: Path, sizes: Sizes, groups: list[str]) -> None:
        self.tmp, self.sizes, self.groups = tmp, sizes, groups
        self.env = _base_env(tmp)
        self.units: list[Unit] = []
        self.figures: list[Figure] = []
        self.inventory = tmp / "hosts"
        self.inventory.write_text(f"[local]\nlocalhost ansible_connection=local "
                                  f"ansible_python_interpreter={sys.executable}\n", encoding="utf-8")
        self._ref: Path | None = None
        self._catalog: Path | None = None
        # Commands two units share (the compiled playbook under ansible-playbook: lean and run;
        # procc run: run and fast), measured once per repetition.
        self._shared: dict[str, Cmd] = {}
        self.probes: dict[str, Probe] = {}
        self._floor: list[Cmd] | None = None
        for g in GROUPS:
            if g in groups:
                getattr(self, f"_{g}")()

    # -- shared inputs (built on first use, untimed) --

    def ref_project(self) -> Path:
        """A project with the reference procedure, compiled."""
        if self._ref is None:
            self._ref = self.tmp / "ref"
            (self._ref / "procedures").mkdir(parents=True)
            shutil.copy(REF_SOURCE, self._ref / "procedures" / REF_SOURCE.name)
            _setup_run([PROCC, "compile", "-q"], self._ref, self.env)
        return self._ref

    def ref_playbook(self) -> Path:
        return self.ref_project() / "playbooks" / REF_SOURCE.name

    def catalog_project(self) -> Path:
        """The sources of the N x S catalog (never compiled in place)."""
        if self._catalog is None:
            self._catalog = catalog.write(self.tmp / "catalog", self.sizes.procedures, self.sizes.steps)
        return self._catalog

    def _copy_sources(self, src: Path, name: str) -> Path:
        dest = self.tmp / name
        shutil.copytree(src / "procedures", dest / "procedures")
        return dest

    def _unit(self, group: str, *cmds: Cmd) -> Unit:
        u = Unit(group, list(cmds))
        self.units.append(u)
        return u

    def _procc(self, label: str, project: Path, *args: str, prepare: Callable[[], None] | None = None) -> Cmd:
        return Cmd(label, [PROCC, *args], project, self.env, prepare)

    def _playbook(self, label: str, playbook: Path, work: Path) -> Cmd:
        env = {**self.env, "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
               "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections")}
        return Cmd(label, [ANSIBLE_PLAYBOOK, "-i", str(self.inventory), str(playbook), "-e", f"workdir={work}"],
                   playbook.parent, env, fresh(work))

    def _procc_run(self, label: str, work: Path, *extra: str) -> Cmd:
        return Cmd(label, [PROCC, "run", "PROC-BENCH-010", "-i", str(self.inventory), "-e", f"workdir={work}",
                           "--plain", "--no-record", *extra], self.ref_project(), self.env, fresh(work))

    def shared(self, key: str, make: Callable[[], Cmd]) -> Cmd:
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

    def compiled_under_ansible(self) -> Cmd:
        return self.shared("ap", lambda: self._playbook("ansible-playbook (compiled playbook)", self.ref_playbook(),
                                                        self.tmp / "work-ap"))

    def procc_run(self) -> Cmd:
        return self.shared("run", lambda: self._procc_run("procc run", self.tmp / "work-run"))

    def floors(self) -> list[Cmd]:
        """Start-up floors, measured like any command: the interpreter, the model's import, ``procc --version``."""
        if self._floor is None:
            py = str(BIN / "python")
            self._floor = [Cmd("python -c pass", [py, "-c", "pass"], self.tmp, self.env),
                           Cmd("python -c 'import compiler.model'", [py, "-c", "import compiler.model"], self.tmp,
                               self.env),
                           Cmd("procc --version", [PROCC, "--version"], self.tmp, self.env)]
            self._unit("floor", *self._floor)
        return self._floor

    def probe(self, key: str, mode: str, project: Path) -> Probe:
        if key not in self.probes:
            self.probes[key] = Probe(mode, project)
        return self.probes[key]

    def subset(self, name: str, n: int = 20) -> Path:
        """The first ``n`` sources of the catalog in a project of their own (a phase probe's per-file costs)."""
        dest = self.tmp / name
        if not dest.exists():
            (dest / "procedures").mkdir(parents=True)
            for f in sorted((self.catalog_project() / "procedures").glob("*.yml"))[:n]:
                shutil.copy(f, dest / "procedures" / f.name)
        return dest

    # -- the groups --

    def _floor_medians(self) -> tuple[float, float, float]:
        py, model, version = self.floors()
        return median(py), median(model), median(version)

    def _compile(self) -> None:
        s = self.sizes
        floor = self.floors()
        one = self._copy_sources(self.ref_project(), "one")
        shutil.copytree(self.ref_project() / "playbooks", one / "syntax")
        syntax = Cmd("ansible-playbook --syntax-check", [ANSIBLE_PLAYBOOK, "--syntax-check", "-i", "localhost,",
                                                          f"syntax/{REF_SOURCE.name}"], one, self.env)
        compile1 = self._procc("procc compile (1 procedure)", one, "compile", "-q", prepare=_cold(one))
        u1 = self._unit("compile", syntax, compile1)
        p1 = self.probe("compile-one", "compile", self._copy_sources(self.ref_project(), "probe-one"))
        title1 = "`procc compile` of one procedure vs `ansible-playbook --syntax-check` of its playbook"

        def row1() -> Row:
            r = ratio(compile1, syntax)
            why, meet = reasons.compile_one(median(syntax), median(compile1), 0.4, median(floor[2]), p1.result)
            return Row(title1, f"{median(syntax):.2f} s", f"{median(compile1):.2f} s", f"{r:.2f}x", "<= 0.4x",
                       verdict(r, 0.4), "0.52x (0.79 s vs 1.46 s)",
                       [f"the reference procedure ({REF_SOURCE.name}, 10 steps), compiled cold: outputs and the "
                        "output cache (.procc/) removed before each sample", samples_line(compile1),
                        samples_line(syntax), reasons.startup(*self._floor_medians())],
                       why, meet)
        self.figures.append(Figure("compile", [u1], guarded(title1, "<= 0.4x", "0.52x (0.79 s vs 1.46 s)",
                                                            [u1, self.units_of(floor)], row1)))

        cat = self._copy_sources(self.catalog_project(), "compile-n")
        mem = catalog.write(self.tmp / "compile-mem", s.memory_procedures, s.steps)
        full = self._procc(f"procc compile ({s.procedures} x {s.steps})", cat, "compile", "-q",
                           prepare=_cold(cat))
        big = self._procc(f"procc compile ({s.memory_procedures} x {s.steps})", mem, "compile", "-q",
                          prepare=_cold(mem))
        u2 = self._unit("compile", full, big)
        p2 = self.probe("compile-subset", "compile", self.subset("probe-subset"))
        p3 = self.probe("pool", "pool", self._copy_sources(mem, "probe-pool"))
        title = f"full compile of a {s.procedures}-procedure x {s.steps}-step catalog"

        def row2() -> Row:
            why, meet = reasons.catalog_compile(median(full), median(full, "cpu"), s.procedures, os.cpu_count() or 1,
                                                3.0, median(floor[2], "cpu"), p2.result)
            return Row(title, ABSOLUTE, f"{median(full):.2f} s wall, {median(full, 'cpu'):.2f} s CPU",
                       f"{median(full):.2f} s", "<= 3 s wall", verdict(median(full), 3.0), "81 s wall, 39 s CPU",
                       ["cold: outputs and the output cache (.procc/) removed before each sample",
                        samples_line(full)], why, meet)
        self.figures.append(Figure("compile", [u2], guarded(title, "<= 3 s wall", "81 s wall, 39 s CPU",
                                                            [u2, self.units_of(floor)], row2)))
        title2 = f"full compile of {s.memory_procedures} procedures: CPU and peak memory against {s.procedures}"

        def row3() -> Row:
            why, meet = reasons.pool_memory(median(full, "rss_mib"), median(big, "rss_mib"), FLAT, p3.result)
            return Row(title2, f"{median(full, 'rss_mib'):.0f} MiB ({s.procedures})",
                       f"{median(big, 'cpu'):.2f} s CPU, {median(big):.2f} s wall, {median(big, 'rss_mib'):.0f} MiB",
                       f"{ratio(big, full, 'rss_mib'):.2f}x memory", f"memory flat (<= {FLAT}x)",
                       verdict(ratio(big, full, 'rss_mib'), FLAT), "200 s CPU, 148 MiB",
                       ["peak RSS is the largest single process of the command's tree "
                        "(a parallel compile's workers are not summed)", samples_line(big)], why, meet)
        self.figures.append(Figure("compile", [u2], guarded(title2, f"memory flat (<= {FLAT}x)",
                                                            "200 s CPU, 148 MiB", [u2], row3)))

    def units_of(self, cmds: list[Cmd]) -> Unit:
        """The unit that measures ``cmds`` (the floors)."""
        return next(u for u in self.units if u.cmds == cmds)

    def _check(self) -> None:
        s = self.sizes
        proj = self._copy_sources(self.catalog_project(), "check")
        _setup_run([PROCC, "compile", "-q"], proj, self.env)
        check = self._procc(f"procc check ({s.procedures} x {s.steps}, unchanged)", proj, "check")
        floor = self.floors()
        u = self._unit("check", check)
        title = f"`procc check` of an unchanged {s.procedures} x {s.steps} catalog"

        def row() -> Row:
            why, meet = reasons.check_unchanged(median(check), s.procedures, 1.0, median(floor[2]))
            return Row(title, ABSOLUTE, f"{median(check):.2f} s wall, {median(check, 'cpu'):.2f} s CPU",
                       f"{median(check):.2f} s", "<= 1 s", verdict(median(check), 1.0), "38 s CPU",
                       ["compiled once before (untimed), then checked unchanged: what CI does on every commit",
                        samples_line(check)], why, meet)
        self.figures.append(Figure("check", [u], guarded(title, "<= 1 s", "38 s CPU", [u, self.units_of(floor)],
                                                         row)))

    def _lint(self) -> None:
        s = self.sizes
        floor = self.floors()
        mem = catalog.write(self.tmp / "lint-mem", s.memory_procedures, s.steps)
        cold_proj = self._copy_sources(self.catalog_project(), "lint-cold")
        warm_proj = self._copy_sources(self.catalog_project(), "lint-warm")
        _setup_run([PROCC, "lint"], warm_proj, self.env)  # fills its cache (untimed)
        lint = self._procc(f"procc lint ({s.procedures} x {s.steps}, cold)", cold_proj, "lint",
                           prepare=_cold(cold_proj))
        warm = self._procc(f"procc lint ({s.procedures} x {s.steps}, unchanged, warm cache)", warm_proj, "lint")
        lint_big = self._procc(f"procc lint ({s.memory_procedures} x {s.steps}, cold)", mem, "lint",
                               prepare=_cold(mem))
        u = self._unit("lint", lint, warm, lint_big)
        probe = self.probe("lint-subset", "lint", self.subset("probe-lint"))
        title = f"`procc lint` of {s.procedures} x {s.steps}, cold (no cache: every file parsed and linted)"

        def row() -> Row:
            why, meet = reasons.lint_cold(median(lint), s.procedures, 2.0, median(floor[2]), probe.result)
            return Row(title, ABSOLUTE, f"{median(lint):.2f} s wall, {median(lint, 'cpu'):.2f} s CPU, "
                                        f"{median(lint, 'rss_mib'):.0f} MiB",
                       f"{median(lint):.2f} s", "<= 2 s", verdict(median(lint), 2.0), "7.7 s CPU, 119 MiB",
                       ["cold: the cache (.procc/) removed before each sample; misses are linted in a pool",
                        samples_line(lint)], why, meet)
        self.figures.append(Figure("lint", [u], guarded(title, "<= 2 s", "7.7 s CPU, 119 MiB",
                                                        [u, self.units_of(floor)], row)))
        title_w = f"`procc lint` of an unchanged {s.procedures} x {s.steps} catalog (warm cache)"
        self.figures.append(Figure("lint", [u], guarded(title_w, "<= 2 s", "7.7 s CPU, 119 MiB", [u], lambda: Row(
            title_w, ABSOLUTE, f"{median(warm):.2f} s wall, {median(warm, 'cpu'):.2f} s CPU, "
                               f"{median(warm, 'rss_mib'):.0f} MiB",
            f"{median(warm):.2f} s", "<= 2 s", verdict(median(warm), 2.0), "7.7 s CPU, 119 MiB",
            ["linted once before (untimed), then again unchanged: what CI does on every commit; the findings "
             "come from the cache (.procc/cache/), keyed on every input", samples_line(warm)]))))
        title2 = f"`procc lint` peak memory: {s.memory_procedures} against {s.procedures} procedures"
        self.figures.append(Figure("lint", [u], guarded(title2, f"flat (<= {FLAT}x)", "450 MiB vs 119 MiB", [u],
                                                        lambda: Row(
            title2, f"{median(lint, 'rss_mib'):.0f} MiB", f"{median(lint_big, 'rss_mib'):.0f} MiB, "
                                                           f"{median(lint_big, 'cpu'):.2f} s CPU",
            f"{ratio(lint_big, lint, 'rss_mib'):.2f}x", f"flat (<= {FLAT}x)",
            verdict(ratio(lint_big, lint, 'rss_mib'), FLAT), "450 MiB vs 119 MiB (3.8x)",
            ["both cold", samples_line(lint_big)]))))

    def _lean(self) -> None:
        compiled = self.ref_playbook()
        hand = self._playbook("hand-written reference playbook", REF_PLAYBOOK, self.tmp / "work-hand")
        mine = self.compiled_under_ansible()
        u = self._unit("lean", hand, mine)
        title = "compiled 10-step playbook vs the hand-written reference (ansible-playbook, localhost)"

        def row() -> Row:
            ran_mine, ran_hand = tasks_run(mine.last_output), tasks_run(hand.last_output)
            ran = f"{ran_mine} vs {ran_hand}"
            defined = f"{tasks_defined(compiled)} vs {tasks_defined(REF_PLAYBOOK)}"
            r = ratio(mine, hand)
            why, meet = reasons.lean(median(mine), median(hand), 1.05, ran_mine, ran_hand,
                                     reasons.tasks_per_play(mine.last_output))
            return Row(title, f"{median(hand):.2f} s", f"{median(mine):.2f} s",
                       f"{r:.2f}x; tasks run {ran}, in the file {defined}", "<= 1.05x", verdict(r, 1.05),
                       "1.20x (65 tasks against 20)",
                       [f"reference: benchmarks/reference/ ({REF_SOURCE.name} and {REF_PLAYBOOK.name}); a "
                        "successful run each, fresh work dir per sample; tasks run = ok + failed + skipped "
                        "in the recap", samples_line(mine), samples_line(hand)], why, meet)
        self.figures.append(Figure("lean", [u], guarded(title, "<= 1.05x", "1.20x (65 tasks against 20)", [u], row)))

    def _run(self) -> None:
        plain = self.compiled_under_ansible()
        procc_run = self.procc_run()
        floor = self.floors()
        u = self._unit("run", plain, procc_run)
        title = "`procc run` vs `ansible-playbook` on the same playbook (reference procedure, localhost)"

        def row() -> Row:
            why, meet = reasons.run_overhead(median(procc_run), median(plain), 1.05, median(floor[2]))
            return Row(title, f"{median(plain):.2f} s", f"{median(procc_run):.2f} s",
                       f"{ratio(procc_run, plain):.2f}x", "<= 1.05x",
                       verdict(ratio(procc_run, plain), 1.05), "1.06-1.11x",
                       ["procc run --plain --no-record; both get the same inventory and -e workdir=",
                        samples_line(procc_run), samples_line(plain)], why, meet)
        self.figures.append(Figure("run", [u], guarded(title, "<= 1.05x", "1.06-1.11x",
                                                       [u, self.units_of(floor)], row)))

    def _big(self) -> None:
        s = self.sizes
        proj = catalog.write(self.tmp / "big", 1, s.big_steps)
        big = self._procc(f"procc compile (1 x {s.big_steps} steps)", proj, "compile", "-q",
                          prepare=_cold(proj))
        u = self._unit("big", big)
        probe = self.probe("big", "compile", self._copy_sources(proj, "probe-big"))
        title = f"{s.big_steps}-step procedure compile"

        def row() -> Row:
            why, meet = reasons.big_compile(median(big), 2.0, probe.result)
            return Row(title, ABSOLUTE, f"{median(big):.2f} s wall, {median(big, 'cpu'):.2f} s CPU, "
                                        f"{median(big, 'rss_mib'):.0f} MiB",
                       f"{median(big):.2f} s", "<= 2 s", verdict(median(big), 2.0), "32 s",
                       ["cold: outputs and the output cache (.procc/) removed before each sample",
                        samples_line(big)], why, meet)
        self.figures.append(Figure("big", [u], guarded(title, "<= 2 s", "32 s", [u], row)))

    def _fast(self) -> None:
        from compiler.runner import mitogen_strategy_dir  # finds, never imports, ansible_mitogen

        title = "`procc run --fast` (Mitogen) vs `procc run`"
        if mitogen_strategy_dir() is None:
            self.figures.append(Figure("fast", [], lambda: Row(
                title, "", "", "", "informational", "FAILED", "0.57x (Mitogen vs stock)",
                ["Mitogen is not installed: pip install 'procedure-compiler[fast]'"])))
            return
        stock = self.procc_run()
        fast = self._procc_run("procc run --fast", self.tmp / "work-fast", "--fast")
        u = self._unit("fast", stock, fast)
        self.figures.append(Figure("fast", [u], guarded(title, "informational", "0.57x", [u], lambda: Row(
            title, f"{median(stock):.2f} s", f"{median(fast):.2f} s", f"{ratio(fast, stock):.2f}x",
            "informational", "informational", "0.57x (Mitogen vs stock Ansible, issue 14's profile)",
            [samples_line(fast), samples_line(stock)]))))


def measure(plan: Plan, repeat: int, budget: float, progress: Callable[[str], None]) -> None:
    """Run every unit ``repeat`` times, interleaved: repetition r runs each unit once, in turn.

    Within a unit the order alternates (anchor first on even repetitions).
    A unit stops repeating once it has spent ``budget`` seconds (a figure
    still has at least one sample); a failed command voids its unit. A
    command two units share is run once per repetition.
    """
    logs = plan.tmp / "logs"
    logs.mkdir(exist_ok=True)
    for rep in range(repeat):
        sampled: set[int] = set()
        for i, unit in enumerate(plan.units):
            if unit.error or (rep > 0 and unit.spent >= budget):
                continue
            order = unit.cmds if rep % 2 == 0 else list(reversed(unit.cmds))
            for cmd in order:
                if id(cmd) in sampled:
                    continue
                sampled.add(id(cmd))
                t0 = time.perf_counter()
                try:
                    sample = run(cmd, logs / f"u{i}-r{rep}.log", rep)
                except CommandFailed as exc:
                    unit.error = str(exc)
                    progress(f"FAILED {exc}")
                    break
                finally:
                    unit.spent += time.perf_counter() - t0
                progress(f"[{rep + 1}/{repeat}] {cmd.label}: {sample.wall:.2f} s wall, {sample.cpu:.2f} s CPU, "
                         f"{sample.rss_mib:.0f} MiB")


def run_probes(plan: Plan, progress: Callable[[str], None]) -> None:
    """Take each phase probe once, after the timed samples (a failed probe leaves its reason unmeasured)."""
    import json
    import subprocess

    for key, p in plan.probes.items():
        res = subprocess.run([str(BIN / "python"), "-m", "benchmarks.phases", p.mode, str(p.project)], cwd=ROOT,
                             env=plan.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        try:
            if res.returncode != 0:
                raise ValueError(f"exit {res.returncode}: {res.stderr.strip()[-300:]}")
            p.result = json.loads(res.stdout.strip().splitlines()[-1])
            progress(f"probe {key}: {json.dumps(p.result.get('seconds', {}).get('total'))} s")
        except (ValueError, IndexError) as exc:
            p.error = str(exc)
            progress(f"probe {key} FAILED: {exc}")
