"""The output cache of ``procc compile`` / ``procc check``: never stale, never trusted blindly, never a secret.

Each input an output depends on is edited once, and the output must follow
(a cache keyed on too little would serve the old text). A corrupt entry or
blob is a miss, not a crash; concurrent processes share the cache; the values
of an environment never reach it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler import build, cache
from compiler.cli import main
from tests.conftest import BIN, FIXTURES, ROOT

PROC = "PROC-BACKEND-000-health-check"
FOUR = "PROC-TEST-001-four-steps"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with a procedure that quotes a role, one with a history, and the roles."""
    (tmp_path / "procedures" / "history").mkdir(parents=True)
    shutil.copy(ROOT / "procedures" / f"{PROC}.yml", tmp_path / "procedures")
    shutil.copy(FIXTURES / "procedures" / f"{FOUR}.yml", tmp_path / "procedures")
    shutil.copytree(ROOT / "roles", tmp_path / "roles", ignore=shutil.ignore_patterns("molecule", "files"))
    shutil.copy(ROOT / "galaxy.yml", tmp_path)  # the roles are the collection's: procc.ops.health
    monkeypatch.chdir(tmp_path)
    return tmp_path


def compile_(*args: str) -> None:
    assert main(["compile", "-q", "-j", "1", *args]) == 0


def runbook(root: Path, stem: str = PROC) -> str:
    return (root / "docs" / "backend" / "procedures" / f"{stem}.md").read_text(encoding="utf-8")


def playbook(root: Path, stem: str = PROC) -> str:
    return (root / "playbooks" / f"{stem}.yml").read_text(encoding="utf-8")


def cold(root: Path, *args: str) -> dict[str, str]:
    """What a compile without the cache writes (the truth the cached compile must equal)."""
    out = root.parent / f"{root.name}-cold"
    compile_("--no-cache", "--docs-dir", str(out / "docs"), "--playbooks-dir", str(out / "pb"), *args)
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.*")) if p.is_file()}


def written(root: Path) -> dict[str, str]:
    docs, pbs = root / "docs" / "backend" / "procedures", root / "playbooks"
    return {p.name: p.read_text(encoding="utf-8") for d in (docs, pbs) for p in sorted(d.rglob("*.*")) if p.is_file()}


def test_a_second_compile_is_served_by_the_cache_and_check_agrees(project: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    compile_()
    entries = sorted(p for p in (project / cache.CACHE_DIR).rglob("*") if p.is_file())
    assert entries, "the first compile fills the cache"
    # The cache alone is now enough: its texts are what a compile without it writes.
    assert written(project) == cold(project)
    shutil.rmtree(project / "playbooks")
    compile_()
    assert written(project) == cold(project)
    capsys.readouterr()
    assert main(["check"]) == 0
    assert "up to date" in capsys.readouterr().out


EDITS: dict[str, Callable[[Path], None]] = {
    "source": lambda root: (root / "procedures" / f"{PROC}.yml").write_text(
        (root / "procedures" / f"{PROC}.yml").read_text(encoding="utf-8").replace(
            "title: ", "title: Editado ", 1), encoding="utf-8"),
    "history": lambda root: shutil.copy(FIXTURES / "history" / "PROC-TEST-001.jsonl",
                                        root / "procedures" / "history" / "PROC-TEST-001.jsonl"),
    "role docs": lambda root: (root / "roles" / "health" / "meta" / "docs.es.yml").write_text(
        (root / "roles" / "health" / "meta" / "docs.es.yml").read_text(encoding="utf-8").replace(
            "short_description: ", "short_description: Editada ", 1), encoding="utf-8"),
}


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_each_input_edited_changes_the_output(project: Path, kind: str) -> None:
    compile_()
    before = written(project)
    EDITS[kind](project)
    compile_()
    after = written(project)
    assert after != before, f"an edit of the {kind} left every output as it was: the cache served a stale text"
    assert after == cold(project)


def test_language_and_options_are_part_of_the_key(project: Path) -> None:
    compile_()
    spanish = runbook(project)
    compile_("--lang", "en")
    assert runbook(project) != spanish
    assert written(project) == cold(project, "--lang", "en")
    compile_("--quick")  # the cards join the outputs; the runbook is Spanish again
    assert runbook(project) == spanish
    assert (project / "docs" / "backend" / "procedures" / "quick" / f"{PROC}.md").is_file()


def test_procc_code_is_part_of_the_key(tmp_path: Path) -> None:
    """A developer's edit of procc (code or template) invalidates every entry."""
    pkg = tmp_path / "compiler"
    shutil.copytree(ROOT / "compiler", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    before = cache.package_digest(pkg)
    template = pkg / "templates" / "runbook.md.j2"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert cache.package_digest(pkg) != before
    s = build.settings(tmp_path, tmp_path / "d", tmp_path / "p", "es", quick=False, write=True)
    edited = build.Settings(**{**s.__dict__, "code": "edited"})
    assert build._keys("p.yml", b"x", s) != build._keys("p.yml", b"x", edited)


def test_a_corrupt_cache_is_ignored(project: Path) -> None:
    compile_()
    for p in (project / cache.CACHE_DIR).rglob("*"):
        if p.is_file():
            p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2] + b"\x00garbage")
    shutil.rmtree(project / "playbooks")
    (project / "docs" / "backend" / "procedures" / f"{PROC}.md").write_text("edited", encoding="utf-8")
    compile_()
    assert written(project) == cold(project)


