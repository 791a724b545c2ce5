"""Property: whatever a value holds, bash receives it as exactly one argument, equal to the input.

Values are drawn from all of unicode (minus NUL and lone surrogates, which no
environment variable or argv can carry) plus shell and Jinja metacharacters.
The fast property runs the rendered command in bash directly; the slow one
sends the values through the compiled playbook with ansible-playbook on
localhost, the way AWX passes survey answers (``!unsafe`` extra vars).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import shellvars, templating, yamlout
from tests.security.support import ansible_playbook, source, unsafe_vars_file

META = ["$", "`", "'", '"', "\\", ";", "&", "|", "<", ">", "(", ")", "{", "}", "[", "]", "*", "?", "~",
        "#", "!", "\n", "\r", "\t", " ", "%", "=", "-", "{{", "}}", "{%", "%}", "{#", "$(", "${", "$((",
        "EOF", "\nEOF\n", "'\"'", "\\\n", "lookup('pipe','id')"]
VALUES = st.lists(
    st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), st.sampled_from(META)),
    max_size=12,
).map("".join)

# One line per quoting context a parameter can sit in.
CONTEXTS = (
    "python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "
    "{{ v }} \"{{ v }}\" 'q{{ v }}q' \"$(printf %s {{ v }})\" x{{ v }}y >> \"$out\"\n"
    "cat > \"$dir\"/heredoc-{n} <<EOF\n{{ v }}\nEOF\n"
)


def _expected(value: str) -> list[str]:
    # "$(...)" drops trailing newlines: that is bash, not quoting.
    return [value, value, f"q{value}q", value.rstrip("\n"), f"x{value}y"]


def _bash(cmd: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/bash", "-c", "set -euo pipefail\n" + cmd], env={**os.environ, **env},
                          text=True, capture_output=True, timeout=30, check=False)


@pytest.mark.slow  # many child processes (bash or procc): not in the unit layer's minute
@given(VALUES)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_rendered_command_passes_any_value_as_one_argument(tmp_path: Path, value: str) -> None:
    text = CONTEXTS.replace("{n}", "0")
    refs, problems = templating.scan(text, frozenset({"v"}))
    assert problems == []
    rendered, errs = shellvars.render(text, refs)
    assert errs == [] and rendered.names == ("v",)
    out = tmp_path / "argv.jsonl"
    out.unlink(missing_ok=True)
    res = _bash(rendered.text, {"v": value, "out": str(out), "dir": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    assert json.loads(out.read_text(encoding="utf-8", errors="surrogateescape")) == _expected(value)
    assert (tmp_path / "heredoc-0").read_bytes().decode("utf-8") == value + "\n"


# Parameter validation against re.fullmatch (procc's check and the playbook's): tests/unit/test_properties.py.

N = 6


@pytest.mark.slow
@pytest.mark.ansible
@given(st.lists(VALUES, min_size=N, max_size=N))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_values_through_the_compiled_playbook_arrive_intact(tmp_path_factory: pytest.TempPathFactory,
                                                            values: list[str]) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    out = tmp / "argv.jsonl"
    params = "".join(f"  v{i}: {{description: valor, required: false}}\n" for i in range(N))
    run = "out=" + str(out) + "\ndir=" + str(tmp) + "\n" + "".join(
        CONTEXTS.replace("{{ v }}", f"{{{{ v{i} }}}}").replace("{n}", str(i)) for i in range(N))
    text = source("parameters:\n" + params + "steps:\n  - title: Contextos\n    minutes: 1\n    run: "
                  + json.dumps(run) + "\n    irreversible: prueba\n")
    vars_file = unsafe_vars_file(tmp / "survey.yml", {f"v{i}": v for i, v in enumerate(values)})
    res = ansible_playbook(tmp, text, "-e", f"@{vars_file}")
    assert res.returncode == 0, res.stdout[-3000:]
    lines = out.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    assert [json.loads(line) for line in lines] == [_expected(v) for v in values]
    for i, v in enumerate(values):
        assert (tmp / f"heredoc-{i}").read_bytes().decode("utf-8") == v + "\n"


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), VALUES, max_size=5))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_extravars_round_trip_through_ansibles_own_loader(tmp_path: Path, values: dict[str, str]) -> None:
    # Loaded exactly as ansible-playbook loads -e @file (trusted as templates):
    # a value is never retyped, and one with Jinja in it is never a template.
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import is_trusted_as_template

    path = tmp_path / "extravars.yml"
    path.write_text(yamlout.extravars(values), encoding="utf-8")
    loaded = DataLoader().load_from_file(str(path), cache="none", trusted_as_template=True) or {}
    assert loaded == values
    for key, value in values.items():
        assert isinstance(loaded[key], str)
        if "{{" in value or "{%" in value:
            assert not is_trusted_as_template(loaded[key])
