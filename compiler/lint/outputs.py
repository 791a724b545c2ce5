"""``procc lint --outputs``: the ecosystem's linters on the generated files.

ansible-lint (profile production) and yamllint check the playbooks,
pymarkdown the runbooks, each with the project's committed configuration
(or, where the project has none, the defaults procc ships).
They run as subprocesses found next to ``sys.executable`` (never imported:
linting must not load ansible) and their findings become diagnostics. A
finding here is a compiler bug, not something to disable.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from compiler.errors import Diagnostic, Position

TIMEOUT = 600
#: The linter configurations procc ships (package data), used when a project has none.
DEFAULTS = Path(__file__).parent / "defaults"
_YAMLLINT = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): \[(?P<level>\w+)\] (?P<msg>.*?)(?: \((?P<rule>[\w-]+)\))?$")
_PYMARKDOWN = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<rule>MD\d+): (?P<msg>.*)$")


def tool(name: str) -> str | None:
    """The executable ``name`` installed next to the running Python, else on PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    for d in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(d) / name
        if d and candidate.exists():
            return str(candidate)
    return None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    # ansible-lint warns when the tools' directory is not first on PATH.
    env["PATH"] = os.pathsep.join([bindir, *[p for p in env.get("PATH", "").split(os.pathsep) if p != bindir]])
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    env["NO_COLOR"] = "1"
    return env


def _run(argv: Sequence[str], root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=root, env=_env(), capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def _rel(path: str, root: Path) -> str:
    p = Path(path)
    try:
        return (p if p.is_absolute() else (root / p)).resolve().relative_to(root).as_posix()
    except ValueError:
        return path


def _missing(name: str, display: str) -> Diagnostic:
    return Diagnostic(display, Position(1, 1), f"{name} is not installed next to {sys.executable}",
                      f"{name}:missing", "error")


def _failed(name: str, display: str, proc: subprocess.CompletedProcess[str]) -> Diagnostic:
    detail = (proc.stderr or proc.stdout).strip().splitlines()
    return Diagnostic(display, Position(1, 1),
                      f"{name} failed (rc {proc.returncode}): {detail[-1] if detail else 'no output'}",
                      f"{name}:failed", "error")


def _line_linter(name: str, args: list[str], pattern: re.Pattern[str], files: Sequence[Path],
                 root: Path) -> Iterator[Diagnostic]:
    """Run a linter that prints one ``path:line:col ... rule ... message`` line per finding."""
    exe = tool(name)
    if exe is None:
        yield _missing(name, _rel(str(files[0]), root))
        return
    proc = _run([exe, *args, *map(str, files)], root)
    found = False
    for line in proc.stdout.splitlines():
        m = pattern.match(line)
        if m:
            found = True
            yield Diagnostic(_rel(m["path"], root), Position(int(m["line"]), int(m["col"])),
                             m["msg"], f"{name}:{m['rule'] or 'syntax'}", "error")
    if proc.returncode not in (0, 1) or (proc.returncode and not found):
        yield _failed(name, _rel(str(files[0]), root), proc)


def config(root: Path, name: str, default: str) -> Path:
    """The project's own linter configuration ``name``, else the one procc ships.

    The shipped defaults are what procc's outputs are written to pass, so a
    project without a configuration still gets a meaningful check.
    """
    own = root / name
    return own if own.is_file() else DEFAULTS / default


def yamllint(files: Sequence[Path], root: Path) -> Iterator[Diagnostic]:
    """yamllint with the project's .yamllint (else procc's default)."""
    conf = config(root, ".yamllint", "yamllint.yml")
    yield from _line_linter("yamllint", ["-c", str(conf), "-f", "parsable"], _YAMLLINT, files, root)


def pymarkdown(files: Sequence[Path], root: Path) -> Iterator[Diagnostic]:
    """pymarkdown with the project's .pymarkdown.json (else procc's default)."""
    conf = config(root, ".pymarkdown.json", "pymarkdown.json")
    yield from _line_linter("pymarkdown", ["--config", str(conf), "scan"], _PYMARKDOWN, files, root)


def ansible_lint(files: Sequence[Path], root: Path) -> Iterator[Diagnostic]:
    """ansible-lint --profile production, read as Code Climate JSON."""
    exe = tool("ansible-lint")
    if exe is None:
        yield _missing("ansible-lint", _rel(str(files[0]), root))
        return
    proc = _run([exe, "--offline", "--profile", "production", "-f", "codeclimate", "-q",
                 *map(str, files)], root)
    try:
        issues: Any = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        yield _failed("ansible-lint", _rel(str(files[0]), root), proc)
        return
    for issue in issues if isinstance(issues, list) else []:
        loc = issue.get("location", {})
        begin = loc.get("positions", {}).get("begin") or {}
        line = int(begin.get("line") or loc.get("lines", {}).get("begin") or 1)
        col = int(begin.get("column") or 1)
        rule = str(issue.get("check_name", "unknown")).split(" ", 1)[0]
        if rule.startswith("[") and rule.endswith("]"):  # "[name[casing]]" -> "name[casing]"
            rule = rule[1:-1]
        yield Diagnostic(_rel(str(loc.get("path", files[0])), root), Position(line, col),
                         str(issue.get("description", "")), f"ansible-lint:{rule}", "error")
    if proc.returncode not in (0, 2) and not issues:
        yield _failed("ansible-lint", _rel(str(files[0]), root), proc)


def lint_outputs(playbooks: Sequence[Path], runbooks: Sequence[Path], root: Path) -> list[Diagnostic]:
    """Every finding of the three linters on the given generated files."""
    diags: list[Diagnostic] = []
    if playbooks:
        diags.extend(yamllint(playbooks, root))
        diags.extend(ansible_lint(playbooks, root))
    if runbooks:
        diags.extend(pymarkdown(runbooks, root))
    return sorted(diags)


def generated_files(sources: Sequence[Path], root: Path, docs_dir: Path,
                    playbooks_dir: Path) -> tuple[list[Path], list[Path], list[Diagnostic]]:
    """The committed playbooks and runbooks of ``sources``; missing ones become findings."""
    playbooks: list[Path] = []
    runbooks: list[Path] = []
    missing: list[Diagnostic] = []
    for src in sources:
        for out, bucket in ((root / playbooks_dir / f"{src.stem}.yml", playbooks),
                            (root / docs_dir / f"{src.stem}.md", runbooks)):
            if out.exists():
                bucket.append(out)
            else:
                missing.append(Diagnostic(_rel(str(out), root), Position(1, 1),
                                          "generated file is missing (run: procc compile)",
                                          "output-missing", "error"))
    return playbooks, runbooks, missing
