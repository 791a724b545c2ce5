"""Every generated playbook passes --syntax-check, ansible-lint (production) and yamllint."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from compiler import playbook
from compiler.parse import parse_file
from tests.conftest import BIN, FIXTURES, ROOT
from tests.core.test_runs import HOSTILE

pytestmark = [pytest.mark.slow, pytest.mark.ansible]


def _sources(tmp_path: Path) -> list[Path]:
    hostile = tmp_path / "PROC-TEST-066-hostile.yml"
    hostile.write_text(HOSTILE.format(pwned=tmp_path / "pwned"), encoding="utf-8")
    return [*sorted((ROOT / "procedures").glob("*.yml")),
            *sorted((FIXTURES / "procedures").glob("*.yml")), hostile]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("pb")
    out = []
    for src in _sources(tmp):
        for lang in ("es", "en"):
            path = tmp / "playbooks" / f"{src.stem}.{lang}.yml"
            path.parent.mkdir(exist_ok=True)
            path.write_text(playbook.render(parse_file(src).procedure, lang, source=src.name),  # type: ignore[arg-type]
                            encoding="utf-8")
            out.append(path)
    return out


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["ANSIBLE_ROLES_PATH"] = str(ROOT / "roles")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / "collections")  # procc.ops.* from the checkout
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    return env


def test_syntax_check(generated: list[Path]) -> None:
    for path in generated:
        proc = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(path)],
                              capture_output=True, text=True, env=_env(), check=False)
        assert proc.returncode == 0, f"{path.name}: {proc.stdout}{proc.stderr}"


def test_ansible_lint_production(generated: list[Path]) -> None:
    workdir = generated[0].parent.parent
    shutil.copy(ROOT / ".yamllint", workdir / ".yamllint")
    proc = subprocess.run([str(BIN / "ansible-lint"), "--profile", "production", "--offline", "--nocolor",
                           *[str(p) for p in generated]],
                          capture_output=True, text=True, env=_env(), cwd=workdir, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 failure(s), 0 warning(s)" in proc.stdout + proc.stderr


def test_yamllint(generated: list[Path]) -> None:
    proc = subprocess.run([str(BIN / "yamllint"), "-c", str(ROOT / ".yamllint"), "-f", "parsable",
                           *[str(p) for p in generated]], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
