"""Typed parameters in metric thresholds (issue 13, item 4): float and duration
types, a threshold given as '{{ parameter }}' of an int or float parameter,
checked before anything runs and compared as a number by the playbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import playbook
from compiler.errors import CompileError
from compiler.model import check_value
from compiler.parse import parse_text

CLEAN = (Path(__file__).parents[1] / "lint" / "fixtures" / "clean.yml").read_text(encoding="utf-8")
PARAMS = """    default: /tmp/procc-lint
  max_used:
    description: Porcentaje maximo de disco usado
    type: float
    default: 95.5
  min_free_files:
    description: Minimo de inodos libres
    type: int
    default: 10
  label:
    description: Etiqueta
    default: x"""
METRIC = """    - {name: disk_used_pct, run: "df -P / | awk 'NR==2 {print $5+0}'", below: 95}"""


def _proc(metric: str, params: str = PARAMS) -> Any:
    return parse_text(CLEAN.replace("    default: /tmp/procc-lint", params).replace(METRIC, metric), "p.yml")


def _errors(metric: str, params: str = PARAMS) -> list[str]:
    with pytest.raises(CompileError) as exc:
        _proc(metric, params)
    return [d.format() for d in exc.value.diagnostics]


@pytest.mark.parametrize(("ptype", "good", "bad"), [
    ("float", ["0", "95.5", "-1.25", "10"], ["1e3", "9.", ".5", "1,5", "nan", "1.5; rm -rf /", ""]),
    ("duration", ["90", "90s", "5m", "2h", "1d", "0.5h"], ["5 m", "5min", "-5s", "1h30m", "5m;id", ""]),
])
def test_float_and_duration_values_are_checked(ptype: str, good: list[str], bad: list[str]) -> None:
    assert [v for v in good if check_value(ptype, v) is not None] == []
    assert [v for v in bad if check_value(ptype, v) is None] == []
    pattern = playbook.TYPE_PATTERNS[ptype]  # the playbook checks the same language
    import re

    assert [v for v in good if not re.match(pattern, v)] == []
    assert [v for v in bad if re.match(pattern, v)] == []


def test_a_threshold_can_name_a_numeric_parameter_and_the_playbook_compares_numbers() -> None:
    proc = _proc('    - {name: disk_used_pct, run: "df -P / | awk \'NR==2 {print $5+0}\'", '
                 'below: "{{ max_used }}", above: "{{min_free_files}}"}')
    m = proc.final_validation.metrics[0]
    assert (m.threshold_param("below"), m.threshold_param("above")) == ("max_used", "min_free_files")
    plays = yaml.safe_load(playbook.render(proc, "en"))
    asserts = [t for t in _tasks(plays) if "ansible.builtin.assert" in t
               and "procc_metric_name" in t.get("vars", {})]
    assert len(asserts) == 1
    that = asserts[0]["ansible.builtin.assert"]["that"]
    assert "(procc_metric.stdout | trim | float) < ((max_used | default(procc_default_max_used)) | float)" in that
    assert "(procc_metric.stdout | trim | float) > ((min_free_files | default(procc_default_min_free_files))" \
           " | float)" in that
    assert asserts[0]["name"].endswith("disk_used_pct < max_used and > min_free_files")


def _tasks(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "name" in node and any(k.startswith("ansible.builtin.") for k in node):
            out.append(node)
        for v in node.values():
            out.extend(_tasks(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_tasks(v))
    return out


def test_a_threshold_naming_a_string_parameter_is_refused_with_the_fix() -> None:
    got = _errors('    - {name: d, run: "df -P / | awk \'NR==2 {print $5+0}\'", below: "{{ label }}"}')
    assert len(got) == 1 and "names a parameter of type 'string'" in got[0] and "type: int or type: float" in got[0]
    assert got[0].endswith("[invalid-value]")


def test_a_threshold_naming_an_undeclared_parameter_gets_did_you_mean() -> None:
    got = _errors('    - {name: d, run: "df -P / | awk \'NR==2 {print $5+0}\'", below: "{{ max_usd }}"}')
    assert len(got) == 1 and "did you mean '{{ max_used }}'?" in got[0] and got[0].endswith("[undeclared-parameter]")


def test_a_threshold_is_a_number_or_a_parameter_reference_only() -> None:
    got = _errors('    - {name: d, run: "df -P / | awk \'NR==2 {print $5+0}\'", below: "{{ max_used }} + 1"}')
    assert len(got) == 1 and "a threshold is a number or '{{ parameter }}'" in got[0]


@pytest.mark.slow
@pytest.mark.ansible
@pytest.mark.parametrize(("value", "rc", "says"), [
    ("50", 0, "disk_used_pct = 42.5 (< 50.0)"),
    ("40.5", 2, "disk_used_pct = 42.5, required < 40.5"),
    ("50; touch /tmp/procc-pwned", 2, "invalid or missing parameters"),
])
def test_plain_ansible_playbook_compares_against_the_parameters_value(
        tmp_path: Path, value: str, rc: int, says: str) -> None:
    """A real run: the measured 42.5 against -e used_limit; a value that is not a number stops the run first."""
    import json
    import os
    import subprocess
    import sys

    params = PARAMS.replace("max_used:", "used_limit:")
    metric = ('    - {name: disk_used_pct, run: "echo 42.5", below: "{{ used_limit }}"}')
    text = (CLEAN.replace("    default: /tmp/procc-lint", params).replace(METRIC, metric)
            .replace('    - {url: "http://localhost:8080/health", status: 200}\n', "")
            .replace("  health:\n", "").replace("/tmp/procc-lint", str(tmp_path)))
    proc = parse_text(text, "p.yml")
    pb = tmp_path / "pb.yml"
    pb.write_text(playbook.render(proc, "en"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROCC_", "ANSIBLE_"))}
    env["ANSIBLE_NOCOLOR"] = "1"
    res = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         "-e", f"ansible_python_interpreter={sys.executable}", "-e", json.dumps({"used_limit": value}), str(pb)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == rc, out
    assert says in out, out
    assert not Path("/tmp/procc-pwned").exists()
    # The step ran (and, on failure, was rolled back) only when the value was a number.
    assert (tmp_path / "marca").exists() is (rc == 0)
