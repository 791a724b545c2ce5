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

from compiler.errors import CompileError, ProccError, UsageError
from compiler.i18n import LANGS

if TYPE_CHECKING:
    from compiler.project import Output


def _generate(args: argparse.Namespace, require: bool, write: bool) -> tuple[Path, list[Path], list[Path], int]:
    """Build the procedures ``compile`` and ``check`` are about (:mod:`compiler.build`): outputs written
    (``write``) or compared with the files on disk; prints the diagnostics of every file, in path order.

    Returns the root, the sources, the files written (compile) or missing or stale (check, printed),
    and how many sources did not compile.
    """
    from compiler import build, project

    root = project.find_root()
    files = project.sources(root, args.paths)
    if not files and require:
        raise UsageError(f"procc: no procedures found in {root / project.PROCEDURES}")
    # Relative output directories are the project's, like every other path
    # procc uses: the same from the root, from procedures/ or from anywhere below.
    docs_dir, playbooks_dir = root / args.docs_dir, root / args.playbooks_dir
    from compiler import quickcard

    # A card is written by --quick; once a project has cards, compile and check keep them fresh.
    quick = bool(getattr(args, "quick", False) or (docs_dir / quickcard.QUICK_DIR).is_dir())
    s = build.settings(root, docs_dir, playbooks_dir, args.lang, quick, write, cache=not args.no_cache)
    results = build.build(files, s, jobs=args.jobs)
    changed = [path for r in results for path, _ in r.changed]
    outputs = sum(r.outputs for r in results)
    stale_lines = [f"{project.display(path, root)}: {why} (run: procc compile)"
                   for r in results for path, why in r.changed if why != "wrote"]
    # The index lists the whole catalog: written when compiling all of it, or a new procedure.
    index = _index(args, root, docs_dir, [r.row for r in results if r.row is not None])
    if index is not None:
        outputs += 1
        if write:
            if project.write(index):
                changed.append(index.path)
        elif why := project.stale(index):
            changed.append(index.path)
            stale_lines.append(f"{project.display(index.path, root)}: {why} (run: procc compile)")
    seen: set[tuple[str, int]] = set()
    for r in results:
        for problem in r.problems:  # a bad history line is skipped, never fatal: warn once per line
            if (problem.path, problem.line) not in seen:
                seen.add((problem.path, problem.line))
                print(problem.format(), file=sys.stderr)
    for r in results:
        for d in r.diags:
            print(d.format(), file=sys.stderr)
    for line in stale_lines:
        print(line, file=sys.stderr)
    args.outputs_count = outputs
    return root, files, changed, sum(1 for r in results if r.diags)


def _index(args: argparse.Namespace, root: Path, docs_dir: Path, rows: list[dict[str, str]]) -> Output | None:
    """The catalog index: from the rows of the build when it covered the whole catalog, else by parsing it."""
    from compiler import catalog_index, project

    if not args.paths:
        return project.Output(docs_dir / catalog_index.INDEX_NAME, catalog_index.render_rows(rows, args.lang))
    if getattr(args, "index", False):
        from compiler.history.kpis import kpis_for

        return catalog_index.output(root, docs_dir, args.lang, kpis_for)
    return None


def _compile(args: argparse.Namespace) -> int:
    from compiler import project

    if args.env or args.extra_vars:
        return _compile_env(args)
    root, files, written, bad_files = _generate(args, require=True, write=True)
    for path in written:
        print(f"wrote {project.display(path, root)}")
    if not args.quiet:
        print(f"procc: {args.outputs_count} file(s) generated from {len(files) - bad_files} "
              f"procedure(s), {len(written)} changed")
    return 1 if bad_files else 0


def _compile_env(args: argparse.Namespace) -> int:
    """``procc compile --env NAME [-e k=v]``: runbooks with one environment's values, apart from the generic ones."""
    from compiler import envrunbook, project
    from compiler.history.kpis import kpis_for

    if not args.env:
        raise UsageError("procc: -e gives a value to a runbook of one environment: add --env NAME")
    root = project.find_root()
    files = project.sources(root, args.paths)
    if not files:
        raise UsageError(f"procc: no procedures found in {root / project.PROCEDURES}")
    generic = root / args.docs_dir
    where = envrunbook.out_dir(root, args.env, args.env_docs_dir, generic)
    outs, diags = envrunbook.outputs(files, root, args.env, args.extra_vars, args.lang, where, kpis=kpis_for)
    for d in diags:
        print(d.format(), file=sys.stderr)
    written = [o for o in outs if project.write(o)]
    for o in written:
        print(f"wrote {project.display(o.path, root)}")
    if not args.quiet:
        print(f"procc: {len(outs)} runbook(s) of environment {args.env} in {project.display(where, root)}, "
              f"{len(written)} changed")
    return 1 if diags else 0


