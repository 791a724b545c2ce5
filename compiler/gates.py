"""What must hold before a procedure runs: inventory, approval, staging first.

Pure decisions over the procedure, the options and the history; the CLI
asks the questions and prints. A refused gate raises :class:`GateError`
(exit 2) with a message that says how to get through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from compiler.errors import UsageError
from compiler.history.store import Run
from compiler.model import Procedure

PRODUCTION = "production"
STAGING = "staging"
INVENTORIES = Path("inventories")


class GateError(UsageError):
    """A run refused before anything ran (exit 2)."""


def env_inventory(root: Path, env: str) -> Path:
    """The inventory of environment ``env``: ``inventories/<env>/`` (dir or hosts file)."""
    base = root / INVENTORIES / env
    if base.is_dir():
        return base
    for candidate in (base.with_suffix(".yml"), base.with_suffix(".ini"), base):
        if candidate.is_file():
            return candidate
    raise GateError(f"procc: no inventory for environment '{env}': expected {base}/")


def needs_approval(proc: Procedure, env: str | None) -> str | None:
    """Why this run needs an approval, or None."""
    if proc.criticality == "critical":
        return f"{proc.id} has criticality critical"
    if env == PRODUCTION:
        return "the target environment is production"
    return None


def impact_text(proc: Procedure) -> str:
    """The impact section, shown before an interactive confirmation."""
    i = proc.purpose.impact
    return "\n".join([
        f"{proc.id} v{proc.version}: {proc.title} (criticality {proc.criticality})",
        f"  Usuarios: {i.users or '-'}",
        f"  Sistemas: {i.systems or '-'}",
        f"  Datos:    {i.data or '-'}",
        f"  SLA:      {i.sla or '-'}",
    ])


@dataclass(frozen=True)
class Approval:
    """Who approved the run and how."""

    approved_by: str | None
    how: str  # "flag" | "interactive" | "not-needed"


def approve(proc: Procedure, env: str | None, approved_by: str | None, yes: bool,
            interactive: bool, ask: Callable[[str], str], executor: str) -> Approval:
    """The approval of a run; raises :class:`GateError` when it cannot be had."""
    why = needs_approval(proc, env)
    if why is None:
        return Approval(approved_by, "flag" if approved_by else "not-needed")
    if approved_by:
        return Approval(approved_by, "flag")
    if not interactive:
        raise GateError(
            f"procc: approval required ({why}) and there is no terminal to ask: "
            "pass --approved-by NAME to record who approved this run")
    if yes:
        return Approval(executor, "interactive")
    answer = ask(f"{impact_text(proc)}\n\nApproval required ({why}). "
                 f"Type the procedure id ({proc.id}) to approve as {executor}: ")
    if answer.strip() != proc.id:
        raise GateError("procc: not approved; nothing was run")
    return Approval(executor, "interactive")


def staging_ok(proc: Procedure, runs: list[Run]) -> Run | None:
    """The latest successful staging run or drill of this version, if any."""
    for run in reversed(runs):
        if run.get("environment") == STAGING and run.get("version") == proc.version \
                and run.finished and run.succeeded and not run.get("check"):
            return run
    return None


def production_gate(proc: Procedure, env: str | None, runs: list[Run], force: bool) -> str | None:
    """Refuse a critical procedure in production without a staging pass.

    Returns a note to record when ``force`` overrode the gate.
    """
    if env != PRODUCTION or proc.criticality != "critical":
        return None
    if staging_ok(proc, runs) is not None:
        return None
    msg = (f"{proc.id} v{proc.version} is critical and has no successful run or drill "
           f"in staging for this version")
    if force:
        return f"forced: {msg}"
    raise GateError(f"procc: {msg}: run it with --env staging first "
                    "(or --force, which is recorded)")