def test_a_cache_entry_must_verify() -> None:
    store = cache.Cache(Path("/nonexistent"))
    assert store.get("00" * 32) is None
    assert store.blob("00" * 32) is None


def test_a_cache_entry_that_lies_is_a_miss(tmp_path: Path) -> None:
    store = cache.Cache(tmp_path)
    store.put("ab" * 32, {"id": "PROC-A-001"})
    assert store.get("ab" * 32) == {"id": "PROC-A-001"}
    path = tmp_path / cache.CACHE_DIR / "ab" / ("ab" * 32)
    path.write_bytes(path.read_bytes().replace(b"PROC-A-001", b"PROC-B-001"))
    assert store.get("ab" * 32) is None
    sha = store.put_blob("texto")
    blob = tmp_path / cache.CACHE_DIR / "blobs" / sha[:2] / sha
    blob.write_bytes(b"otro texto")
    assert store.blob(sha) is None


def test_concurrent_compiles_share_the_cache(project: Path) -> None:
    """Four procc processes at once, on a cold cache: every one succeeds and the outputs are right."""
    procs = [subprocess.Popen([str(BIN / "procc"), "compile", "-q", "-j", "1"], cwd=project,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert written(project) == cold(project)
    assert not [p for p in (project / cache.CACHE_DIR).rglob("*.tmp")], "a temporary file was left behind"


def test_an_environments_values_never_reach_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "procedures").mkdir()
    shutil.copy(FIXTURES / "procedures" / "PROC-TEST-003-secret.yml", tmp_path / "procedures")
    staging = tmp_path / "inventories" / "staging"
    (staging / "group_vars").mkdir(parents=True)
    (staging / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n", encoding="utf-8")
    (staging / "group_vars" / "all.yml").write_text("workdir: /srv/VALUE-OF-STAGING\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROCC_TEST_TOKEN", "SECRET-TOKEN-VALUE")  # the secret's variable, set as for a run
    compile_()
    assert main(["compile", "-q", "--env", "staging"]) == 0
    assert main(["compile", "-q", "--env", "staging", "-e", "workdir=/srv/VALUE-FROM-E",
                 "--env-docs-dir", ".procc/runbooks/with-e"]) == 0
    env_runbooks = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / ".procc" / "runbooks").rglob("*.md"))
    assert "VALUE-OF-STAGING" in env_runbooks
    assert "VALUE-FROM-E" in env_runbooks
    compile_()
    stored = b"".join(p.read_bytes() for p in (tmp_path / cache.CACHE_DIR).rglob("*") if p.is_file())
    assert stored
    assert b"SECRET-TOKEN-VALUE" not in stored
    assert b"VALUE-OF-STAGING" not in stored
    assert b"VALUE-FROM-E" not in stored
