"""Measured reasons: what a figure is made of, and what would meet its goal, computed from this run's numbers.

Every function here is pure: it takes medians the harness measured (seconds,
MiB, task counts) and the JSON of a phase probe (:mod:`benchmarks.phases`)
and returns the lines RESULTS.md prints beside a verdict. Nothing is a
constant from an old profile: when the numbers change, the text follows.
"""

from __future__ import annotations

import re
from typing import Any

# ansible-playbook's default output: a play header, then a header per task.
_PLAY = re.compile(r"^PLAY \[(.*)\] \*+$")
_TASK = re.compile(r"^TASK \[(.*)\] \*+$")

_NAMES = {"import_model": "import of compiler.model", "import_rest": "other imports", "parse": "parse",
          "history": "history figures", "runbook": "runbook", "playbook_build": "playbook data",
          "playbook_dump": "playbook YAML dump", "write": "write", "rules": "rules"}


def tasks_per_play(output: str) -> list[tuple[str, int]]:
    """(play name, tasks started) in ansible-playbook's output, in order (a task skipped for every host counts)."""
    plays: list[tuple[str, int]] = []
    for line in output.splitlines():
        if m := _PLAY.match(line):
            plays.append((m.group(1), 0))
        elif _TASK.match(line) and plays:
            name, n = plays[-1]
            plays[-1] = (name, n + 1)
    return plays


def phases(probe: dict[str, Any] | None, per_file: bool = False) -> str:
    """One line: the CPU of each phase of a probe, largest first (per file when ``per_file``)."""
    if not probe:
        return "phase probe: not measured"
    sec = probe["seconds"]
    files = max(1, int(probe.get("files", 1)))
    work = {k: v for k, v in sec.items() if k != "total" and not k.startswith("import")}
    unit = f"per file (mean of {files})" if per_file else f"{files} file(s)"
    scale = 1 / files if per_file else 1.0
    parts = [f"{_NAMES.get(k, k)} {v * scale * 1000:.0f} ms" for k, v in sorted(work.items(), key=lambda kv: -kv[1])]
    imports = f"imports {(sec.get('import_model', 0) + sec.get('import_rest', 0)) * 1000:.0f} ms " \
              f"(compiler.model {sec.get('import_model', 0) * 1000:.0f} ms), once"
    return f"CPU by phase, {unit}: " + ", ".join(parts) + f"; {imports}"


def _largest(probe: dict[str, Any] | None) -> tuple[str, float]:
    if not probe:
        return ("?", 0.0)
    work = {k: v for k, v in probe["seconds"].items() if k != "total" and not k.startswith("import")}
    k = max(work, key=lambda x: work[x])
    return _NAMES.get(k, k), float(work[k])


def startup(py: float, model: float, version: float) -> str:
    return (f"start-up floors (fresh processes, medians): python -c pass {py:.2f} s, "
            f"import compiler.model {model:.2f} s, procc --version {version:.2f} s")


def compile_one(anchor: float, subject: float, goal: float, version: float,
                probe: dict[str, Any] | None) -> tuple[list[str], str]:
    """procc compile of one procedure against ansible-playbook --syntax-check."""
    target = goal * anchor
    lines = [f"procc --version alone is {version:.2f} s = {version / anchor:.2f}x of the anchor; "
             f"the compile's own work is {max(0.0, subject - version):.2f} s", phases(probe)]
    model = float(probe["seconds"].get("import_model", 0.0)) if probe else 0.0
    meet = (f"the whole compile in <= {target:.2f} s ({goal}x of {anchor:.2f} s): {subject - target:.2f} s less; "
            f"the model's import alone costs {model:.2f} s of CPU")
    if version >= target:
        meet += f"; even zero work is {version / anchor:.2f}x: start-up itself must shrink"
    return lines, meet


