"""The committed playbooks run as they are: plain ansible-playbook, no procc, no variables.

From a clean copy of the working tree (what ``git clone`` gives), with no
PROCC_* nor ANSIBLE_* variable, ``ansible-playbook -i inventories/local
playbooks/PROC-....yml -e ...`` runs every catalog procedure against the
session's demo backend and PostgreSQL: the default hosts pattern matches the
shipped inventory's group, and the root ansible.cfg resolves procc.ops (its
roles and module, called by FQCN) from the checkout. Then the same with the
collection built and installed elsewhere, and no checkout at all.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.demo import free_port, http_get, stop_demo

from tests.catalog.conftest import Demo, backup_demo_db, source_of
from tests.support.checkout import BIN, clean_copy, plain_env

pytestmark = [pytest.mark.slow, pytest.mark.ansible, pytest.mark.postgres]

CATALOG = [f"PROC-BACKEND-{n:03d}" for n in range(8)]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clean_copy(tmp_path_factory.mktemp("clone") / "procc")


def _playbook(root: Path, proc_id: str) -> Path:
    return root / "playbooks" / f"{source_of(proc_id).stem}.yml"


def ansible_playbook(cwd: Path, playbook: Path, inventory: str, extra: dict[str, str],
                     **env: str) -> subprocess.CompletedProcess[str]:
    args = [str(BIN / "ansible-playbook"), "-i", inventory, str(playbook)]
    for k, v in extra.items():
        args += ["-e", f"{k}={v}"]
    return subprocess.run(args, cwd=cwd, env=plain_env(ANSIBLE_NOCOLOR="1", **env), capture_output=True,
                          text=True, timeout=600, check=False)


def ended_ok(res: subprocess.CompletedProcess[str]) -> None:
    """rc 0 and a recap of localhost with no failed nor unreachable task."""
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-6000:]
    recap = re.search(r"^localhost\s*:\s*ok=(\d+).*unreachable=(\d+)\s+failed=(\d+)", res.stdout, re.M)
    assert recap, out[-3000:]
    assert int(recap.group(1)) > 0 and recap.group(2) == "0" and recap.group(3) == "0", recap.group(0)



# What each procedure needs beyond the demo's parameters, and what it must leave behind.
Check = Callable[[Demo], None]


def _serves(release: str) -> Check:
    def check(demo: Demo) -> None:
        assert demo.get("/version") == (200, release)
    return check


def test_every_catalog_playbook_runs_with_plain_ansible_playbook_from_a_clean_clone(
        clone: Path, demo: Demo, tmp_path: Path) -> None:
    assert not (clone / ".venv").exists() and (clone / "ansible.cfg").is_file()
    second_base, second_port = tmp_path / "instance-2", free_port()
    (tmp_path / "cleanup-backups").mkdir()
    runs: list[tuple[str, dict[str, str], Check | None]] = [
        ("PROC-BACKEND-000", {"report_dir": str(tmp_path)}, None),
        ("PROC-BACKEND-001", {"release": "v2"}, _serves("v2")),
        ("PROC-BACKEND-002", {}, _serves("v1")),  # back from the v2 the run before deployed
        ("PROC-BACKEND-003", {"backup_root": str(tmp_path / "migration-backups")}, None),
        ("PROC-BACKEND-004", {"backup_root": str(tmp_path / "cleanup-backups")}, None),
        ("PROC-BACKEND-005", {"evidence_dir": str(tmp_path / "evidence")}, None),
        ("PROC-BACKEND-006", {"release": "v1", "new_instance_dir": str(second_base),
                              "new_port": str(second_port)}, None),
        ("PROC-BACKEND-007", {}, None),  # backup_root: a fresh backup, made just before
    ]
    assert [r[0] for r in runs] == CATALOG
    try:
        for proc_id, extra, check in runs:
            if proc_id != "PROC-BACKEND-002":  # each from the catalog tests' clean state; 002 undoes 001
                demo.reset_db()
                demo.reset()
            if proc_id == "PROC-BACKEND-007":
                extra = {"backup_root": str(backup_demo_db(demo, tmp_path))}
            res = ansible_playbook(clone, _playbook(clone, proc_id).relative_to(clone), "inventories/local",
                                   {**demo.params, **extra})
            ended_ok(res)
            if check is not None:
                check(demo)
        assert http_get(f"http://127.0.0.1:{second_port}/version")[1].strip() == "v1"  # the instance 006 added
        assert demo.get("/health")[0] == 200
    finally:
        stop_demo(second_base)


def test_without_the_local_inventory_the_default_pattern_matches_no_host(clone: Path, tmp_path: Path) -> None:
    """The play's hosts are the inventory's group 'backend': an inventory without it runs nothing."""
    res = ansible_playbook(clone, _playbook(clone, "PROC-BACKEND-000"), "localhost,", {"report_dir": str(tmp_path)})
    assert "skipping: no hosts matched" in res.stdout, res.stdout[-2000:]


@pytest.fixture(scope="module")
def installed(clone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """procc.ops built from the clean copy and installed into a fresh collections path."""
    work = tmp_path_factory.mktemp("installed")
    build = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work)],
                           cwd=clone, env=plain_env(), capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    (tarball,) = work.glob("procc-ops-*.tar.gz")
    dest = work / "collections"
    # From a directory that is not the checkout: its ansible.cfg would show procc.ops as installed already.
    inst = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(dest)],
                          cwd=work, env=plain_env(), capture_output=True, text=True, timeout=300, check=False)
    assert inst.returncode == 0, inst.stdout + inst.stderr
    assert (dest / "ansible_collections" / "procc" / "ops" / "MANIFEST.json").is_file()
    return dest


def test_a_compiled_playbook_runs_from_the_installed_collection(installed: Path, demo: Demo, tmp_path: Path) -> None:
    """PROC-BACKEND-000 (the health role and its module) outside any checkout, procc.ops from the install."""
    here = tmp_path / "elsewhere"
    here.mkdir()
    playbook = shutil.copy(_playbook(Path(__file__).resolve().parents[2], "PROC-BACKEND-000"), here)
    (here / "hosts").write_text(f"[backend]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n",
                                encoding="utf-8")
    extra = {**demo.params, "report_dir": str(tmp_path)}
    res = ansible_playbook(here, Path(playbook), "hosts", extra, ANSIBLE_COLLECTIONS_PATH=str(installed))
    ended_ok(res)
    assert "procc.ops.health" in (here / Path(playbook).name).read_text(encoding="utf-8")
    # Without the installed path the same run cannot find the role: the install is what served it.
    empty = tmp_path / "no-collections"
    empty.mkdir()
    res = ansible_playbook(here, Path(playbook), "hosts", extra, ANSIBLE_COLLECTIONS_PATH=str(empty))
    # Every role the playbook calls is imported statically: a missing one fails it as it loads, before any task.
    assert res.returncode != 0, res.stdout[-3000:]
    assert "the role 'procc.ops.health' was not found" in res.stdout + res.stderr
    assert "PLAY RECAP" not in res.stdout, res.stdout[-3000:]
