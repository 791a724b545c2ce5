"""Issue 8, items 1-5: a parameter value never changes a command's syntax and is never Jinja.

Compile-time cases assert the positioned diagnostic; run-time cases run the
compiled playbook with plain ansible-playbook on localhost and observe the
outcome: a marker file that must not exist, and the exact argument bash got.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2
import pytest
import yaml

from compiler import shellvars, templating
from compiler.errors import UsageError
from compiler.params import resolve
from compiler.parse import parse_text
from compiler.playbook import SHELL_PREFIX
from tests.security.support import ansible_playbook, compiled, diagnostics, source, unsafe_vars_file


def step(run: str, params: str = "  free: {description: Texto libre, required: true}\n") -> str:
    return source("parameters:\n" + params + "steps:\n  - title: Paso\n    minutes: 1\n    run: "
                  + json.dumps(run) + "\n    irreversible: prueba\n")


def shell_cmd(text: str) -> str:
    """The command of step 1's shell task as bash receives it."""
    pb = yaml.safe_load(compiled(text)[0].replace("!unsafe", ""))
    for task in _walk(pb[0]["tasks"]):
        if "ansible.builtin.shell" in task and task["name"].startswith("Paso 1 |"):
            # What bash receives: the playbook's text after Jinja, which only undoes escapes.
            return jinja2.Environment().from_string(str(task["ansible.builtin.shell"]["cmd"])).render()
    raise AssertionError("no shell task")


