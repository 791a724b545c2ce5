"""The ``procc`` command line. The only module that prints or exits.

Every user error becomes a message and an exit status (1 for problems in
sources or failed runs, 2 for usage), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from compiler import __version__
from compiler.errors import CompileError, ProccError, UsageError
from compiler.i18n import LANGS

if TYPE_CHECKING:
    from compiler.project import KpisProvider


def _compile(args: argparse.Namespace) -> int:
    from compiler import project

    root = project.find_root()
    files = project.sources(root, args.paths)
    if not files:
        raise UsageError(f"procc: no procedures found in {root / project.PROCEDURES}")
    outs, diags = project.compile_all(files, root, args.lang, Path(args.docs_dir), Path(args.playbooks_dir),
                                      kpis=_kpis())
    for d in diags:
        print(d.format(), file=sys.stderr)
    written = [o for o in outs if project.write(o)]
    for o in written:
        print(f"wrote {project.display(o.path, root)}")
    if not args.quiet:
        print(f"procc: {len(outs)} file(s) generated from {len(files) - len({d.path for d in diags})} "
              f"procedure(s), {len(written)} changed")
    return 1 if diags else 0


def _kpis() -> KpisProvider | None:
    """The run-history figures for runbooks, when the history package is present."""
    try:
        from compiler.history.kpis import kpis_for  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    provider: KpisProvider = kpis_for
    return provider


def _check(args: argparse.Namespace) -> int:
    from compiler import project

    root = project.find_root()
    files = project.sources(root, args.paths)
    outs, diags = project.compile_all(files, root, args.lang, Path(args.docs_dir), Path(args.playbooks_dir),
                                      kpis=_kpis())
    for d in diags:
        print(d.format(), file=sys.stderr)
    bad = 0
    for o in outs:
        why = project.stale(o)
        if why:
            bad += 1
            print(f"{project.display(o.path, root)}: {why} (run: procc compile)", file=sys.stderr)
    if bad or diags:
        print(f"procc check: {bad} generated file(s) missing or stale", file=sys.stderr)
        return 1
    print(f"procc check: {len(outs)} generated file(s) up to date")
    return 0


def _template(args: argparse.Namespace) -> int:
    from compiler.blank import template

    sys.stdout.write(template())
    return 0


def _schema(args: argparse.Namespace) -> int:
    from compiler.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


def _run(args: argparse.Namespace) -> int:
    from compiler import params, project
    from compiler.parse import parse_file
    from compiler.runner import RunRequest, execute

    root = project.find_root()
    path = project.resolve_one(args.proc, root)
    src = parse_file(path, project.display(path, root))
    values, secrets = params.resolve(src.procedure, params.parse_assignments(args.extra_vars))
    inventory = str(Path(args.inventory).resolve()) if args.inventory else None
    req = RunRequest(source=src, root=root, params=values, secret_names=secrets,
                     inventory=inventory, limit=args.limit, fail_at=args.fail_at, check=args.check,
                     lang=args.lang)

    def show(event: dict[str, object]) -> None:
        data = event.get("event_data")
        if not isinstance(data, dict):
            return
        kind = str(event.get("event", ""))
        task = str(data.get("task", ""))
        host = str(data.get("host", ""))
        if kind in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable") and task:
            status = {"runner_on_ok": "ok", "runner_on_failed": "FAILED",
                      "runner_on_unreachable": "UNREACHABLE"}[kind]
            if data.get("ignore_errors"):
                status = "failed (ignored)"
            print(f"{status:>8}  {host}  {task}", flush=True)

    print(f"procc run {src.procedure.id} v{src.procedure.version} (run {req.run_id})", flush=True)
    result = execute(req, on_event=show)
    if result.summary:
        print(result.summary)
    outcome = "drill passed" if result.drill_passed else ("success" if result.rc == 0 else "failed")
    print(f"procc: {outcome}; artifacts in {project.display(result.data_dir, root)}")
    return 0 if result.rc == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every procc command."""
    parser = argparse.ArgumentParser(
        prog="procc",
        description="Compile YAML procedures into Markdown runbooks and Ansible playbooks, and run them.",
    )
    parser.add_argument("--version", action="version", version=f"procc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def outputs_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("paths", nargs="*", metavar="PATH",
                       help="procedure files, directories or ids (default: procedures/*.yml)")
        p.add_argument("--docs-dir", default="docs/backend/procedures", metavar="DIR",
                       help="where runbooks go (default: %(default)s)")
        p.add_argument("--playbooks-dir", default="playbooks", metavar="DIR",
                       help="where playbooks go (default: %(default)s)")
        p.add_argument("--lang", choices=LANGS, default="es", help="runbook language (default: es)")

    p = sub.add_parser("compile", help="compile procedures into runbooks and playbooks")
    outputs_opts(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print only changed files")
    p.set_defaults(func=_compile)

    p = sub.add_parser("check", help="fail if a generated file is missing or stale")
    outputs_opts(p)
    p.set_defaults(func=_check)

    p = sub.add_parser("template", help="print the blank procedure template (Markdown)")
    p.set_defaults(func=_template)

    p = sub.add_parser("schema", help="print the JSON Schema of the procedure format")
    p.set_defaults(func=_schema)

    p = sub.add_parser("run", help="compile and execute a procedure through ansible-runner")
    p.add_argument("proc", metavar="PROC", help="procedure id (PROC-BACKEND-001) or source path")
    p.add_argument("-i", "--inventory", metavar="INVENTORY",
                   help="Ansible inventory (default: localhost, local connection)")
    p.add_argument("-e", "--extra-vars", action="append", default=[], metavar="NAME=VALUE",
                   help="parameter value (repeatable)")
    p.add_argument("--limit", metavar="PATTERN", help="limit the run to these hosts")
    p.add_argument("--check", action="store_true", help="Ansible check mode (simulate)")
    p.add_argument("--fail-at", type=int, metavar="K", help="drill: make step K fail and roll back")
    p.add_argument("--lang", choices=LANGS, default="es", help="language of task names (default: es)")
    p.set_defaults(func=_run)
    from compiler.lint.cli import add_parsers as lint_parsers  # lint and explain

    lint_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run procc with ``argv``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except CompileError as exc:
        for d in exc.diagnostics:
            print(d.format(), file=sys.stderr)
        return exc.exit_code
    except ProccError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("procc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug in procc, not in the user's input
        if os.environ.get("PROCC_DEBUG"):
            raise
        print(f"procc: internal error: {type(exc).__name__}: {exc} "
              "(set PROCC_DEBUG=1 for the traceback and report it)", file=sys.stderr)
        return 3

