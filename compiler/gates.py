"""What must hold before a procedure runs: inventory, approval, staging first.

Pure decisions over the procedure, the options and the history; the CLI
asks the questions and prints. A refused gate raises :class:`GateError`
(exit 2) with a message that says how to get through it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from compiler.errors import UsageError
from compiler.history import trust
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


def inventory_env(root: Path, inventory: str | Path) -> str | None:
    """The environment an inventory path belongs to: NAME for ``inventories/NAME[/...]`` of the project.

    Checked on the path as given (made absolute, not resolved) and on its
    resolved target, so that neither a symlink into ``inventories/production/``
    nor a symlink out of it hides a production inventory.
    """
    p = Path(os.path.abspath(inventory))
    bases = {Path(os.path.abspath(root / INVENTORIES)), (root / INVENTORIES).resolve()}
    names: set[str] = set()
    for cand in (p, p.resolve()):
        for base in bases:
            if cand.is_relative_to(base) and cand != base:
                first = cand.relative_to(base).parts[0]
                # inventories/production.yml is production too
                names.add(first.split(".")[0] if cand.parent == base else first)
    if PRODUCTION in names:
        return PRODUCTION
    return min(names) if names else None


def targets(root: Path, env: str | None, inventory: str | None) -> tuple[str | None, str | None]:
    """The (environment, inventory path) of a run from ``--env`` and ``-i``.

    ``-i inventories/production/...`` is production with or without ``--env``;
    an ``--env`` whose inventory belongs to another environment is refused.
    """
    if env and inventory:
        raise GateError("procc: give --env or -i, not both")
    if inventory and "," in inventory and not os.path.exists(inventory):
        return None, inventory  # an inline host list ("web1,web2,"): no environment
    inv = str(env_inventory(root, env)) if env else (os.path.abspath(inventory) if inventory else None)
    derived = inventory_env(root, inv) if inv else None
    if env and derived and derived != env:
        raise GateError(f"procc: --env {env} conflicts with its inventory {inv}, "
                        f"which belongs to environment {derived}")
    return env or derived, inv


def identities(executor: str) -> set[str]:
    """Every name the person running procc goes by (case-folded)."""
    import getpass

    names = {executor}
    names.update(os.environ.get(v, "") for v in ("USER", "LOGNAME", "SUDO_USER", "PROCC_EXECUTOR"))
    with contextlib.suppress(KeyError, OSError):
        names.add(getpass.getuser())
    try:
        import pwd

        names.add(pwd.getpwuid(os.getuid()).pw_name)
    except (KeyError, ImportError):
        pass
    return {n.strip().casefold() for n in names if n and n.strip()}


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
            interactive: bool, ask: Callable[[str], str], executor: str,
            me: Iterable[str] = ()) -> Approval:
    """The approval of a run; raises :class:`GateError` when it cannot be had.

    ``me`` are the names of the executor (see :func:`identities`): a critical
    procedure is never approved with ``--approved-by`` one of them.
    """
    if yes and not interactive:
        raise GateError("procc: --yes needs a terminal (it stands for typing the confirmation); "
                        "without one, pass --approved-by NAME")
    why = needs_approval(proc, env)
    mine = {executor.strip().casefold()} | set(me)
    if approved_by is not None:
        approved_by = _approver(proc, approved_by, mine, "--approved-by")
    if why is None:
        return Approval(approved_by, "flag" if approved_by else "not-needed")
    if approved_by:
        return Approval(approved_by, "flag")
    if not interactive:
        raise GateError(
            f"procc: approval required ({why}) and there is no terminal to ask: "
            "pass --approved-by NAME to record who approved this run")
    critical = proc.criticality == "critical"
    if yes and critical:
        raise GateError(f"procc: {proc.id} is critical: --yes cannot approve it, since the person running it "
                        "cannot approve it; pass --approved-by NAME (someone else)")
    if yes:
        return Approval(executor, "interactive")
    answer = ask(f"{impact_text(proc)}\n\nApproval required ({why}). "
                 f"Type the procedure id ({proc.id}) to {'confirm' if critical else 'approve as ' + executor}: ")
    if answer.strip() != proc.id:
        raise GateError("procc: not approved; nothing was run")
    if critical:
        # A critical procedure is approved by someone other than its executor:
        # ask who (recorded as an attestation, like --approved-by).
        name = ask("Approved by (the person who approved this run, not you): ")
        return Approval(_approver(proc, name, mine, "the approver"), "interactive")
    return Approval(executor, "interactive")


def _approver(proc: Procedure, name: str, mine: set[str], what: str) -> str:
    """The approver's name, checked: a name, printable, and not the executor's for a critical procedure."""
    name = name.strip()
    if not name:
        raise GateError(f"procc: {what} needs a name")
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or len(name) > 200:
        raise GateError(f"procc: {what} must be a printable name of at most 200 characters")
    if proc.criticality == "critical" and name.casefold() in mine:
        raise GateError(f"procc: refused: {proc.id} is critical and cannot be approved by the person "
                        f"running it ({name}); {what} must be someone else")
    return name


def _staging_pass(proc: Procedure, run: Run) -> bool:
    return run.get("environment") == STAGING and run.get("version") == proc.version \
        and run.finished and run.succeeded and not run.get("check")


def signed(run: Run) -> bool:
    """Whether both records of ``run`` were written by procc (valid signatures)."""
    return trust.verify(run.start) and trust.verify(run.end)


def staging_ok(proc: Procedure, runs: list[Run]) -> Run | None:
    """The latest successful staging run or drill of this version that procc itself recorded."""
    for run in reversed(runs):
        if _staging_pass(proc, run) and signed(run):
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
    unsigned = sum(1 for r in runs if _staging_pass(proc, r) and not signed(r))
    if unsigned:
        msg += (f" recorded by procc ({unsigned} staging record(s) in the history are not signed by procc "
                f"with this history key: hand-written, edited or signed with another key; they do not count)")
    if force:
        return f"forced: {msg}"
    raise GateError(f"procc: {msg}: run it with --env staging first "
                    "(or --force, which is recorded)")
