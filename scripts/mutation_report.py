"""Write tests/MUTATION.md from mutmut's results (mutants/**/*.meta) and the equivalents file.

Score of a module = killed / (total - equivalent), where "killed" counts
mutants a test failed on plus timeouts (a mutant that loops forever is
caught) and "equivalent" are the survivors listed, with a one-line reason,
in tests/mutation_equivalents.yml. A listed mutant whose changed line no
longer matches the file (the source moved on) is reported as stale and
counted as a survivor, so an old reason never hides a new mutant.

A module without results in mutants/ (mutmut's results are not committed;
a run of one module starts from an empty mutants/) keeps its row and its
mutants from the previous report (--out), marked "carried over", so a
partial rerun does not drop the others; the table says which rows these are.

Usage: python scripts/mutation_report.py [--out FILE] [--threshold PCT] [--title T] MODULE...
Exit status 1 when a module with results is below the threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
KILLED = {1: "killed", 3: "killed", 36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
          -11: "killed", -9: "killed", 37: "killed"}
STATUS = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", None: "not checked", 35: "suspicious",
          2: "interrupted"}


def status(code: int | None) -> str:
    """mutmut's exit code as a verdict (segfaults and type-check failures are kills)."""
    return KILLED.get(code) or STATUS.get(code, "suspicious")  # type: ignore[call-overload,no-any-return]


def module_path(module: str) -> Path:
    return Path("compiler", *module.split(".")).with_suffix(".py")


