"""The ``procc lint`` and ``procc explain`` subcommands (wired in by compiler.cli).

Argument parsing only at import time; the rules and the reports are
imported inside the handlers, like every other procc command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from compiler.errors import UsageError

FORMATS = ("text", "json", "sarif", "github")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of at least 1")
    return int(text)


def _list_rules() -> int:
    from compiler.lint.registry import RULES

    width = max(len(r.id) for r in RULES)
    tags = max(len(",".join(r.perspectives)) for r in RULES)
    for r in RULES:
        print(f"{r.id:<{width}}  {r.severity:<7}  {','.join(r.perspectives):<{tags}}  {r.summary}")
    return 0


def _lint(args: argparse.Namespace) -> int:
    from compiler import project
    from compiler.lint import outputs, report
    from compiler.lint.cached import lint_catalog, settings

    if args.list_rules:
        return _list_rules()
    root = project.find_root()
    files = project.sources(root, args.paths)
    if not files:
        raise UsageError(f"procc lint: no procedures found in {root / project.PROCEDURES}")
    result = lint_catalog([(f, project.display(f, root)) for f in files],
                          settings(root, args.today, cache=not args.no_cache), jobs=args.jobs)
    if args.outputs:
        playbooks, runbooks, missing = outputs.generated_files(
            files, root, Path(args.docs_dir), Path(args.playbooks_dir))
        result.findings.extend(missing)
        result.findings.extend(outputs.lint_outputs(playbooks, runbooks, root))
        result.files += len(playbooks) + len(runbooks)
        result.sort()
    sys.stdout.write(report.render(result, args.format))
    return result.exit_code(strict=args.strict)


def _explain(args: argparse.Namespace) -> int:
    from compiler import codes
    from compiler.lint.registry import by_id

    rule = by_id().get(args.rule)
    if rule is None:
        text = codes.explain(args.rule)
        if text is None:
            raise UsageError(f"procc explain: no rule or diagnostic code '{args.rule}' "
                             "(see: procc lint --list-rules)")
        sys.stdout.write(text)
        return 0
    print(f"{rule.id} ({rule.severity}; {', '.join(rule.perspectives)})\n")
    print(rule.doc())
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lint`` and ``explain`` to procc's subcommands."""
    p = sub.add_parser("lint", help="review procedures from the devops, sre, dev, dba, "
                                    "security and governance perspectives")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="procedure files, directories or ids (default: procedures/*.yml)")
    p.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    p.add_argument("--strict", action="store_true", help="fail on warnings and infos too")
    p.add_argument("--list-rules", action="store_true", help="print the rules and exit")
    p.add_argument("--outputs", action="store_true",
                   help="also run ansible-lint, yamllint and pymarkdown on the generated files")
    p.add_argument("--today", type=_date, metavar="YYYY-MM-DD",
                   help="the date staleness is measured against (default: today)")
    p.add_argument("--no-cache", action="store_true",
                   help="lint every file again (default: reuse .procc/cache/ for unchanged files)")
    p.add_argument("-j", "--jobs", type=_positive, metavar="N",
                   help="worker processes for the files that miss the cache (default: the CPUs)")
    p.add_argument("--docs-dir", default="docs/backend/procedures", metavar="DIR",
                   help="where runbooks are (default: %(default)s)")
    p.add_argument("--playbooks-dir", default="playbooks", metavar="DIR",
                   help="where playbooks are (default: %(default)s)")
    p.set_defaults(func=_lint)

    p = sub.add_parser("explain", help="print the documentation of a lint rule or a diagnostic code")
    p.add_argument("rule", metavar="CODE", help="lint rule id or diagnostic code, e.g. step-missing-validation, "
                   "yaml-syntax, undeclared-parameter")
    p.set_defaults(func=_explain)
