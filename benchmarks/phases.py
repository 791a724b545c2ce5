"""Where the time and memory go: phase breakdowns the harness takes itself, in a fresh subprocess.

``python -m benchmarks.phases compile DIR`` compiles the procedures of the
project ``DIR`` serially, in this one process, timing the CPU of each phase
(``time.process_time``, summed over the files: the load of a shared machine
does not inflate it): the imports (the model, then
the rest of the compile path), the parse (YAML and validation), the history
figures, the runbook, the playbook's data and its YAML dump, and the write.
``lint DIR`` does the same for the lint: imports, parse, rules.
``pool DIR`` runs the parallel compile (compiler.build) and reports the peak
RSS of this, the parent, process and of the largest worker it waited for.

Each prints one JSON object on stdout (seconds, MiB). The harness runs it
after the timed samples (never inside one) so that RESULTS.md can say what
a figure that misses its goal is made of, and what would meet it.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _mib(kib: int) -> float:
    return kib / 1024


def compile_phases(root: Path) -> dict[str, Any]:
    t = time.process_time  # CPU of this process: the shared machine's load does not inflate it
    t0 = t()
    import compiler.model  # noqa: F401  (pydantic classes: the bulk of start-up)

    t1 = t()
    from compiler import build, playbook, project, runbook, yamlout
    from compiler.history.kpis import kpis_and_problems
    from compiler.parse import parse_file

    runbook.warm()
    t2 = t()
    out: dict[str, float] = {"import_model": t1 - t0, "import_rest": t2 - t1, "parse": 0.0, "history": 0.0,
                             "runbook": 0.0, "playbook_build": 0.0, "playbook_dump": 0.0, "write": 0.0}
    s = build.settings(root, root / "phase-docs", root / "phase-playbooks", "es", False, True, cache=False)
    files = project.sources(root, None)
    for f in files:
        a = t()
        src = parse_file(f, project.display(f, root))
        b = t()
        figures, _ = kpis_and_problems(src, root, "es")
        c = t()
        rb = runbook.render(src.procedure, "es", source=src.display, kpis=figures, roles=build._roles(s))
        d = t()
        data = playbook.build(src.procedure, "es")
        e = t()
        pb = yamlout.dump(data)
        g = t()
        project.write(project.Output(s.docs_dir / f"{f.stem}.md", rb))
        project.write(project.Output(s.playbooks_dir / f"{f.stem}.yml", pb))
        h = t()
        out["parse"] += b - a
        out["history"] += c - b
        out["runbook"] += d - c
        out["playbook_build"] += e - d
        out["playbook_dump"] += g - e
        out["write"] += h - g
    out["total"] = t() - t0
    return {"files": len(files), "seconds": out, "peak_mib": _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}


def lint_phases(root: Path) -> dict[str, Any]:
    t = time.process_time  # CPU of this process: the shared machine's load does not inflate it
    t0 = t()
    import compiler.model  # noqa: F401

    t1 = t()
    from compiler import project
    from compiler.lint.engine import lint_source, selected
    from compiler.parse import parse_file

    active = selected()
    t2 = t()
    out = {"import_model": t1 - t0, "import_rest": t2 - t1, "parse": 0.0, "rules": 0.0}
    files = project.sources(root, None)
    for f in files:
        a = t()
        src = parse_file(f, project.display(f, root))
        b = t()
        lint_source(src, active)
        out["parse"] += b - a
        out["rules"] += t() - b
    out["total"] = t() - t0
    return {"files": len(files), "seconds": out, "peak_mib": _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}


def pool_memory(root: Path) -> dict[str, Any]:
    from compiler import build, project

    s = build.settings(root, root / "pool-docs", root / "pool-playbooks", "es", False, True, cache=False)
    files = project.sources(root, None)
    t0 = time.perf_counter()
    build.build(files, s)
    return {"files": len(files), "workers": build.workers(), "seconds": {"total": time.perf_counter() - t0},
            # RUSAGE_CHILDREN's maxrss is the largest of the waited-for children (the workers).
            "parent_mib": _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
            "worker_mib": _mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)}


MODES = {"compile": compile_phases, "lint": lint_phases, "pool": pool_memory}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in MODES:
        print(f"usage: python -m benchmarks.phases {'|'.join(MODES)} PROJECT_DIR", file=sys.stderr)
        return 2
    print(json.dumps(MODES[argv[0]](Path(argv[1]).resolve())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