def changed_lines(name: str, path: Path) -> tuple[list[str], list[str]]:
    """The removed and added lines of one mutant (from mutmut's own diff)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # needs pyproject's [tool.mutmut] in cwd

    diff = get_diff_for_mutant(name, path=path)
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return minus, plus


def _detail(name: str, what: str, minus: list[str], plus: list[str]) -> str:
    """One mutant in the report: its name, verdict or reason, and its diff in a fence."""
    body = "\n".join([*(f"- {ln}" for ln in minus), *(f"+ {ln}" for ln in plus)])
    return f"`{name}` {what}\n\n~~~~diff\n{body}\n~~~~\n"


def previous(path: Path, module: str) -> tuple[list[str], list[str]] | None:
    """The row cells and the mutant sections of ``module`` in an earlier report at ``path``, if any."""
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    cells = None
    for line in text.splitlines():
        parts = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and parts[0] == module:
            cells = parts
    if cells is None or not cells[1].split(" (")[0].endswith("%") or not cells[2].isdigit():
        return None
    prefix = f"`compiler.{module}."
    sections = [s for s in text.split("\n\n`")[1:] if ("`" + s).startswith(prefix)]
    return cells, [("`" + s).split("\n## ")[0].rstrip("\n") + "\n" for s in sections]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("modules", nargs="+")
    ap.add_argument("--out")
    ap.add_argument("--threshold", type=float, default=85.0)
    ap.add_argument("--title", default="Mutation testing of the core")
    ap.add_argument("--equivalents", default=str(ROOT / "tests" / "mutation_equivalents.yml"))
    args = ap.parse_args(argv)
    equivalents: dict[str, dict[str, str]] = yaml.safe_load(Path(args.equivalents).read_text()) or {}

    rows: list[str] = []
    details: list[str] = []
    stub: list[str] = []
    failing: list[str] = []
    totals: Counter[str] = Counter()
    unchecked: list[str] = []
    carried: list[str] = []
    changed: list[str] = []
    for module in args.modules:
        path = module_path(module)
        meta = Path("mutants") / (str(path) + ".meta")
        codes: dict[str, int | None] | None = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else None
        if codes is None or (codes and all(c is None for c in codes.values())):
            old = previous(Path(args.out), module) if args.out else None
            if old is None:
                rows.append(f"| {module} | not run | | | | | | |")
                continue
            cells, sections = old
            old_score = cells[1].split(" (")[0]
            rows.append(f"| {module} | {old_score} (carried over) | " + " | ".join(cells[2:]) + " |")
            if codes and len(codes) != int(cells[7]):
                changed.append(f"{module} ({len(codes)} mutants now, {cells[7]} then)")
            killed_, timeout_, survived_, equivalent_, unchecked_, total_ = (int(c) for c in cells[2:8])
            totals.update({"killed": killed_, "timeout": timeout_, "survived": survived_,
                           "equivalent": equivalent_, "not checked": unchecked_})
            if float(old_score.split()[0]) < args.threshold:
                failing.append(f"{module} {old_score}")
            if unchecked_:
                unchecked.append(f"{module} ({unchecked_} of {total_})")
            carried.append(module)
            details.extend(sections)
            continue
        if not codes:
            # mutmut mutates function bodies only: a module of constants has no mutants.
            rows.append(f"| {module} | no mutants (no functions) | | | | | | 0 |")
            continue
        count: Counter[str] = Counter()
        survivors: list[str] = []
        for name, code in sorted(codes.items(), key=lambda kv: (kv[0].rsplit("_", 1)[0], int(kv[0].rsplit("_", 1)[1]))):
            verdict = status(code)
            if verdict in ("survived", "no tests", "suspicious"):
                minus, plus = changed_lines(name, path)
                entry = equivalents.get(name)
                if entry is not None and entry.get("mutant") == " / ".join(plus):
                    count["equivalent"] += 1
                    details.append(_detail(name, f"equivalent: {entry['reason']}", minus, plus))
                    continue
                stale = " (stale equivalent entry)" if entry is not None else ""
                survivors.append(name)
                details.append(_detail(name, f"**{verdict}**{stale}", minus, plus))
                stub.append(f"{name}:\n  mutant: {json.dumps(' / '.join(plus), ensure_ascii=False)}\n  reason: TODO")
            count[verdict] += 1
        total = sum(count.values())
        killed = count["killed"] + count["timeout"]
        scored = total - count["equivalent"] - count["skipped"] - count["not checked"]
        score = 100.0 * killed / scored if scored else 100.0
        if scored and score < args.threshold:
            failing.append(f"{module} {score:.1f} %")
        totals.update(count)
        if count["not checked"]:
            unchecked.append(f"{module} ({count['not checked']} of {total})")
        shown = "not run" if not scored else f"{score:.1f} %" + (" (partial)" if count["not checked"] else "")
        rows.append(f"| {module} | {shown} | {count['killed']} | {count['timeout']} | "
                    f"{count['survived'] + count['no tests'] + count['suspicious']} | {count['equivalent']} | "
                    f"{count['not checked']} | {total} |")

    t_killed = totals["killed"] + totals["timeout"]
    t_scored = sum(totals.values()) - totals["equivalent"] - totals["skipped"] - totals["not checked"]
    t_score = 100.0 * t_killed / t_scored if t_scored else 100.0
    rows.append(f"| **all** | **{t_score:.1f} %** | {totals['killed']} | {totals['timeout']} | "
                f"{totals['survived'] + totals['no tests'] + totals['suspicious']} | {totals['equivalent']} | "
                f"{totals['not checked']} | {sum(totals.values())} |")
    text = "\n".join([
        f"# {args.title}",
        "",
        "Generated by `scripts/mutation.sh` (mutmut 3 over the pure core, fast unit tests only; see README).",
        "Do not edit by hand: equivalent mutants and their reasons live in `tests/mutation_equivalents.yml`.",
        "",
        f"Score = (killed + timeout) / (total − equivalent − not checked); threshold {args.threshold:.0f} %.",
        "",
        "| module | score | killed | timeout | survived | equivalent | not checked | total |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        *([f"Not checked yet (the run was stopped or not started): {', '.join(unchecked)}.", ""] if unchecked else []),
        *([f"Carried over from the previous report (no results in mutants/ for them this time): "
           f"{', '.join(carried)}.", ""] if carried else []),
        *([f"Changed since their carried-over row (rerun them): {', '.join(changed)}.", ""] if changed else []),
        "## Surviving and equivalent mutants",
        "",
        *(details or ["None."]),
        "",
    ])
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    if stub:
        print(f"\n# {len(stub)} survivor(s); stanzas for {args.equivalents} if truly equivalent:", file=sys.stderr)
        print("\n".join(stub), file=sys.stderr)
    print(f"mutation score {t_score:.1f} % ({t_killed}/{t_scored})", file=sys.stderr)
    if failing:
        print(f"below {args.threshold:.0f} %: {', '.join(failing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
