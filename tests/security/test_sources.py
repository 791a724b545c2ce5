"""Item 11 of issue 8: hostile sources get clean answers.

Missing or looping paths exit 2 naming the path; an alias bomb or absurd
nesting is refused quickly with a positioned error, by a limit in the loader;
and the playbook YAML written through libyaml loads back to exactly the data,
stays clean for yamllint, whatever the strings hold.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import yamlout
from compiler.cli import main
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
PROCC = Path(sys.executable).parent / "procc"


def _procc(*args: str, cwd: Path, timeout: float = 60) -> tuple[int, str]:
    done = subprocess.run([str(PROCC), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False)
    return done.returncode, done.stderr


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "procedures").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("arg", ["procedures/no-such.yml", "/nonexistent/dir/PROC-X-001.yml", "PROC-*",
                                 "procedures/../../nowhere.yml"])
def test_missing_path_exits_2_naming_it(project: Path, capsys: pytest.CaptureFixture[str], arg: str) -> None:
    assert main(["compile", arg]) == 2
    err = capsys.readouterr().err
    assert arg in err and "internal error" not in err


def test_symlink_loop_exits_2_naming_it(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = project / "procedures" / "loop.yml"
    loop.symlink_to(loop)
    for arg in ("procedures/loop.yml", str(loop)):
        assert main(["compile", arg]) == 2
        err = capsys.readouterr().err
        assert arg in err and "symbolic links" in err and "internal error" not in err


def test_symlink_loop_inside_a_directory_is_a_positioned_error(project: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    loop = project / "procedures" / "loop.yml"
    loop.symlink_to(loop)
    assert main(["compile", "procedures"]) == 1
    err = capsys.readouterr().err
    assert "procedures/loop.yml:1:1: error: cannot read: Too many levels of symbolic links [io]" in err


def test_alias_bomb_is_refused_with_a_position(project: Path) -> None:
    # The refusal comes from the loader's alias limit, before any expansion: without
    # it the compile would not end (the subprocess timeout turns that into a failure;
    # how fast the refusal is belongs to the benchmarks, not to a test).
    bomb = FIXTURES / "src-alias-bomb.yml"
    assert bomb.stat().st_size < 1024
    code, err = _procc("compile", str(bomb), cwd=project, timeout=120)
    assert code == 1
    assert f"{bomb}:7:1: error: aliases expand to more than" in err and "[yaml-alias-limit]" in err


def test_deep_nesting_is_refused_with_a_position(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = FIXTURES / "src-deep.yml"
    assert main(["compile", str(src)]) == 1
    err = capsys.readouterr().err
    assert f"{src}:4:" in err and "nesting deeper than" in err and "[yaml-too-deep]" in err


def test_anchors_and_aliases_still_work(project: Path) -> None:
    src = FIXTURES / "src-anchors-ok.yml"
    assert main(["compile", "-q", str(src), "--docs-dir", "out", "--playbooks-dir", "out"]) == 0
    runbook = (project / "out" / "src-anchors-ok.md").read_text(encoding="utf-8")
    assert runbook.count("- [ ] Revisar el registro") == 2


NASTY = [
    "key: |", "- item", "a: b", "x:", "- |-", "#", "? q", ": v", "|", ">", "'", '"', "\\", "{{ x }}",
    "word " * 40 + "end:", "- " + "y " * 70 + "- z", "a\nb", "a\n- b\nc: |", "trailing ", " leading",
    "tab\there", "\u2028sep", "x\r\ny", "yes", "null", "0o17", "~", "&a *a !t %p @ `", "long-" * 40,
    "k: " + "v " * 70 + ": |\n  - nope",
]


def _nasty_data(odd_keys: bool = True) -> list[Any]:
    tasks: list[Any] = []
    for i, s in enumerate(NASTY):
        plain_key = len(s) < 120 and not any(c in s for c in "\n\r\u2028")
        tasks.append({"name": yamlout.Unsafe(s) if i % 2 else s,
                      "vars": {"v": s, "l": [s, [s, {"k": s}], []], "e": {}},
                      "tags": [s, "x"],
                      s if plain_key or odd_keys else f"k{i}": {"nested": [s]}})
    return [{"name": "play", "hosts": "all", "tasks": tasks, "vars": {"list": [[["deep", NASTY[0]]]]}}]


class _UnsafeLoader(yaml.SafeLoader):
    pass


_UnsafeLoader.add_constructor("!unsafe", lambda loader, node: ("unsafe", loader.construct_scalar(node)))


def _plain(data: Any) -> Any:
    if isinstance(data, yamlout.Unsafe):
        return ("unsafe", str(data)) if yamlout._DELIMS.search(data) else str(data)
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


def test_playbook_yaml_loads_back_to_the_same_data_and_lints_clean() -> None:
    from yamllint import config, linter

    data = _nasty_data()
    text = yamlout.dump(data)
    assert yaml.load(text, Loader=_UnsafeLoader) == _plain(data)
    assert text == yamlout.dump(data)  # deterministic
    conf = config.YamlLintConfig(file=str(ROOT / ".yamllint"))
    problems = [p for p in linter.run(text, conf) if p.rule != "line-length"]
    assert problems == []
    # The sequences are indented under their keys, as with the Python emitter.
    assert "\n  tasks:\n    - name:" in text


def test_libyaml_output_is_re_indented_not_reinterpreted() -> None:
    """Hostile strings everywhere, folded over lines: the fast path means what libyaml wrote."""
    data = _nasty_data(odd_keys=False)
    fast = yamlout._fast(data, True)
    assert fast is not None
    raw = str(yaml.serialize(yamlout._Nodes().run(data), Dumper=yamlout._CDumper, allow_unicode=True,
                             explicit_start=True, width=yamlout.WIDTH, indent=2))
    assert fast != raw  # sequences were moved ...
    assert yamlout._events(fast) == yamlout._events(raw)  # ... and nothing else changed
    # A key libyaml writes as "? key" goes to the pure-Python emitter.
    assert yamlout._fast(_nasty_data(), True) is None