def catalog_compile(wall: float, cpu: float, n: int, cores: int, goal: float, startup_s: float,
                    probe: dict[str, Any] | None) -> tuple[list[str], str]:
    """The cold compile of an N-procedure catalog against an absolute wall goal."""
    per = (cpu - startup_s) / n
    budget = (goal * cores - startup_s) / n
    lines = [f"CPU {cpu:.2f} s over {wall:.2f} s wall on {cores} cores: {cpu / wall:.2f} cores busy on average; "
             f"{per * 1000:.0f} ms of CPU per procedure after start-up", phases(probe, per_file=True)]
    name, largest = _largest(probe)
    files = max(1, int(probe.get("files", 1))) if probe else 1
    meet = (f"<= {goal:.0f} s wall needs, even with all {cores} cores busy the whole time, <= {budget * 1000:.0f} ms "
            f"of CPU per procedure (now {per * 1000:.0f} ms: {per / budget:.2f}x too much); the largest phase, "
            f"{name}, is {largest / files * 1000:.0f} ms per procedure")
    return lines, meet


def pool_memory(rss_small: float, rss_big: float, limit: float, probe: dict[str, Any] | None) -> tuple[list[str], str]:
    if not probe:
        return ["pool probe: not measured"], f"a peak <= {limit * rss_small:.0f} MiB"
    parent, worker = float(probe["parent_mib"]), float(probe["worker_mib"])
    lines = [f"parallel compile of {probe['files']} procedures in-process ({probe['workers']} workers): "
             f"parent peak {parent:.0f} MiB, largest worker {worker:.0f} MiB"]
    who = "the parent" if parent >= worker else "a worker"
    return lines, (f"a peak <= {limit * rss_small:.0f} MiB ({limit}x of {rss_small:.0f} MiB); the peak "
                   f"({rss_big:.0f} MiB) is {who}'s: it must not grow with the catalog")


def lint_cold(wall: float, n: int, goal: float, startup_s: float, probe: dict[str, Any] | None) -> tuple[list[str], str]:
    per = (wall - startup_s) / n
    lines = [f"{per * 1000:.1f} ms wall per procedure after a {startup_s:.2f} s start-up", phases(probe, per_file=True)]
    budget = (goal - startup_s) / n
    return lines, (f"a cold lint in <= {goal:.0f} s needs <= {budget * 1000:.1f} ms per procedure after start-up "
                   f"(now {per * 1000:.1f} ms); the warm figure (unchanged catalog, cache) is the everyday one")


def big_compile(wall: float, goal: float, probe: dict[str, Any] | None) -> tuple[list[str], str]:
    lines = [phases(probe)]
    name, largest = _largest(probe)
    return lines, (f"<= {goal:.0f} s needs {wall - goal:.2f} s less; the largest phase, {name}, alone takes "
                   f"{largest:.2f} s of CPU")


def lean(mine: float, hand: float, goal: float, ran_mine: int | None, ran_hand: int | None,
         plays: list[tuple[str, int]]) -> tuple[list[str], str]:
    lines = ["tasks started per play (compiled): " + "; ".join(f"{n} in '{p}'" for p, n in plays)]
    if not ran_mine or not ran_hand or ran_mine <= ran_hand:
        return lines, "task counts not measured"
    per = (mine - hand) / (ran_mine - ran_hand)
    lines.append(f"{(mine - hand):.2f} s more for {ran_mine - ran_hand} more task results: {per * 1000:.0f} ms each")
    allowed = (goal - 1) * hand / per if per > 0 else float("inf")
    return lines, (f"<= {goal}x allows {allowed:.0f} task results more than the hand-written playbook at "
                   f"{per * 1000:.0f} ms each (now {ran_mine - ran_hand} more)")


def run_overhead(run: float, plain: float, goal: float, version: float) -> tuple[list[str], str]:
    extra = run - plain
    lines = [f"procc run costs {extra:.2f} s more than ansible-playbook; procc's own start-up is {version:.2f} s "
             "(procc --version)"]
    return lines, (f"<= {goal}x allows {(goal - 1) * plain:.2f} s over ansible-playbook (now {extra:.2f} s)")


def check_unchanged(check: float, n: int, goal: float, version: float) -> tuple[list[str], str]:
    """procc check of an unchanged catalog: start-up plus reading and hashing."""
    rest = check - version
    lines = [f"procc --version alone is {version:.2f} s; the rest, {rest:.2f} s, is reading and hashing {n} "
             f"sources and their outputs ({rest / n * 1000:.1f} ms each)"]
    return lines, (f"<= {goal:.0f} s needs {check - goal:.2f} s less; start-up alone is "
                   f"{version / goal * 100:.0f} % of the budget")