def _check(args: argparse.Namespace) -> int:
    _, _, bad, bad_files = _generate(args, require=False, write=False)
    if bad or bad_files:
        print(f"procc check: {len(bad)} generated file(s) missing or stale", file=sys.stderr)
        return 1
    print(f"procc check: {args.outputs_count} generated file(s) up to date")
    return 0


def _template(args: argparse.Namespace) -> int:
    from compiler.blank import template

    sys.stdout.write(template())
    return 0


def _init(args: argparse.Namespace) -> int:
    from compiler.scaffold import init

    target = Path(args.dir)
    written = init(target)
    for path in written:
        print(f"created {path}")
    print(f"procc init: a new project in {target}. Next, from there:\n"
          "  procc compile            # runbooks and playbooks of procedures/*.yml\n"
          "  procc lint               # the review of every procedure\n"
          "  procc run PROC-APP-001   # run the first procedure here (localhost)")
    return 0


def _molecule(args: argparse.Namespace) -> int:
    """``procc molecule``: a Molecule scenario drilling every step of one procedure on real test hosts."""
    from compiler import molecule, project
    from compiler.parse import parse_file

    root = project.find_root()
    src = project.resolve_one(args.proc, root)
    source = parse_file(src, project.display(src, root))
    slug = source.procedure.id.lower()
    out = Path(args.out) if args.out else Path("molecule") / slug
    out = out if out.is_absolute() else Path.cwd() / out
    if not 1 <= args.hosts <= 50:
        raise UsageError("procc molecule: --hosts must be between 1 and 50")
    scenario = molecule.generate(source.procedure, out, root, hosts=args.hosts, lang=args.lang,
                                 source=source.display)
    written = 0
    for rel, text in sorted(scenario.files.items()):
        path = out / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"procc molecule: cannot create {path.parent}: {exc.strerror or exc}") from None
        if project.write(project.Output(path, text)):
            written += 1
            print(f"wrote {project.display(path, root)}")
    print(f"procc molecule: scenario '{scenario.name}' for {source.procedure.id} in {project.display(out, root)} "
          f"({args.hosts} host(s), {len(source.procedure.steps)} drill(s)), {written} file(s) changed; "
          f"fill in prepare.yml, then: molecule test -s {scenario.name}")
    return 0


def _new(args: argparse.Namespace) -> int:
    """``procc new``: a new procedure source, then compiled at once."""
    from compiler import project
    from compiler.newproc import new

    root = project.find_root()
    path = new(root, args.type, args.title, from_id=args.from_id, area=args.area)
    rel = project.display(path, root)
    print(f"created {rel}")
    args.paths, args.quiet, args.quick, args.index = [rel], True, False, True
    args.env, args.extra_vars, args.env_docs_dir = None, [], None  # the generic runbook, not an environment's
    code = _compile(args)
    print(f"procc new: fill in every TODO of {rel}; 'procc lint {rel}' lists what is left")
    return code


def _site(args: argparse.Namespace) -> int:
    """``procc site``: the catalog as a website (MkDocs), in site/."""
    from compiler import project, site

    root = project.find_root()
    out = Path(args.out)
    out = out if out.is_absolute() else root / out
    cfg = site.stage(root, root / args.docs_dir, out, args.title)
    print(f"procc site: wrote {project.display(cfg, root)}")
    if site.mermaid_js(root) is None:
        print("procc site: no local Mermaid script (scripts/site-assets.sh vendors it); "
              "the diagrams load it from a CDN", file=sys.stderr)
    if args.no_build:
        return 0
    site.build(cfg)
    print(f"procc site: built {project.display(out, root)}/index.html; serve it with: "
          f"python3 -m http.server -d {project.display(out, root)} 8000")
    return 0


def _awx(args: argparse.Namespace) -> int:
    """``procc awx``: job template definitions and surveys for AWX / Automation Controller."""
    from compiler import awx, project
    from compiler.parse import parse_file

    root = project.find_root()
    files = project.sources(root, args.paths)
    if not files:
        raise UsageError(f"procc: no procedures found in {root / project.PROCEDURES}")
    out_dir = Path(args.out)
    out_dir = out_dir if out_dir.is_absolute() else root / out_dir
    opts = awx.Options(playbooks_dir=args.playbooks_dir, lang=args.lang, survey_defaults=args.survey_defaults)
    bad = written = 0
    for f in files:
        try:
            outs = awx.outputs(parse_file(f, project.display(f, root)), out_dir, opts, args.out)
        except CompileError as exc:
            for d in exc.diagnostics:
                print(d.format(), file=sys.stderr)
            bad += 1
            continue
        for o in outs:
            if project.write(o):
                written += 1
                print(f"wrote {project.display(o.path, root)}")
    print(f"procc awx: job templates of {len(files) - bad} procedure(s) in {project.display(out_dir, root)}, "
          f"{written} file(s) changed")
    return 1 if bad else 0


