"""The command line: help, version, check, template, schema, and no ansible import at compile time."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BIN, FIXTURES, ROOT

SEED = FIXTURES / "seed" / "plantilla-procedimiento-backend.md"


# One real invocation per command, through the console script users run, in a
# fresh project: (arguments, accepted exit codes, text the output must hold).
SMOKE: dict[str, tuple[list[str], set[int], str]] = {
    "compile": (["compile"], {0}, "wrote playbooks/PROC-TEST-001-four-steps.yml"),
    "check": (["check"], {0}, "up to date"),
    "template": (["template"], {0}, "## Proposito"),
    "init": (["init", "new-project"], {0}, "created"),
    "awx": (["awx", "PROC-TEST-001"], {0}, "wrote awx/PROC-TEST-001-four-steps.survey.json"),
    "new": (["new", "maintenance", "Limpiar la cache"], {0}, "created procedures/PROC-TEST-002-limpiar-la-cache.yml"),
    "site": (["site", "--no-build"], {0}, "mkdocs.yml"),
    "schema": (["schema"], {0}, '"$schema"'),
    "molecule": (["molecule", "PROC-TEST-001"], {0}, "wrote molecule/proc-test-001/molecule.yml"),
    "run": (["run", "PROC-TEST-404", "--no-record"], {2}, "PROC-TEST-404"),
    "history": (["history", "PROC-TEST-001"], {0}, "no recorded runs"),
    "rollback": (["rollback", "PROC-TEST-001", "--run", "no-such-run", "-e", "workdir=/w", "--no-record"], {2}, "no-such-run"),
    "lint": (["lint"], {0, 1}, "PROC-TEST-001"),
    "explain": (["explain", "command-substitution-argument"], {0}, "$("),
}


def test_every_command_has_a_smoke_entry(capsys: pytest.CaptureFixture[str]) -> None:
    """The unit layer's half of the smoke test: ``procc --help`` lists exactly the SMOKE commands."""
    from compiler.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    listed = re.findall(r"^    (\w+) ", capsys.readouterr().out, re.M)
    assert listed and sorted(listed) == sorted(SMOKE), "a new command needs its SMOKE entry"


# Slow: one procc process per command (about 20 s of CPU under load);
# test_every_command_has_a_smoke_entry keeps the SMOKE table complete in the unit layer.
@pytest.mark.slow
def test_every_command_runs_from_the_console_script(tmp_path: Path) -> None:
    """Each command ``procc --help`` lists does its job in a new project (not just argparse)."""
    listed = re.findall(r"^    (\w+) ", subprocess.run([str(BIN / "procc"), "--help"], capture_output=True,
                                                      text=True, check=True).stdout, re.M)
    assert sorted(listed) == sorted(SMOKE), "a new command needs its SMOKE entry"
    (tmp_path / "procedures").mkdir()
    shutil.copy(FIXTURES / "procedures" / "PROC-TEST-001-four-steps.yml", tmp_path / "procedures")
    for cmd in listed:  # in --help order: compile comes before check
        argv, codes, needle = SMOKE[cmd]
        res = subprocess.run([str(BIN / "procc"), *argv], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120, check=False)
        out = res.stdout + res.stderr
        assert res.returncode in codes, (cmd, res.returncode, out)
        assert "internal error" not in out and "Traceback" not in out, (cmd, out)
        assert needle in out, (cmd, out)


def test_version() -> None:
    out = subprocess.run([sys.executable, "-m", "compiler", "--version"], capture_output=True, text=True,
                         check=True).stdout
    assert re.match(r"procc \d+\.\d+\.\d+", out)


def test_template_has_the_seed_heading_tree_and_frontmatter(procc) -> None:  # type: ignore[no-untyped-def]
    res = procc("template")
    seed = SEED.read_text(encoding="utf-8")
    heads = lambda t: [l for l in _outside_code(t) if re.match(r"^#{1,3} ", l)]  # noqa: E731
    assert heads(res.out) == heads(seed)
    keys = lambda t: [l.split(":")[0] for l in t.split("---\n")[1].splitlines()]  # noqa: E731
    assert keys(res.out) == keys(seed)
    committed = ROOT / "docs" / "backend" / "procedures" / "plantilla-procedimiento-backend.md"
    assert committed.read_text(encoding="utf-8") == res.out


