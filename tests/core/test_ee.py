"""The execution environment: ``ansible-builder create`` makes a build context with what the EE needs.

No container engine builds images here: these tests check the context
ansible-builder writes (the Containerfile and the requirements it installs)
against the project itself, so the EE cannot drift from pyproject.toml, the
roles, or the modules the playbooks call.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import BIN, ROOT

DEFINITION = ROOT / "execution-environment.yml"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EE = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ctx = tmp_path_factory.mktemp("ee") / "context"
    res = subprocess.run([str(BIN / "ansible-builder"), "create", "-f", str(DEFINITION), "-c", str(ctx),
                          "--output-filename", "Containerfile"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    return ctx


def _arg(containerfile: str, name: str) -> str:
    found = re.search(rf'^ARG {name}="([^"]*)"$', containerfile, re.M)
    assert found, name
    return found.group(1)


def _pyproject_deps() -> dict[str, str]:
    """procc's runtime requirements by distribution name."""
    return {re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower(): d for d in PYPROJECT["project"]["dependencies"]}


def test_the_containerfile_builds_on_the_base_image_with_procc_s_ansible(context: Path) -> None:
    text = (context / "Containerfile").read_text(encoding="utf-8")
    assert EE["version"] == 3
    assert _arg(text, "EE_BASE_IMAGE") == EE["images"]["base_image"]["name"]
    assert "FROM $EE_BASE_IMAGE AS base" in text
    deps = _pyproject_deps()
    refs = _arg(text, "ANSIBLE_INSTALL_REFS").split(" ")
    assert refs == [deps["ansible-core"], deps["ansible-runner"]]
    # The interpreter is one procc supports.
    pycmd = _arg(text, "PYCMD")
    version = re.fullmatch(r"/usr/bin/python(\d+)\.(\d+)", pycmd)
    assert version, pycmd
    wanted = re.fullmatch(r">=(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert wanted and tuple(map(int, version.groups())) >= tuple(map(int, wanted.groups()))


def test_the_python_requirements_are_procc_s(context: Path) -> None:
    lines = (context / "_build" / "requirements.txt").read_text(encoding="utf-8").split()
    deps = _pyproject_deps()
    assert sorted(lines) == sorted(d for name, d in deps.items() if not name.startswith("ansible-"))


def test_procc_itself_and_the_collection_are_installed(context: Path) -> None:
    text = (context / "Containerfile").read_text(encoding="utf-8")
    final = text[text.index("AS final"):]
    assert "COPY _build/procc /tmp/procc-src" in final
    assert "RUN $PYCMD -m pip install --no-cache-dir /tmp/procc-src" in final
    # The galaxy stage installs into a default collections path the final image copies.
    assert "--collections-path \"/usr/share/ansible/collections\"" in text
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in final
    assert "/usr/share/ansible/roles" not in final  # no loose copy of roles/ any more
    src = context / "_build" / "procc"
    assert (src / "pyproject.toml").read_bytes() == (ROOT / "pyproject.toml").read_bytes()
    assert (src / "README.md").is_file() and (src / "compiler" / "__init__.py").is_file()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.slow
def test_the_galaxy_stage_installs_procc_ops_with_the_repository_s_roles(context: Path, tmp_path: Path) -> None:
    """The galaxy stage's own command, run where it runs (/build is the context's _build)."""
    dest = tmp_path / "collections"
    res = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
                          "--collections-path", str(dest)], cwd=context / "_build",
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    installed = dest / "ansible_collections" / "procc" / "ops"
    manifest = json.loads((installed / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["collection_info"]["version"] == PYPROJECT["project"]["version"]
    assert _files(installed / "roles") == _files(ROOT / "roles")
    assert _files(installed / "plugins") == _files(ROOT / "plugins")


def test_the_system_packages_the_commands_need(context: Path) -> None:
    bindep = (context / "_build" / "bindep.txt").read_text(encoding="utf-8").splitlines()
    packages = {line.split()[0] for line in bindep if line.strip() and not line.startswith("#")}
    # bash runs every command; curl the health checks; the PostgreSQL client the backup,
    # restore and migration steps (psql, pg_dump, pg_restore, pg_isready); tar and gzip
    # the evidence and releases; ssh the target hosts.
    assert {"bash", "postgresql", "tar", "gzip", "openssh-clients"} <= packages
    assert packages & {"curl", "curl-minimal"}
    assert all("[platform:rpm]" in line for line in bindep if line.strip())


def _tasks(node: Any) -> Iterator[dict[str, Any]]:
    """Every task mapping in a playbook or a task file (blocks, rescue and always included)."""
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if "tasks" in node or "pre_tasks" in node or "post_tasks" in node:  # a play
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield from _tasks(node.get(key, []))
            return
        yield node
        for key in ("block", "rescue", "always"):
            yield from _tasks(node.get(key, []))


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
_FQCN = re.compile(r"[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+")


def _keywords() -> set[str]:
    from ansible.playbook.block import Block
    from ansible.playbook.task import Task

    return set(Task.fattributes) | set(Block.fattributes) | {"listen"} | {f"with_{x}" for x in ("items", "dict")}


def _ee_collections() -> set[str]:
    """namespace.name of every collection the EE installs; a ``type: dir`` one is read from its galaxy.yml."""
    galaxy = EE["dependencies"].get("galaxy") or {}
    sources = {f["dest"]: f["src"] for f in EE.get("additional_build_files", []) if f["src"].endswith("galaxy.yml")}
    names = set()
    for c in galaxy.get("collections", []):
        name = c["name"] if isinstance(c, dict) else c
        if isinstance(c, dict) and c.get("type") == "dir":
            meta = yaml.safe_load((ROOT / sources[name]).read_text(encoding="utf-8"))
            name = f"{meta['namespace']}.{meta['name']}"
        names.add(name)
    return names


def test_every_module_and_role_the_playbooks_use_is_in_the_ee() -> None:
    """ansible.builtin, a role's own library, or a collection the EE installs (galaxy)."""
    collections = _ee_collections()
    assert "procc.ops" in collections
    local_modules = {p.stem for p in ROOT.glob("roles/*/library/*.py")}
    roles: set[str] = set()  # no loose roles: every role comes from a collection
    keywords = _keywords()
    files = sorted(ROOT.glob("playbooks/*.yml")) + sorted(ROOT.glob("roles/*/tasks/*.yml"))
    assert files
    missing, used = set(), set()
    for f in files:
        for task in _tasks(yaml.load(f.read_text(encoding="utf-8"), Loader=_Loader)):
            for key in set(task) - keywords:
                used.add(key)
                if _FQCN.fullmatch(key):
                    if not key.startswith("ansible.builtin.") and ".".join(key.split(".")[:2]) not in collections:
                        missing.add(f"{f.name}: module {key}")
                elif key not in local_modules:
                    missing.add(f"{f.name}: module {key} (not a FQCN nor a role's library module)")
            role = task.get("ansible.builtin.include_role") or task.get("ansible.builtin.import_role") or {}
            name = role.get("name") if isinstance(role, dict) else None
            if name and "{{" not in name:
                ok = (".".join(name.split(".")[:2]) in collections) if "." in name else name in roles
                if not ok:
                    missing.add(f"{f.name}: role {name}")
    assert "procc.ops.prometheus_check" in used and "ansible.builtin.shell" in used
    assert missing == set()


@pytest.mark.slow
@pytest.mark.ansible  # ansible-lint runs `ansible --version` (the layer guard caught it)
def test_the_definition_passes_ansible_lint_and_its_ee_schema(tmp_path: Path) -> None:
    """ansible-lint checks an execution-environment.yml against its schema (and yamllint's rules)."""
    res = subprocess.run([str(BIN / "ansible-lint"), "--offline", "--profile", "production", "--nocolor",
                          str(DEFINITION)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, "ANSIBLE_LOCAL_TEMP": str(tmp_path)})
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 files processed" in res.stdout + res.stderr


@pytest.mark.slow
def test_the_procc_source_in_the_context_builds_a_complete_wheel(context: Path, tmp_path: Path) -> None:
    """What the Containerfile's pip install builds holds every data file of the package."""
    res = subprocess.run([sys.executable, "-m", "build", "--wheel", "-o", str(tmp_path), str(context / "_build" / "procc")],
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    wheel = next(tmp_path.glob("procedure_compiler-*.whl"))
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "compiler").rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert data
    with zipfile.ZipFile(wheel) as zf:
        assert data - set(zf.namelist()) == set()