def _schema(args: argparse.Namespace) -> int:
    from compiler.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


def _run(args: argparse.Namespace) -> int:
    from compiler.runcli import run_cmd  # the run commands live in compiler/runcli.py

    return run_cmd(args)


def _history(args: argparse.Namespace) -> int:
    from compiler.runcli import history_cmd

    return history_cmd(args)


def _rollback(args: argparse.Namespace) -> int:
    from compiler.runcli import rollback_cmd

    return rollback_cmd(args)


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1 (argparse turns the error into a usage message)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of at least 1")
    return int(text)


def _run_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``run``, ``history`` and ``rollback`` commands."""

    def target_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("proc", metavar="PROC", help="procedure id (PROC-BACKEND-001) or source path")
        where = p.add_mutually_exclusive_group()
        where.add_argument("-i", "--inventory", metavar="INVENTORY",
                           help="Ansible inventory (default: localhost, local connection)")
        where.add_argument("--env", metavar="NAME",
                           help="environment: use the inventory inventories/NAME/")
        p.add_argument("-e", "--extra-vars", action="append", default=[], metavar="NAME=VALUE",
                       help="parameter value (repeatable)")
        p.add_argument("--limit", metavar="PATTERN", help="limit the run to these hosts")
        p.add_argument("--forks", type=_positive, metavar="N",
                       help="hosts Ansible works on in parallel (default: the procedure's forks, else Ansible's)")
        p.add_argument("--approved-by", metavar="NAME", help="who approved this run (recorded)")
        p.add_argument("--yes", action="store_true",
                       help="approve interactively without typing (a terminal is still required)")
        p.add_argument("--vault-password-file", metavar="FILE",
                       help="ansible-vault password file, for secrets given as -e @vault.yml")
        p.add_argument("--lang", choices=LANGS, default="es", help="language of task names (default: es)")
        p.add_argument("--no-record", action="store_true", help="do not write the run history")
        p.add_argument("--fast", action="store_true",
                       help="run with the Mitogen strategy when installed (procedure-compiler[fast]); "
                            "also PROCC_FAST=1")
        p.add_argument("--runs-dir", metavar="DIR", default=os.environ.get("PROCC_RUNS_DIR"),
                       help="where each run's private data dir and artifacts go "
                            "(default: $PROCC_RUNS_DIR or .procc/runs/)")

    p = sub.add_parser("run", help="execute a procedure through ansible-runner, recorded in its history")
    target_opts(p)
    p.add_argument("--check", action="store_true",
                   help="Ansible check mode: read-only checks run for real, commands that change something "
                        "are listed as 'would run', nothing is rolled back; recorded as a check run")
    p.add_argument("--diff", action="store_true",
                   help="show the changes module steps make (or would make, with --check)")
    p.add_argument("--fail-at", type=int, metavar="K", help="drill: make step K fail and roll back")
    p.add_argument("--force", action="store_true",
                   help="run a critical procedure in production without a staging pass (recorded)")
    p.add_argument("--plain", action="store_true", help="line-per-event output even on a terminal")
    p.set_defaults(func=_run)

    p = sub.add_parser("history", help="show the run history of a procedure")
    p.add_argument("proc", metavar="PROC", help="procedure id or source path")
    p.add_argument("--json", action="store_true", help="one JSON object per run")
    p.add_argument("-n", "--last", type=int, default=20, metavar="N", help="show the last N runs")
    p.set_defaults(func=_history)

    p = sub.add_parser("rollback", help="run the rollbacks of an interrupted run, or the full rollback")
    target_opts(p)
    p.add_argument("--run", dest="run_id", metavar="RUN_ID",
                   help="roll back the steps this run had started (default: the full rollback)")
    p.add_argument("--force", action="store_true",
                   help="roll back a run that already rolled back cleanly (recorded)")
    p.add_argument("--plain", action="store_true", help="line-per-event output even on a terminal")
    p.set_defaults(func=_rollback)


class _Version(argparse.Action):
    """``--version``, reading the installed version only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        import compiler

        print(f"procc {compiler.__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every procc command."""
    parser = argparse.ArgumentParser(
        prog="procc",
        description="Compile YAML procedures into Markdown runbooks and Ansible playbooks, and run them.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show procc's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def outputs_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("paths", nargs="*", metavar="PATH",
                       help="procedure files, directories or ids (default: procedures/*.yml)")
        p.add_argument("--docs-dir", default="docs/backend/procedures", metavar="DIR",
                       help="where runbooks go, relative to the project root (default: %(default)s)")
        p.add_argument("--playbooks-dir", default="playbooks", metavar="DIR",
                       help="where playbooks go, relative to the project root (default: %(default)s)")
        p.add_argument("--lang", choices=LANGS, default="es", help="runbook language (default: es)")
        p.add_argument("--no-cache", action="store_true",
                       help="compile every procedure again, ignoring .procc/cache/ (and not filling it)")
        p.add_argument("-j", "--jobs", type=_positive, metavar="N",
                       help="worker processes for procedures to compile (default: one per CPU)")

    p = sub.add_parser("compile", help="compile procedures into runbooks and playbooks")
    outputs_opts(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print only changed files")
    p.add_argument("--quick", action="store_true",
                   help="also write the one-page quick card of each procedure (DIR/quick/NAME.md)")
    p.add_argument("--env", metavar="NAME",
                   help="instead: runbooks with the values of inventories/NAME/ (and -e), in .procc/runbooks/NAME/ "
                        "(or --env-docs-dir); no playbook, and procc check never asks for them")
    p.add_argument("-e", "--extra-vars", action="append", default=[], metavar="NAME=VALUE",
                   help="with --env: a parameter value, beating the inventory's (repeatable)")
    p.add_argument("--env-docs-dir", metavar="DIR", help="with --env: where its runbooks go (relative to the root)")
    p.set_defaults(func=_compile)

    p = sub.add_parser("check", help="fail if a generated file is missing or stale")
    outputs_opts(p)
    p.set_defaults(func=_check)

    p = sub.add_parser("template", help="print the blank procedure template (Markdown)")
    p.set_defaults(func=_template)

    p = sub.add_parser("init", help="create a new procc project (procedures, inventories, ansible.cfg, docs)")
    p.add_argument("dir", nargs="?", default=".", metavar="DIR", help="where (default: the current directory)")
    p.set_defaults(func=_init)

    from compiler.newproc import TYPES

    p = sub.add_parser("new", help="write a new procedure source (next free number, the type's guidance)")
    p.add_argument("type", choices=TYPES, metavar="TYPE", help=f"procedure type: {', '.join(TYPES)}")
    p.add_argument("title", metavar="TITLE", help="the procedure's title")
    p.add_argument("--from", dest="from_id", metavar="PROC-ID", help="start from a copy of this procedure")
    p.add_argument("--area", metavar="AREA", help="id area (PROC-AREA-NNN; default: the catalog's usual one)")
    p.set_defaults(func=_new, docs_dir="docs/backend/procedures", playbooks_dir="playbooks",
                   lang="es", no_cache=False, jobs=None)

    p = sub.add_parser("site", help="build the catalog as a documentation website (MkDocs) in site/")
    p.add_argument("--docs-dir", default="docs/backend/procedures", metavar="DIR",
                   help="the generated runbooks and index (default: %(default)s)")
    p.add_argument("--out", default="site", metavar="DIR", help="where the site goes (default: %(default)s)")
    p.add_argument("--title", default="Procedimientos Operacionales - Backend", help="the site's name")
    p.add_argument("--no-build", action="store_true", help="only write the staged docs and mkdocs.yml")
    p.set_defaults(func=_site)

    p = sub.add_parser("awx", help="write AWX job templates with surveys for the compiled playbooks")
    p.add_argument("paths", nargs="*", metavar="PROC",
                   help="procedure files, directories or ids (default: procedures/*.yml)")
    p.add_argument("--out", default="awx", metavar="DIR", help="where the files go (default: %(default)s)")
    p.add_argument("--playbooks-dir", default="playbooks", metavar="DIR",
                   help="the compiled playbooks' folder in the AWX project (default: %(default)s)")
    p.add_argument("--lang", choices=LANGS, default="es", help="language of the survey's notes (default: es)")
    p.add_argument("--survey-defaults", action="store_true",
                   help="put parameter defaults in the survey (AWX then always sends them, over inventory vars)")
    p.set_defaults(func=_awx)

    p = sub.add_parser("molecule", help="write a Molecule scenario that drills every step of a procedure "
                                        "on real SSH test hosts")
    p.add_argument("proc", metavar="PROC", help="procedure file or id")
    p.add_argument("--out", metavar="DIR", help="scenario directory (default: molecule/<proc id in lowercase>)")
    p.add_argument("--hosts", type=int, default=2, metavar="N", help="test hosts (default: %(default)s)")
    p.add_argument("--lang", choices=LANGS, default="es", help="language of the playbook's task names (default: es)")
    p.set_defaults(func=_molecule)

    p = sub.add_parser("schema", help="print the JSON Schema of the procedure format")
    p.set_defaults(func=_schema)

    _run_parsers(sub)
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