def _outside_code(text: str) -> list[str]:
    out, fence = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence:
            out.append(line)
    return out


def test_schema_is_json_schema(procc) -> None:  # type: ignore[no-untyped-def]
    res = procc("schema")
    data = json.loads(res.out)
    assert data["type"] == "object"
    assert data["additionalProperties"] is False
    assert {"id", "steps", "purpose"} <= set(data["required"])
    assert "validate" in json.dumps(data)


def test_check_names_missing_and_stale_files(procc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = FIXTURES / "procedures" / "PROC-TEST-001-four-steps.yml"
    docs, pbs = tmp_path / "docs", tmp_path / "pb"
    args = [str(src), "--docs-dir", str(docs), "--playbooks-dir", str(pbs)]
    res = procc("check", *args)
    assert res.code == 1 and res.err.count(": missing (run: procc compile)") == 2
    assert procc("compile", *args).code == 0
    assert procc("check", *args).code == 0
    md = docs / "PROC-TEST-001-four-steps.md"
    md.write_text(md.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    res = procc("check", *args)
    assert res.code == 1 and "PROC-TEST-001-four-steps.md: stale" in res.err
    assert "PROC-TEST-001-four-steps.yml" not in res.err


def test_committed_outputs_are_fresh(procc) -> None:  # type: ignore[no-untyped-def]
    res = procc("check")
    assert res.code == 0, res.err


def test_compile_names_outputs_after_the_source(procc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proj = tmp_path / "proj"
    (proj / "procedures").mkdir(parents=True)
    shutil.copy(ROOT / "procedures" / "PROC-BACKEND-000-health-check.yml", proj / "procedures")
    out = subprocess.run([sys.executable, "-m", "compiler", "compile"], cwd=proj, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert (proj / "docs/backend/procedures/PROC-BACKEND-000-health-check.md").is_file()
    assert (proj / "playbooks/PROC-BACKEND-000-health-check.yml").is_file()


def test_compile_does_not_import_ansible(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from compiler.cli import main\n"
        f"rc = main(['compile', {str(FIXTURES / 'procedures' / 'PROC-TEST-001-four-steps.yml')!r},"
        f" '--docs-dir', {str(tmp_path)!r}, '--playbooks-dir', {str(tmp_path)!r}])\n"
        "assert rc == 0, rc\n"
        "bad = sorted(m for m in sys.modules if m == 'ansible' or m.startswith(('ansible.', 'ansible_runner')))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _fresh_catalog(tmp_path: Path) -> Path:
    """A copy of the project: sources with their history, committed outputs, roles (a collection's)."""
    proj = tmp_path / "proj"
    for d in ("procedures", "docs/backend/procedures", "playbooks", "roles"):
        shutil.copytree(ROOT / d, proj / d)
    shutil.copy(ROOT / "galaxy.yml", proj / "galaxy.yml")  # the runbooks name its roles by FQCN
    return proj


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize("where", ["", "procedures", "roles/health", "docs/backend"])
def test_check_passes_from_any_directory_of_the_project(tmp_path: Path, where: str) -> None:
    proj = _fresh_catalog(tmp_path)
    # A runbook, a playbook and a quick card each, and the catalog index.
    files = 3 * len(list((proj / "procedures").glob("*.yml"))) + 1
    out = _cli(proj / where, "check")
    assert out.returncode == 0, out.stderr
    assert f"procc check: {files} generated file(s) up to date" in out.stdout


def test_relative_output_dirs_are_the_project_roots(tmp_path: Path) -> None:
    proj = _fresh_catalog(tmp_path)
    args = ["--docs-dir", "out/docs", "--playbooks-dir", "out/pb"]
    out = _cli(proj / "procedures", "compile", "-q", "PROC-BACKEND-000", *args)
    assert out.returncode == 0, out.stderr
    assert (proj / "out/docs/PROC-BACKEND-000-health-check.md").is_file()
    assert (proj / "out/pb/PROC-BACKEND-000-health-check.yml").is_file()
    assert not (proj / "procedures" / "out").exists()
    # check from elsewhere in the project finds the same files
    assert _cli(proj / "docs", "check", "PROC-BACKEND-000", *args).returncode == 0
