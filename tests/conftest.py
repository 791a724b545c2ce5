"""Shared test helpers and the rules of the test layers.

Helpers: the repository root, procc in-process, compiled fixtures, a real
PostgreSQL. Layers: the markers of pyproject.toml (slow, ansible, postgres,
ssh, molecule, browser) are strict and enforced here:

- a test that uses the ``pg`` fixture must be marked ``postgres``, one that
  uses ``ssh_fleet`` ``ssh`` (collection fails otherwise); tests/ssh gets
  ``slow``, ``ansible`` and ``ssh`` from its directory;
- a test not marked ``ansible`` that starts ansible-playbook, ansible or
  ansible-runner fails (tests/layerguard/sitecustomize.py), so the fast layer
  (no layer marker at all) can never run Ansible by accident;
- with pytest-xdist (``-n``), every postgres test runs in one worker and every
  ssh test in one worker (``xdist_group``, with ``--dist loadgroup``): one
  PostgreSQL cluster and one SSH fleet per session, never one per worker.

Golden files: ``--update-goldens`` rewrites them (tests/support/golden.py) and
the terminal summary names every file it changed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.golden import GOLDEN_KEY, UPDATE_OPTION
from tests.support.postgres import PgServer, running_postgres

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FOUR_STEPS = FIXTURES / "procedures" / "PROC-TEST-001-four-steps.yml"
BIN = Path(sys.executable).parent
GUARD_DIR = Path(__file__).resolve().parent / "layerguard"
GUARD_ENV = "TESTLAYER_FORBID_ANSIBLE"
LAYER_MARKERS = ("slow", "ansible", "postgres", "ssh", "molecule", "browser")

# Hypothesis: CI (HYPOTHESIS_PROFILE=ci, set by scripts/test.sh) is derandomized
# so a red CI is reproducible from its log; a developer's run explores.
settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(UPDATE_OPTION, action="store_true", default=False,
                     help="rewrite the golden files under tests/golden instead of comparing (review with git diff)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse tests that need a service without its marker; pin each service to one xdist worker."""
    missing: list[str] = []
    for item in items:
        # tests/ssh is the fleet's directory (its own owners): every test there
        # drives Ansible over SSH to the fleet, so the directory sets the markers.
        if Path(str(item.path)).is_relative_to(ROOT / "tests" / "ssh"):
            for name in ("slow", "ansible", "ssh"):
                item.add_marker(name)
        names = {m.name for m in item.iter_markers()}
        if "pg" in getattr(item, "fixturenames", ()) and "postgres" not in names:
            missing.append(f"{item.nodeid}: uses the pg fixture but is not marked 'postgres'")
        if "ssh_fleet" in getattr(item, "fixturenames", ()) and "ssh" not in names:
            missing.append(f"{item.nodeid}: uses the ssh_fleet fixture but is not marked 'ssh'")
        # One worker per service: a second PostgreSQL or SSH fleet per worker
        # would double the set-up and clash on the fleet's machine-wide lock.
        if "ssh" in names:
            item.add_marker(pytest.mark.xdist_group("ssh"))
        elif "postgres" in names:
            item.add_marker(pytest.mark.xdist_group("postgres"))
    if missing:
        raise pytest.UsageError("tests without their layer marker:\n  " + "\n  ".join(missing))


def _guarded(item: pytest.Item) -> Generator[None, None, None]:
    """Run one phase of a test that is not marked ``ansible`` with Ansible forbidden."""
    if item.get_closest_marker("ansible") is not None:
        yield
        return
    record = Path(tempfile.gettempdir()) / f"procc-layerguard-{os.getpid()}.log"
    record.unlink(missing_ok=True)
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", GUARD_ENV)}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(GUARD_DIR), saved["PYTHONPATH"]) if p)
    os.environ[GUARD_ENV] = str(record)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        # Checked even when the test failed: the refused Ansible is the cause.
        if record.exists():
            started = record.read_text(encoding="utf-8").strip()
            record.unlink()
            pytest.fail(f"{item.nodeid} started Ansible but is not marked 'ansible' "
                        f"(add @pytest.mark.ansible, and slow):\n{started}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _guarded(item))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the golden files a test rewrote (also from xdist workers, through user_properties)."""
    changed = [value for key, value in report.user_properties if key == GOLDEN_KEY]
    if changed:
        _GOLDEN_CHANGED.extend(str(v) for v in changed)


_GOLDEN_CHANGED: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    if not config.getoption(UPDATE_OPTION):
        return
    terminalreporter.section("golden files")
    for path in sorted(set(_GOLDEN_CHANGED)):
        terminalreporter.write_line(f"golden: updated {path}")
    if not _GOLDEN_CHANGED:
        terminalreporter.write_line("golden: no golden file changed")


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def procc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Run ``procc`` in-process from the repository root; returns a Result."""
    from compiler.cli import main

    monkeypatch.chdir(ROOT)

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """A real PostgreSQL cluster (scripts/postgres.sh), started once per session (per xdist worker,
    and only one worker runs the postgres tests: see pytest_collection_modifyitems)."""
    with running_postgres() as server:
        yield server