def _walk(tasks: list[dict[str, object]]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for t in tasks:
        out.append(t)
        for key in ("block", "rescue", "always"):
            if isinstance(t.get(key), list):
                out.extend(_walk(t[key]))  # type: ignore[arg-type]
    return out


# -- item 3: only declared parameters, checked with Jinja's parser ------------

@pytest.mark.parametrize(("expr", "what"), [
    ("{{ free | default(lookup('pipe','id')) }}", "must be literals"),
    ("{{ lookup('pipe', 'touch /tmp/pwned') }}", "a call"),
    ("{{ free.__class__ }}", "attribute access"),
    ("{{ free['x'] }}", "item access"),
    ("{{ free | default(other) }}", "must be literals"),
    ("{{ free ~ 'x' }}", "an expression"),
    ("{{ undeclared }}", "not a declared parameter"),
])
def test_jinja_beyond_a_plain_reference_is_a_positioned_error(expr: str, what: str) -> None:
    diags = diagnostics(step(f"echo {expr}"))
    assert diags, expr
    assert re.match(r"p\.yml:\d+:\d+: error: ", diags[0]), diags
    assert what in diags[0]


def test_error_points_at_the_expression_inside_a_block_command() -> None:
    text = source("parameters:\n  free: {description: x, required: true}\nsteps:\n  - title: Paso\n"
                  "    minutes: 1\n    run: |\n      echo ok\n      echo {{ lookup('pipe','id') }}\n"
                  "    irreversible: prueba\n")
    diags = diagnostics(text)
    line = text.splitlines().index("      echo {{ lookup('pipe','id') }}") + 1
    assert diags and diags[0].startswith(f"p.yml:{line}:12: error:"), diags


def test_unclosed_braces_do_not_turn_off_the_parameters_after_them() -> None:
    cmd = shell_cmd(step("echo {{ ; mkdir -p {{ free }}/demo"))
    assert cmd.endswith('echo {{ ; mkdir -p "${free}"/demo')


def test_other_jinja_looking_text_reaches_bash_literally() -> None:
    cmd = shell_cmd(step("docker inspect -f '{{.State.Status}}' {{ free }}"))
    assert cmd.endswith("docker inspect -f '{{.State.Status}}' \"${free}\"")
    # and the playbook prints it literally: the delimiters are escaped for Jinja
    playbook_text = compiled(step("docker inspect -f '{{.State.Status}}' {{ free }}"))[0]
    assert "docker inspect -f '{{ '{{' }}.State.Status}}'" in playbook_text


# -- item 1: the syntax of a command never depends on a value -----------------

@pytest.mark.parametrize(("run", "bash"), [
    ("ls {{ free }}/x", 'ls "${free}"/x'),
    ('echo "a {{ free }} b"', 'echo "a ${free} b"'),
    ("echo 'a {{ free }} b'", "echo 'a '\"${free}\"' b'"),
    ('echo "$(cat {{ free }})"', 'echo "$(cat "${free}")"'),
    ("echo `cat {{ free }}`", 'echo `cat "${free}"`'),
    ("echo ${X:-{{ free }}}", 'echo ${X:-"${free}"}'),
    ("cat <<EOF\n{{ free }}\nEOF", "cat <<EOF\n${free}\nEOF"),
    ("echo x # {{ free }}", "echo x # ${free}"),
])
def test_each_quoting_context_gets_a_variable(run: str, bash: str) -> None:
    assert shell_cmd(step(run)).endswith(bash)


@pytest.mark.parametrize(("run", "fix"), [
    ("psql <<'SQL'\nSELECT '{{ free }}';\nSQL", "psql -v"),
    ("echo $(( {{ free }} + 1 ))", "type: int"),
    ("(( {{ free }} > 1 ))", "type: int"),
    ("[[ {{ free }} -eq 1 ]]", "type: int"),
    ("echo $'{{ free }}'", "outside the $'...'"),
    ("echo {{ free | upper }}", "use bash instead"),
])
def test_a_use_that_cannot_be_made_safe_is_an_error_with_the_fix(run: str, fix: str) -> None:
    diags = diagnostics(step(run))
    assert diags and "[unsafe-shell-use]" in diags[0], diags
    assert fix in diags[0]


def test_arithmetic_is_fine_for_an_int_parameter() -> None:
    text = step("echo $(( {{ count }} + 1 ))", "  count: {description: numero, type: int, default: '2'}\n")
    assert diagnostics(text) == []
    assert shell_cmd(text).endswith("echo $(( ${count} + 1 ))")


@pytest.mark.parametrize("task", [
    "{ansible.builtin.shell: 'echo {{ free }}'}",
    "{ansible.builtin.raw: 'echo {{ free }}'}",
    "{ansible.builtin.command: 'echo {{ free }}'}",
    "{ansible.builtin.command: {cmd: 'echo {{ free }}'}}",
])
def test_shell_modules_with_parameters_are_refused(task: str) -> None:
    text = source("parameters:\n  free: {description: x, required: true}\nsteps:\n  - title: Paso\n"
                  f"    minutes: 1\n    task: {task}\n    irreversible: prueba\n")
    diags = diagnostics(text)
    assert diags and "[unsafe-shell-use]" in diags[0], diags


def test_command_argv_with_a_parameter_is_accepted() -> None:
    text = source("parameters:\n  free: {description: x, required: true}\nsteps:\n  - title: Paso\n"
                  "    minutes: 1\n    task: {ansible.builtin.command: {argv: [echo, '{{ free }}']}}\n"
                  "    irreversible: prueba\n")
    assert diagnostics(text) == []


def test_carriage_return_in_a_command_is_an_error() -> None:
    diags = diagnostics(step("echo a\r\necho b"))
    assert diags and "carriage return" in diags[0]


def test_runbook_and_playbook_show_the_same_bash_text() -> None:
    text = step("echo {{ free }}\n\n\n")
    _, md = compiled(text)
    cmd = shell_cmd(text)
    body = cmd.split(SHELL_PREFIX, 1)[1]
    assert body == 'echo "${free}"'
    assert f"```bash\n{body}\n```" in md


# -- item 4: every free-text field is data --------------------------------------

@pytest.mark.parametrize("role", ["{{ lookup('pipe','id') }}", "../../etc", "Role-Name", "a.b"])
def test_role_names_are_validated(role: str) -> None:
    text = source("steps:\n  - title: Paso\n    minutes: 1\n    role: " + json.dumps(role)
                  + "\n    irreversible: prueba\n")
    assert any("'role' must be a role name" in d for d in diagnostics(text)), diagnostics(text)


def test_a_collection_role_is_accepted() -> None:
    text = source("steps:\n  - title: Paso\n    minutes: 1\n    role: procc.ops.health\n    irreversible: x\n")
    assert diagnostics(text) == []


def test_a_metric_name_is_never_templated() -> None:
    text = source("steps:\n  - title: Paso\n    minutes: 1\n    run: 'true'\n    irreversible: x\n"
                  "final_validation:\n  metrics:\n    - name: \"{{ lookup('pipe','touch /tmp/pwned') }}\"\n"
                  "      run: echo 1\n      below: 2\n")
    pb = compiled(text)[0]
    live = [line for line in pb.splitlines() if "lookup(" in line and "!unsafe" not in line
            and "name:" not in line]
    assert live == []


@pytest.mark.parametrize(("key", "value"), [
    ("hosts", "{{ lookup('pipe','id') }}"), ("hosts", "web'),lookup('pipe','id"), ("serial", "{{ 1 }}"),
    ("serial", "30%; id"),
])
def test_hosts_and_serial_are_patterns_not_templates(key: str, value: str) -> None:
    text = step("true").replace("hosts: all\n", f"hosts: all\n{key}: {json.dumps(value)}\n" if key != "hosts"
                                 else f"hosts: {json.dumps(value)}\n")
    diags = diagnostics(text)
    assert diags and re.match(rf"p\.yml:\d+:\d+: error: {key}: ", diags[0]), diags


def test_a_rolling_percentage_and_a_group_pattern_are_accepted() -> None:
    text = step("true").replace("hosts: all\n", "hosts: 'backend:&staging:!db1'\nserial: 30%\n")
    assert diagnostics(text) == []


# -- item 5: patterns are fullmatch, names are not Ansible's ----------------------

@pytest.mark.parametrize("name", ["hostvars", "inventory_hostname", "ansible_user", "omit", "port",
                                  "procc_x", "loop", "environment", "_x"])
def test_reserved_parameter_names_are_errors(name: str) -> None:
    diags = diagnostics(source(f"parameters:\n  {name}: {{description: x}}\n"
                               "steps:\n  - title: Paso\n    minutes: 1\n    run: 'true'\n    irreversible: x\n"))
    assert diags and name in diags[0]


def test_the_playbook_anchors_a_pattern_as_a_whole() -> None:
    text = step("echo {{ release }}", "  release: {description: r, required: true, "
                "pattern: '^v\\d+\\.\\d+\\.\\d+|latest$'}\n")
    pb = yaml.safe_load(compiled(text)[0].replace("!unsafe", ""))
    check = next(t for t in pb[0]["tasks"] if t["name"] == "Procc | Verificar parametros")
    anchored = check["vars"]["procc_pattern_release"]
    evil = "v1.2.3-evil; rm -rf /"
    # Ansible's match test is re.match: with the anchoring it agrees with re.fullmatch.
    assert re.match(anchored, evil) is None
    assert re.match(anchored, "v1.2.3") and re.match(anchored, "latest")
    with pytest.raises(UsageError, match=r"parameter 'release' \(string\) = .* does not match"):
        resolve(parse_text(text), {"release": evil})


@pytest.mark.parametrize(("ptype", "bad"), [
    ("int", "1; id"), ("port", "70000"), ("port", "80a"), ("bool", "maybe"),
    ("path", "-rf"), ("path", "/a\nb"), ("url", "javascript:alert(1)"), ("url", "file:///etc/passwd"),
])
def test_typed_parameters_refuse_bad_values_before_anything_runs(ptype: str, bad: str) -> None:
    proc = parse_text(step("echo {{ v }}", f"  v: {{description: v, type: {ptype}, required: true}}\n"))
    with pytest.raises(UsageError, match=f"'v' \\({ptype}\\)"):
        resolve(proc, {"v": bad})


def test_a_default_that_breaks_its_own_type_is_a_compile_error() -> None:
    diags = diagnostics(step("echo {{ v }}", "  v: {description: v, type: port, default: '99999'}\n"))
    assert diags and "is not a port number" in diags[0]


def test_scan_agrees_with_the_declared_names() -> None:
    refs, problems = templating.scan("{{ a }} {{ b }} {{ c | default('x') }}", frozenset({"a", "c"}))
    assert [r.name for r in refs] == ["a", "c"]
    assert len(problems) == 1 and "'{{ b }}'" in problems[0].message
    rendered, errs = shellvars.render("x {{ a }}", templating.scan("x {{ a }}")[0])
    assert rendered.text == 'x "${a}"' and errs == []


# -- real runs: plain ansible-playbook, values from -e and from an AWX-like !unsafe file --

HOSTILE = {
    "semicolon": "x; touch {marker}",
    "subst": "$(touch {marker})",
    "backticks": "`touch {marker}`",
    "newline": "a\ntouch {marker}",
    "quotes": "'\"; touch {marker}; echo \"'",
    "jinja": "{{{{ lookup('pipe', 'touch {marker}') }}}}",
}

CONTEXTS = """\
    run: |
      out={out}
      python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' {{{{ {p} }}}} "{{{{ {p} }}}}" 'q{{{{ {p} }}}}q' "$(printf %s {{{{ {p} }}}})" >> "$out"
      cat <<EOF >> "$out"
      {{{{ {p} }}}}
      EOF
"""


def _contexts_procedure(names: list[str], out: Path) -> str:
    params = "".join(f"  {n}: {{description: valor hostil, required: true}}\n" for n in names)
    steps = "".join(
        f"  - title: Contextos de {n}\n    minutes: 1\n" + CONTEXTS.format(out=out, p=n)
        + "    irreversible: prueba\n" for n in names)
    return source("parameters:\n" + params + "steps:\n" + steps)


@pytest.mark.slow
@pytest.mark.ansible
def test_hostile_values_from_an_awx_survey_stay_one_argument(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    out = tmp_path / "argv.jsonl"
    values = {k: v.format(marker=marker) for k, v in HOSTILE.items()}
    text = _contexts_procedure(list(values), out)
    vars_file = unsafe_vars_file(tmp_path / "survey.yml", values)
    res = ansible_playbook(tmp_path, text, "-e", f"@{vars_file}")
    assert res.returncode == 0, res.stdout[-3000:]
    assert not marker.exists()
    lines = out.read_text(encoding="utf-8").split("\n")
    for name, value in values.items():
        argv_line = next(json.loads(line) for line in lines if line.startswith("["))
        lines = lines[lines.index(json.dumps(argv_line)) + 1:]
        assert argv_line == [value, value, f"q{value}q", value], name
        # the here-document line carries the value as text
        assert "\n".join(lines).startswith(value), name


@pytest.mark.slow
@pytest.mark.ansible
def test_shell_metacharacters_from_the_command_line_stay_data(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    out = tmp_path / "argv.jsonl"
    values = {k: v.format(marker=marker) for k, v in HOSTILE.items() if k != "jinja"}
    text = _contexts_procedure(list(values), out)
    args: list[str] = []
    for k, v in values.items():
        args += ["-e", json.dumps({k: v})]
    res = ansible_playbook(tmp_path, text, *args)
    assert res.returncode == 0, res.stdout[-3000:]
    assert not marker.exists()
    argvs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.startswith("[")]
    assert [a[0] for a in argvs] == list(values.values())


@pytest.mark.slow
@pytest.mark.ansible
def test_the_playbook_refuses_a_value_the_pattern_only_matches_in_part(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = step(f"touch {marker}-{{{{ release }}}}", "  release: {description: r, required: true, "
                "pattern: '^v\\d+\\.\\d+\\.\\d+|latest$'}\n")
    res = ansible_playbook(tmp_path, text, "-e", json.dumps({"release": "v1.2.3-evil; rm -rf /x"}))
    assert res.returncode != 0
    assert "Procc | Verificar parametros" in res.stdout
    assert not list(tmp_path.glob("ran*"))


@pytest.mark.slow
@pytest.mark.ansible
def test_a_failing_secret_command_says_why_without_the_value(tmp_path: Path) -> None:
    secret = "s3cr3t-T0ken-xyz"
    text = source(
        "parameters:\n  token: {description: token, secret: true, required: true}\n"
        "steps:\n  - title: Usar el token\n    minutes: 1\n"
        "    run: |\n      echo \"using {{ token }}\"\n      echo \"denied for {{ token }}: No such file\" >&2\n"
        "      exit 3\n    irreversible: prueba\n")
    vars_file = unsafe_vars_file(tmp_path / "vault.yml", {"token": secret})
    res = ansible_playbook(tmp_path, text, "-e", f"@{vars_file}")
    assert res.returncode != 0
    assert secret not in res.stdout + res.stderr
    assert "denied for ********: No such file" in res.stdout
