"""Runbooks rendered for one environment: ``procc compile --env NAME [-e k=v ...]``.

Written apart from the committed, generic runbooks (``.procc/runbooks/NAME/``
by default, never into the generic runbooks' folder) so that neither can be
taken for the other, and ``procc check`` never asks for them.
"""

from __future__ import annotations

from pathlib import Path

from compiler import envvalues, runbook
from compiler.errors import Diagnostic, UsageError
from compiler.i18n import Lang
from compiler.loader import project_role_docs
from compiler.project import KpisProvider, Output, display, parse_all

ENV_RUNBOOKS = Path(".procc") / "runbooks"


def out_dir(root: Path, env: str, docs_dir: str | None, generic: Path) -> Path:
    """Where the runbooks of ``env`` go; refuses the generic runbooks' folder."""
    where = (root / docs_dir) if docs_dir else root / ENV_RUNBOOKS / env
    if where.resolve() == generic.resolve():
        raise UsageError(f"procc: --env writes the runbooks of one environment; not into {display(generic, root)}, "
                         "where the generic runbooks are (choose another --env-docs-dir)")
    return where


def outputs(files: list[Path], root: Path, env: str, extra: list[str], lang: Lang, where: Path,
            kpis: KpisProvider | None = None) -> tuple[list[Output], list[Diagnostic]]:
    """The runbook of each procedure in ``files`` with ``env``'s values (nothing written)."""
    roles = project_role_docs(root)
    sources, diags = parse_all(files, root)
    outs: list[Output] = []
    declared: set[str] = set()
    for src in sources:
        values = envvalues.load(root, env, src.procedure, extra)
        figures = kpis(src, root, lang) if kpis else None
        text = runbook.render(src.procedure, lang, source=src.display, kpis=figures, roles=roles, values=values)
        outs.append(Output(where / f"{src.path.stem}.md", text))
        declared.update(src.procedure.parameters)
    unknown = [e.partition("=")[0] for e in extra if e.partition("=")[0] not in declared]
    if unknown and outs:
        raise UsageError(f"procc: -e {unknown[0]}: not a parameter of the procedures compiled")
    return outs, diags
