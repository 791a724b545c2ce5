"""procc.ops: the repository root is an Ansible collection; its metadata, its tarball, ansible-test sanity.

The fast tests keep galaxy.yml, meta/runtime.yml, the roles and the model's
FQCN mapping in step; the slow ones build the collection from a clean copy of
the working tree (tests/support/checkout.py) and run ``ansible-test sanity``
on it installed. A compiled playbook running from the installed collection,
and every catalog playbook from a clean clone: tests/catalog/test_standalone.py.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml

from compiler import model
from compiler.parse import parse_file
from tests.conftest import ROOT
from tests.support.checkout import BIN, clean_copy, plain_env

GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())
MODULE = ROOT / "plugins" / "modules" / "prometheus_check.py"


def test_galaxy_metadata_is_the_package_s() -> None:
    assert f"{GALAXY['namespace']}.{GALAXY['name']}" == model.COLLECTION == "procc.ops"
    assert GALAXY["version"] == PYPROJECT["project"]["version"]  # one version for procc and procc.ops
    assert (ROOT / GALAXY["readme"]).is_file()
    assert GALAXY["license"] == [PYPROJECT["project"]["license"]]


def test_requires_ansible_is_pyproject_s_range() -> None:
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    core = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("ansible-core"))
    low, high = re.fullmatch(r"ansible-core>=([\d.]+),<([\d.]+)", core).groups()  # type: ignore[union-attr]
    assert runtime["requires_ansible"] == f">={low}.0,<{high}.0"


def test_the_model_maps_exactly_the_collection_s_roles() -> None:
    assert sorted(model.COLLECTION_ROLES) == ROLES
    for role in ROLES:  # what Galaxy and ansible-doc read
        assert (ROOT / "roles" / role / "meta" / "main.yml").is_file()
        assert (ROOT / "roles" / role / "meta" / "argument_specs.yml").is_file()


@pytest.mark.parametrize(("written", "called"), [
    ("health", "procc.ops.health"),            # a role of procc.ops, by its short name
    ("procc.ops.backup", "procc.ops.backup"),  # the same, by FQCN
    ("my_role", "my_role"),                    # the project's own roles/
    ("community.general.foo", "community.general.foo"),  # another collection, as it is
])
def test_role_names_in_sources_and_in_playbooks(written: str, called: str) -> None:
    assert model.role_fqcn(written) == called
    assert model.Action(role=written).role_fqcn == called


def test_the_catalog_playbooks_call_every_role_by_fqcn() -> None:
    names = set()
    for pb in sorted((ROOT / "playbooks").glob("*.yml")):
        names.update(re.findall(r"ansible\.builtin\.include_role:\n\s+name: (\S+)", pb.read_text(encoding="utf-8")))
    assert names and all(n.startswith("procc.ops.") for n in names), names
    written = set().union(*(_roles(yaml.safe_load(src.read_text(encoding="utf-8")))
                            for src in sorted((ROOT / "procedures").glob("*.yml"))))
    assert names == {model.role_fqcn(r) for r in written}


def _roles(node: object) -> set[str]:
    """Every action's ``role:`` in a parsed source (contacts have a role too, but a mapping of three)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("role"), str) and "contact" not in node:
            found.add(node["role"])
        for value in node.values():
            found |= _roles(value)
    elif isinstance(node, list):
        for item in node:
            found |= _roles(item)
    return found


def test_the_module_parses_as_python_3_8() -> None:
    """Targets may run Python 3.8: its grammar, and no subscripted builtins evaluated at import."""
    tree = ast.parse(MODULE.read_text(encoding="utf-8"), feature_version=(3, 8))
    for node in tree.body:  # module-level statements run at import
        if isinstance(node, ast.Assign):
            for sub in ast.walk(node.value):
                if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name):
                    assert sub.value.id not in ("tuple", "list", "dict", "set", "type"), ast.unparse(node)


