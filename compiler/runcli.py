"""The ``run``, ``history`` and ``rollback`` commands (the run half of the CLI).

Called only from :mod:`compiler.cli`; like it, the only place (with the
displays of :mod:`compiler.progress`) that prints for runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from compiler import gates, history, params, project
from compiler.errors import UsageError
from compiler.history.events import Tracker
from compiler.i18n import words
from compiler.model import Procedure
from compiler.parse import Source, parse_file
from compiler.progress import make_display
from compiler.recap import Recap
from compiler.runner import (
    RunRequest,
    execute,
    missing_inventory,
    mitogen_strategy_dir,
    no_hosts_message,
    playbook_vars_dirs,
    read_vault,
)
from compiler.session import NO_HOSTS, Outcome, RunContext, executor_name, rollback_commands, run


def _source(args: argparse.Namespace) -> tuple[Path, Source]:
    root = project.find_root()
    path = project.resolve_one(args.proc, root)
    if (path.resolve().parent.parent / project.PROCEDURES).is_dir() and path.resolve().parent.name == "procedures":
        # A source given by path belongs to its own project (its roles/,
        # history and inventories), wherever procc was started.
        root = path.resolve().parent.parent
    return root, parse_file(path, project.display(path, root))


def _values(args: argparse.Namespace, src: Source, may_supply: bool = False,
            captured: bool = False) -> tuple[dict[str, str], set[str]]:
    plain = [e for e in args.extra_vars if not e.startswith("@")]
    vaults = [e[1:] for e in args.extra_vars if e.startswith("@")]
    given = params.parse_assignments(plain)
    vaulted: set[str] = set()
    for v in vaults:
        if not args.vault_password_file:
            raise UsageError(f"procc: -e @{v} needs --vault-password-file")
        try:
            data = read_vault(Path(v), Path(args.vault_password_file))
        except Exception as exc:  # the vault library raises its own error types
            raise UsageError(f"procc: cannot read vault {v}: {type(exc).__name__}") from None
        given.update(data)
        vaulted |= set(data)
    given.update(_prompt_secrets(src, given))
    values, secrets = params.resolve(src.procedure, given, inventory_may_supply=may_supply, captured=captured)
    exposed = sorted(n for n in params.parse_assignments(plain) if n in secrets)
    for name in exposed:
        # Refusing would not help: the value is already in the process list
        # and the shell history. procc never passes it on (FIFO, masked).
        env = src.procedure.parameters[name].env
        instead = f"${env}, " if env else ""
        print(f"procc: WARNING: secret parameter '{name}' was given with -e: its value is visible in the "
              f"process list while procc runs and may be in your shell history; use {instead}"
              "a vault (-e @vault.yml) or the prompt instead", file=sys.stderr)
    # Values from a vault are secret even when not declared so.
    return values, secrets | (vaulted & set(values))


def _prompt_secrets(src: Source, given: dict[str, str]) -> dict[str, str]:
    """Ask on the terminal (no echo) for the required secrets that no other route gave."""
    if not sys.stdin.isatty():
        return {}
    import getpass
    import os

    out: dict[str, str] = {}
    for name, prm in sorted(src.procedure.parameters.items()):
        if not prm.secret or not prm.required or prm.default is not None or name in given:
            continue
        if prm.env and os.environ.get(prm.env) is not None:
            continue
        out[name] = getpass.getpass(f"procc: secret parameter '{name}' ({prm.description or 'no description'}): ")
    return out


def _runs_dir(args: argparse.Namespace) -> Path | None:
    return Path(args.runs_dir).resolve() if getattr(args, "runs_dir", None) else None


def _prepare(args: argparse.Namespace, captured: bool = False) -> tuple[
        Path, Source, dict[str, str], set[str], str | None, str, gates.Approval]:
    """What ``run`` and ``rollback`` both need first: source, parameters, targets, approval.

    ``captured``: ``-e`` may also give the values steps capture (``procc rollback``, run outside
    the run that captured them).
    """
    root, src = _source(args)
    # The environment comes from --env or from where the inventory lives.
    args.env, inventory = gates.targets(root, args.env, args.inventory)
    if missing_inventory(inventory):
        # Refused before anything runs or is recorded (ansible-runner would
        # read the path as inventory text and match nothing).
        pattern = args.limit or src.procedure.hosts
        raise gates.GateError(no_hosts_message(pattern, inventory) + ": the inventory does not exist")
    # An inventory (or group_vars/host_vars beside the playbooks) may give a
    # required parameter: then the playbook's own check decides, per host.
    may_supply = inventory is not None or bool(playbook_vars_dirs(root))
    values, secrets = _values(args, src, may_supply, captured)
    executor = executor_name()
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    approval = gates.approve(src.procedure, args.env, args.approved_by, args.yes, interactive, _ask, executor,
                             gates.identities(executor))
    return root, src, values, secrets, inventory, executor, approval


def _fast(args: argparse.Namespace) -> bool:
    """Whether the run takes the fast lane: ``--fast`` or ``PROCC_FAST=1``, and Mitogen is installed.

    Without Mitogen it is stock Ansible, said in one line (a setting shared
    by a team must not break the machines that lack the extra).
    """
    import os

    setting = os.environ.get("PROCC_FAST", "").strip().lower() in ("1", "true", "yes", "on")
    if not (getattr(args, "fast", False) or setting):
        return False
    if mitogen_strategy_dir() is None:
        print("procc: notice: --fast needs Mitogen (pip install 'procedure-compiler[fast]'); "
              "running with stock Ansible", file=sys.stderr)
        return False
    return True


def _ask(prompt: str) -> str:
    return input(prompt)


def run_cmd(args: argparse.Namespace) -> int:
    """``procc run``: gates, then the run, its live display and one summary."""
    if args.check and args.fail_at:
        raise UsageError("procc: --check cannot be combined with --fail-at: a drill fails a step after it ran, "
                         "and check mode does not run it")
    root, src, values, secrets, inventory, executor, approval = _prepare(args)
    proc = src.procedure
    runs, _ = history.read(history.history_path(root, proc.id))
    forced = gates.production_gate(proc, args.env, runs, args.force)
    if forced:
        print(f"procc: WARNING {forced}", file=sys.stderr)
    req = RunRequest(source=src, root=root, params=values, secret_names=secrets,
                     inventory=inventory, limit=args.limit, forks=args.forks, fail_at=args.fail_at,
                     check=args.check,
                     diff=args.diff, lang=args.lang, runs_dir=_runs_dir(args), fast=_fast(args))
    ctx = RunContext(environment=args.env, approved_by=approval.approved_by, forced=forced,
                     executor=executor, record=not args.no_record)
    tracker = Tracker(proc, args.lang)
    display = Recap(make_display(tracker, live=False if args.plain else None), check=args.check,
                    phase=lambda: tracker.event_phase)
    out = run(req, ctx, display, tracker, kill_jobs=_kill_jobs)
    _summary(out, src, req, root, values, secrets, display)
    return _finish(out, ctx, src, root)


def _finish(out: Outcome, ctx: RunContext, src: Source, root: Path) -> int:
    """The exit status of a run or rollback run, after its summary; refreshes the runbook when recorded."""
    if out.history_error:
        print(f"{out.history_error}; the run above is NOT recorded in the history", file=sys.stderr)
        return 1
    if out.outcome == NO_HOSTS:
        # Nothing ran: a usage error (recorded as no-hosts, which no statistic counts).
        print(out.result.summary, file=sys.stderr)
        return 2
    if ctx.record:
        _refresh_runbook(src, root)
    if out.interrupted:
        return 130
    return 0 if out.result.rc == 0 else 1


def _refresh_runbook(src: Source, root: Path) -> None:
    """Re-render the procedure's committed runbook so it shows the run just recorded.

    Only when the runbook is where ``procc compile`` puts it by default, in
    the language it already has; elsewhere ``procc compile`` does it.
    """
    from compiler.history.kpis import kpis_for

    docs = root / project.DEFAULT_DOCS
    runbook_path = docs / f"{src.path.stem}.md"
    if not runbook_path.is_file():
        return
    for lang in ("es", "en"):
        outs = project.outputs(src, docs, root / project.DEFAULT_PLAYBOOKS, lang, kpis_for, root)
        md = outs[0]
        if _same_language(runbook_path, md.text):
            if project.write(md):
                print(f"runbook updated with this run: {project.display(md.path, root)}")
            return


def _same_language(path: Path, text: str) -> bool:
    """Whether the runbook on disk is in the language of ``text`` (first section heading)."""
    def first_h2(t: str) -> str:
        return next((line for line in t.splitlines() if line.startswith("## ")), "")
    return first_h2(path.read_text(encoding="utf-8")) == first_h2(text)


def _kill_jobs(req: RunRequest, jobs: dict[str, str]) -> None:
    from compiler.rollbackplay import kill_jobs

    kill = RunRequest(source=req.source, root=req.root, params={}, inventory=req.inventory,
                      runs_dir=req.data_dir / "cleanup", playbook_text=kill_jobs(req.source.procedure, jobs))
    execute(kill)


def _summary(out: Outcome, src: Source, req: RunRequest, root: Path,
             values: dict[str, str], secrets: set[str], recap: Recap | None = None) -> None:
    proc = src.procedure
    t = out.tracker
    rec = out.record
    mins = float(rec.get("duration") or 0) / 60
    label = {"success": "SUCCESS", "failed": "FAILED", "rolled-back": "ROLLED BACK",
             "interrupted": "INTERRUPTED", "check": "CHECK", NO_HOSTS: "NO HOSTS MATCHED"}[out.outcome]
    if req.check and out.outcome not in ("check", NO_HOSTS):
        label = f"CHECK {label}"
    if req.fail_at:
        label = f"DRILL {'PASSED' if out.result.drill_passed else 'FAILED'} ({label})"
    print()
    print(f"== {proc.id} v{proc.version}: {label} ==")
    if out.result.summary:
        print(out.result.summary)
    w = words(req.lang)
    if t.failed_step and not req.fail_at:
        st = t.steps[t.failed_step]
        print(f"failed step: {w['step']} {st.number} ({st.title}): {st.message or t.failed_msg}")
    elif t.failed_task and out.outcome == "failed" and not out.result.results:
        # No host reported a result (the playbook stopped early): the last failed task is all there is.
        print(f"failed at: {t.failed_task}: {t.failed_msg}")
    if recap is not None:
        _check_lines(recap, proc, req.check, w["step"])
    print(f"rollbacks executed: {', '.join(t.rollbacks) or 'none'}"
          + (f"; ROLLBACK FAILED: {', '.join(t.rollbacks_failed)}" if t.rollbacks_failed else ""))
    irreversible = t.irreversible or [k for k in t.started if proc.steps[k - 1].irreversible]
    if irreversible:
        print(f"irreversible steps run: {', '.join(str(k) for k in irreversible)}")
    print(f"duration: {mins:.1f} min (estimate {proc.estimated_minutes:g} min)")
    if out.aborted:
        print(f"ABORTED: started steps {t.started or 'none'} were NOT rolled back. Rollback commands:")
        for k, cmd in rollback_commands(src, t.started, values, secrets):
            print(f"  # {w['step']} {k}: {proc.steps[k - 1].title}")
            for line in cmd.splitlines():
                print(f"  {line}")
        print(f"or run: procc rollback {proc.id} --run {req.run_id}")
    print(f"artifacts: {project.display(out.result.data_dir, root)}")


def _check_lines(recap: Recap, proc: Procedure, check: bool, step_word: str) -> None:
    """What check mode did not run, and the per-host ok/changed counts."""
    if check:
        steps = [f"{step_word} {k} ({proc.steps[k - 1].title})" for k in recap.would_run_steps
                 if 1 <= k <= len(proc.steps)]
        print(f"would run: {', '.join(steps + recap.would_run_tasks) or 'nothing'}")
    for line in recap.lines():
        print(f"hosts: {line}")


def history_cmd(args: argparse.Namespace) -> int:
    """``procc history``: the recorded runs, newest last."""
    root, src = _source(args)
    path = history.history_path(root, src.procedure.id)
    runs, problems = history.read(path, project.display(path, root))
    for p in problems:
        print(p.format(), file=sys.stderr)
    shown = runs[-args.last:] if args.last else runs
    if args.json:
        for r in shown:
            print(json.dumps(r.to_json(), ensure_ascii=False, sort_keys=True))
        return 0
    if not runs:
        print(f"{src.procedure.id}: no recorded runs ({project.display(path, root)})")
        return 0
    print(f"{'RUN':<24} {'START':<20} {'ENV':<10} {'VERSION':<8} {'OUTCOME':<12} {'DUR':>7}  NOTES")
    for r in shown:
        dur = f"{r.duration / 60:.1f}m" if r.duration is not None else "-"
        outcome = r.outcome if r.finished else "DID NOT FINISH"
        notes = []
        if r.drill:
            notes.append(f"drill fail_at={r.get('fail_at')}"
                         + (" passed" if r.get("drill_passed") else ""))
        if r.get("failed_step"):
            notes.append(f"failed step {r.get('failed_step')}")
        if r.get("rollbacks"):
            notes.append("rolled back " + ",".join(str(x) for x in r.get("rollbacks")))
        if r.get("rollback_of"):
            notes.append(f"rollback of {r.get('rollback_of')}")
        if not r.finished and r.get("started") is None:
            notes.append("killed or still running")
        notes.append(f"by {r.get('executor')}" + (f", approved {r.get('approved_by')}"
                                                  if r.get("approved_by") else ""))
        print(f"{r.run_id:<24} {str(r.get('start', ''))[:19]:<20} {r.get('environment')!s:<10} "
              f"{r.get('version')!s:<8} {outcome:<12} {dur:>7}  {'; '.join(notes)}")
    return 0


def _started_of(root: Path, src: Source, run_id: str, runs: list[history.Run],
                limit: str | None = None) -> list[int]:
    """The steps run ``run_id`` had started (on host ``limit``, if given): its history record, else its state file."""
    for r in runs:
        if r.run_id == run_id and r.get("check"):
            # Check mode ran none of its steps: rolling them back would undo what another run did.
            raise UsageError(f"procc: run {run_id} was a check run (--check): it changed nothing, "
                             "there is nothing to roll back")
        # --limit HOST: the steps that host started (the summary's command for a lost host).
        hosts = r.get("hosts") if r.run_id == run_id else None
        if limit and isinstance(hosts, dict) and isinstance(hosts.get(limit), dict) \
                and isinstance(hosts[limit].get("started"), list):
            return [int(k) for k in hosts[limit]["started"]]
        if r.run_id == run_id and isinstance(r.get("started"), list):
            return [int(k) for k in r.get("started")]
    state = root / ".procc" / "runs" / run_id / "state.json"
    try:
        return [int(k) for k in json.loads(state.read_text(encoding="utf-8"))["started"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if any(r.run_id == run_id for r in runs):
        raise UsageError(f"procc: run {run_id} recorded no started steps: nothing to roll back")
    raise UsageError(f"procc: no run {run_id} in the history of {src.procedure.id}")


def already_rolled_back(src: Source, runs: list[history.Run], run_id: str, limit: str | None = None) -> str | None:
    """Why run ``run_id`` (on host ``limit``, if given) needs no rollback any more, or None.

    Either its own rescue undid every started step that has a rollback
    (outcome rolled-back, a passed drill included), or a later ``procc
    rollback --run`` of it (of the same host, or of every host) succeeded.
    Running the rollbacks again could undo what happened since (a release
    switched back twice). With ``--limit HOST`` only that host's record
    counts: the other hosts rolling back says nothing about a host that was
    unreachable.
    """
    steps = src.procedure.steps
    for r in runs:
        if r.run_id != run_id or not r.finished:
            continue
        hosts = r.get("hosts")
        rec: dict[str, Any] = {"outcome": r.outcome, "started": r.get("started"),
                               "rolled_back": r.get("rollbacks"), "rollback_failed": r.get("rollbacks_failed")}
        where = ""
        if limit:
            if not isinstance(hosts, dict) or not isinstance(hosts.get(limit), dict):
                return None  # nothing recorded for that host: nothing says it was rolled back
            rec, where = hosts[limit], f" on {limit}"
        if rec.get("outcome") == "rolled-back":
            return f"already rolled back cleanly{where} (outcome rolled-back, rolled back: " \
                   f"{', '.join(str(x) for x in rec.get('rolled_back') or []) or 'none'})"
        started = [k for k in rec.get("started") or [] if isinstance(k, int) and 0 < k <= len(steps)]
        reversible = [k for k in started if steps[k - 1].rollback is not None]
        done = {str(x) for x in rec.get("rolled_back") or []}
        if reversible and not rec.get("rollback_failed") and all(str(k) in done for k in reversible):
            return f"already rolled back every started step{where} ({', '.join(sorted(done, reverse=True))})"
    for r in runs:
        if r.get("rollback_of") == run_id and r.finished and r.outcome == "success" \
                and (not r.get("limit") or r.get("limit") == limit):
            return f"was already rolled back by run {r.run_id} (procc rollback, {r.outcome})"
    return None


def rollback_cmd(args: argparse.Namespace) -> int:
    """``procc rollback``: the started steps of a run, or the full rollback, as a recorded run.

    It goes through :func:`compiler.session.run` like ``procc run``: the
    same lock, history records (with ``rollback_of``), live display and
    interrupts; ``procc_run_id`` is the rolled-back run's id.
    """
    from compiler.rollbackplay import full_rollback, steps_rollback
    from compiler.runner import FULL_ROLLBACK

    root, src, values, secrets, inventory, executor, approval = _prepare(args, captured=True)
    proc = src.procedure
    forced: str | None = None
    if args.run_id:
        runs, _ = history.read(history.history_path(root, proc.id))
        steps = _started_of(root, src, args.run_id, runs, args.limit)
        if not steps:
            raise UsageError(f"procc: run {args.run_id} started no step: nothing to roll back")
        why = already_rolled_back(src, runs, args.run_id, args.limit)
        if why is not None and not args.force:
            raise gates.GateError(
                f"procc: refused: run {args.run_id} {why}; running its rollbacks again could undo "
                "what was done since. Pass --force to run them anyway (recorded)")
        if why is not None:
            forced = f"forced: run {args.run_id} {why}"
            print(f"procc: WARNING {forced}", file=sys.stderr)
        text = steps_rollback(proc, steps, args.lang)
        what = f"rollback of steps {', '.join(str(k) for k in sorted(steps, reverse=True))} of run {args.run_id}"
    else:
        if not proc.rollback.steps:
            raise UsageError(f"procc: {proc.id} declares no full rollback")
        text = full_rollback(proc, args.lang)
        what = "full rollback"
    req = RunRequest(source=src, root=root, params=values, secret_names=secrets,
                     inventory=inventory, limit=args.limit, forks=args.forks, lang=args.lang, playbook_text=text,
                     runs_dir=_runs_dir(args), rollback_of=args.run_id or FULL_ROLLBACK, fast=_fast(args))
    ctx = RunContext(environment=args.env, approved_by=approval.approved_by, forced=forced,
                     executor=executor, record=not args.no_record)
    tracker = Tracker(proc, args.lang)
    display = make_display(tracker, live=False if args.plain else None)
    print(f"procc rollback {proc.id}: {what} (run {req.run_id})", flush=True)
    out = run(req, ctx, display, tracker, kill_jobs=_kill_jobs)
    t = out.tracker
    print()
    print(f"== {proc.id} v{proc.version}: {what}: {out.outcome.upper()} ==")
    if out.result.summary and out.outcome != NO_HOSTS:
        print(out.result.summary)
    print(f"rolled back: {', '.join(t.rollbacks) or 'none'}"
          + (f"; ROLLBACK FAILED: {', '.join(t.rollbacks_failed)}" if t.rollbacks_failed else ""))
    print(f"artifacts: {project.display(out.result.data_dir, root)}")
    return _finish(out, ctx, src, root)
