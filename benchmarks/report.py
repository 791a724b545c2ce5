"""benchmarks/RESULTS.md: the table of issue 14 with what was measured, and the machine it was measured on."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from benchmarks.figures import ROOT, Row

# What would meet a goal that is not met: issue 14's profile, per figure (first words of the title).
HINTS = {
    "`procc compile` of one": "start-up: lazy imports on the compile path, pydantic models built once, "
                              "the Jinja template precompiled (issue 14, item 3)",
    "full compile of a": "the C emitter (libyaml), a cache keyed on every input, parallel compilation "
                         "(issue 14, item 2)",
    "full compile of 1": "each output streamed to disk (issue 14, item 2)",
    "`procc check`": "a cache keyed on every input: an unchanged catalog costs start-up plus hashing",
    "`procc lint` of": "start-up and the parse: lazy imports, models built once",
    "`procc lint` peak": "drop LintResult.sources (116 to 34 MiB at 200 procedures)",
    "compiled 10-step": "lean playbooks: drill in failed_when, started/done from register:, no per-step "
                        "bookkeeping tasks (issue 14, item 1)",
    "`procc run` vs": "fewer tasks per step (the lean playbook) and less work in the event handler",
    "3000-step": "the C emitter: 87 % of compile CPU is PyYAML's pure-Python emitter",
}


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    def git(*args: str) -> str:
        res = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return res.stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(load_before: tuple[float, ...]) -> list[str]:
    """Facts about the machine and the software measured."""
    return [
        f"cores: {os.cpu_count()} ({_cpu_model()})",
        f"load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"Python {platform.python_version()} ({sys.executable})",
        f"ansible-core {_version('ansible-core')}, ansible-runner {_version('ansible-runner')}, "
        f"mitogen {_version('mitogen')}, PyYAML {_version('PyYAML')}",
        f"procc {_version('procedure-compiler')}, commit {_commit()}",
        f"system: {platform.platform()}",
    ]


def hint(row: Row) -> str | None:
    for prefix, text in HINTS.items():
        if row.figure.startswith(prefix):
            return text
    return None


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(rows: list[Row], *, command: str, repeat: int, sizes: str, load_before: tuple[float, ...],
           seconds: float) -> str:
    """The Markdown of RESULTS.md."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmarks (issue 14)",
        "",
        f"Written by `{command}` on {now}, in {seconds / 60:.1f} min; do not edit by hand.",
        f"Sizes: {sizes}. Every figure is the median of up to {repeat} samples, each command in a fresh",
        "subprocess; the anchor and the subject of a ratio alternate, and all figures are measured in one",
        "interleaved run (repetition by repetition), so load on the shared machine hits them alike; a",
        "ratio takes the medians over the repetitions in which both of its commands ran.",
        "Wall and CPU (user + system, the command's whole process tree) are seconds; peak memory is the",
        "largest RSS of one process of the tree.",
        "",
        "| figure | anchor | measured | ratio / absolute | goal | verdict | issue 14 \"now\" |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append("| " + " | ".join(_cell(c) for c in (r.figure, r.anchor, r.measured, r.result, r.goal,
                                                          f"**{r.met}**" if r.met != "met" else r.met, r.now))
                   + " |")
    out += ["", "## Machine", ""]
    out += [f"- {line}" for line in machine(load_before)]
    out += ["", "## Details", ""]
    for r in rows:
        out += [f"### {r.figure}", ""]
        out += [f"- {d}" for d in r.details]
        out += [f"- measured: {line}" for line in r.reasons]
        h = hint(r)
        if r.met == "NOT MET" and r.meet:
            out.append(f"- not met; what would meet it (from the numbers above): {r.meet}")
        elif r.met == "NOT MET" and h:
            out.append(f"- not met; what would meet it (issue 14's profile): {h}")
        out.append("")
    out += ["## Reproduce", "", "From the repository root, with the project's virtualenv:", "", "```sh",
            f"{command}",
            ".venv/bin/python -m benchmarks compile|check|lint|lean|run|big|fast   # one group",
            ".venv/bin/python -m benchmarks all --smoke                            # CI: small sizes, 1 sample",
            "```", ""]
    return "\n".join(out)