def test_the_checkout_resolves_the_collection_through_its_ansible_cfg() -> None:
    link = ROOT / "collections" / "ansible_collections" / "procc" / "ops"
    assert link.is_symlink() and link.resolve() == ROOT
    cfg = (ROOT / "ansible.cfg").read_text(encoding="utf-8")
    assert re.search(r"^collections_path = collections:", cfg, re.M)
    assert re.search(r"^inventory = inventories/local$", cfg, re.M)


def test_the_shipped_inventories_have_the_catalog_s_hosts_group() -> None:
    groups = {p.procedure.hosts for p in map(parse_file, sorted((ROOT / "procedures").glob("*.yml")))
              if p.procedure is not None}
    assert groups == {"backend"}
    for env in ("local", "staging", "production"):
        inv = yaml.safe_load((ROOT / "inventories" / env / "hosts.yml").read_text(encoding="utf-8"))
        assert inv["all"]["children"]["backend"]["hosts"], env
        assert (ROOT / "inventories" / env / "group_vars" / "backend.yml").is_file()


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("collection")
    clone = clean_copy(work / "procc")
    res = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work)],
                         cwd=clone, env=plain_env(), capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    (found,) = work.glob("procc-ops-*.tar.gz")
    assert found.name == f"procc-ops-{GALAXY['version']}.tar.gz"
    return found


def _versioned(*prefixes: str) -> set[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", *prefixes],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return {p for p in listed if (ROOT / p).exists()}


@pytest.mark.slow
def test_the_tarball_holds_exactly_the_collection(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        files = {m.name for m in tar.getmembers() if m.isfile()}
        manifest = yaml.safe_load(tar.extractfile("MANIFEST.json").read())  # type: ignore[union-attr]
    expected = _versioned("roles", "plugins", "meta", "tests/sanity") | {GALAXY["readme"], "MANIFEST.json",
                                                                         "FILES.json"}
    assert files == expected
    assert not any(f.startswith(("compiler/", "tests/core", "playbooks/", "collections/")) for f in files)
    assert manifest["collection_info"]["version"] == PYPROJECT["project"]["version"]


# ansible-test bootstraps pip in each sanity venv with a get-pip script it
# downloads from a host this machine cannot reach; this stand-in (ensurepip,
# then `pip install` of the pinned versions from the package index) is put
# where ansible-test caches that script. In a child process: ensurepip
# empties PIP_* and points PIP_CONFIG_FILE at /dev/null in its own environment.
GET_PIP = '''"""get-pip stand-in for ansible-test (tests/core/test_collection.py)."""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
'''


@pytest.mark.slow
def test_ansible_test_sanity_is_clean(tarball: Path, tmp_path: Path) -> None:
    """ansible-test sanity on the installed collection, every test for Python 3.11 (the one here)."""
    dest = tmp_path / "collections"
    inst = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(dest)],
                          cwd=tmp_path, env=plain_env(), capture_output=True, text=True, timeout=300, check=False)
    assert inst.returncode == 0, inst.stdout + inst.stderr
    # ansible-test keeps its venvs under $HOME/.ansible/test: a home of the checkout's
    # own (.procc/ is git-ignored) keeps them between runs, outside the user's.
    home = ROOT / ".procc" / "ansible-test-home"
    cache = home / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in ("24_2",):
        (cache / f"get_pip_{version}.py").write_text(GET_PIP, encoding="utf-8")
    res = subprocess.run([str(BIN / "ansible-test"), "sanity", "--python", "3.11", "--color", "no"],
                         cwd=dest / "ansible_collections" / "procc" / "ops",
                         env=plain_env(HOME=str(home), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"),
                         capture_output=True, text=True, timeout=1800, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-6000:]
    ran = set(re.findall(r'^Running sanity test "([\w-]+)"', out, re.M))
    assert {"compile", "import", "pylint", "validate-modules", "ansible-doc", "yamllint", "pep8",
            "runtime-metadata", "shebang"} <= ran, out[-3000:]
    assert len(ran) >= 20 and "ERROR" not in out
