"""``procc awx``: job templates and surveys, validated against AWX's documented survey format.

The validator below encodes what AWX itself accepts (facts from AWX's API
docs for ``/api/v2/job_templates/N/survey_spec/`` and its survey
validation: ``JobTemplateSurveySpec._validate_spec_data`` on save,
``SurveyJobTemplateMixin._survey_element_validation`` on launch), as a JSON
Schema plus the rules a schema cannot say. procc adds two of its own: a
password question never carries a default, and a variable is an Ansible
variable name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import BIN, ROOT

PROCC = str(BIN / "procc")
CATALOG = sorted((ROOT / "procedures").glob("*.yml"))

# ---------------------------------------------------------------------------
# AWX's survey spec format

# awx.main.constants.SURVEY_TYPE_MAPPING: question type -> type of its default.
AWX_TYPES = ["text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"]
_STRING_TYPES = ["text", "textarea", "password", "multiplechoice", "multiselect"]


def _default_type(qtypes: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    """``default`` of these question types must match ``schema`` unless it is "" (AWX skips "")."""
    return {
        "if": {"properties": {"type": {"enum": qtypes}}, "required": ["type"]},
        "then": {"properties": {"default": {"anyOf": [{"const": ""}, schema]}}},
    }


SURVEY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    # 'name', 'description' (strings) and 'spec' (a non-empty list) are required.
    "required": ["name", "description", "spec"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "spec": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/question"}},
    },
    "$defs": {
        "question": {
            "type": "object",
            # Each question is a JSON object with these four, strings but 'required' (a boolean).
            "required": ["type", "question_name", "variable", "required"],
            "properties": {
                "type": {"enum": AWX_TYPES},
                "question_name": {"type": "string"},
                "question_description": {"type": "string"},
                "variable": {"type": "string"},
                "required": {"type": "boolean"},
                # min and max: an integer or null (the API rejects "" and strings).
                "min": {"type": ["integer", "null"]},
                "max": {"type": ["integer", "null"]},
                # choices: a list, or one string with a choice per line.
                "choices": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            },
            "allOf": [
                _default_type(_STRING_TYPES, {"type": "string"}),
                _default_type(["integer"], {"type": "integer"}),
                _default_type(["float"], {"type": "number"}),
                # multiplechoice and multiselect must list their choices.
                {"if": {"properties": {"type": {"enum": ["multiplechoice", "multiselect"]}}},
                 "then": {"required": ["choices"]}},
            ],
        },
    },
}


def _lines(value: Any) -> list[str]:
    """Choices or defaults as AWX reads them: a list, or the non-blank lines of a string."""
    if isinstance(value, str):
        return [line for line in value.splitlines() if line.strip()]
    return list(value)


def awx_problems(spec: Any) -> list[str]:
    """Why AWX would refuse ``spec`` (or silently ignore part of it): [] when it takes it as it is."""
    found = [f"schema: {e.message} at {list(e.absolute_path)}"
             for e in jsonschema.Draft202012Validator(SURVEY_SCHEMA).iter_errors(spec)]
    if found:
        return found
    seen: set[str] = set()
    for i, q in enumerate(spec["spec"]):
        if q["variable"] in seen:  # "'variable' duplicated in survey question"
            found.append(f"{i}: duplicated variable {q['variable']}")
        seen.add(q["variable"])
        default = q.get("default")
        if q["type"] in ("multiplechoice", "multiselect") and default not in (None, ""):
            defaults = _lines(default)
            if q["type"] == "multiplechoice" and len(defaults) > 1:  # one default for single select
                found.append(f"{i}: multiple choice with several defaults")
            if any(d not in _lines(q["choices"]) for d in defaults):  # "Default choice must be ... from the choices"
                found.append(f"{i}: default not among the choices")
        if isinstance(default, str) and default.startswith("$encrypted$"):
            # Reserved for password questions, and only to keep an encrypted default the
            # template already has: a new spec (a file) cannot use it.
            found.append(f"{i}: $encrypted$ default in a new survey")
        if default not in (None, "") and not _in_bounds(q, default):
            # At launch AWX validates a default like an answer and silently drops it when it fails.
            found.append(f"{i}: default outside min/max")
    return found


def _in_bounds(q: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` passes the question's min and max as AWX checks answers (length for text)."""
    if q["type"] in ("multiplechoice", "multiselect"):
        return True
    measure = len(value) if q["type"] in ("text", "textarea", "password") else value
    low, high = q.get("min"), q.get("max")
    return (low is None or measure >= low) and (high is None or measure <= high)


def procc_problems(spec: dict[str, Any]) -> list[str]:
    """procc's own rules on top of AWX's."""
    found = []
    for i, q in enumerate(spec["spec"]):
        if q["type"] == "password" and "default" in q:
            found.append(f"{i}: a password question with a default")
        if not (q["variable"].isidentifier() and q["variable"].isascii()):
            found.append(f"{i}: {q['variable']!r} is not an Ansible variable name")
    return found


# The options of the awx.awx.job_template module (awx_collection/plugins/modules/job_template.py),
# with the types the module converts them to.
MODULE_OPTIONS: dict[str, str] = {
    **dict.fromkeys(["name", "new_name", "copy_from", "description", "organization", "job_type", "inventory",
                     "project", "playbook", "credential", "vault_credential", "execution_environment",
                     "custom_virtualenv", "limit", "job_tags", "skip_tags", "start_at_task", "host_config_key",
                     "scm_branch", "webhook_service", "webhook_credential", "state"], "str"),
    **dict.fromkeys(["credentials", "instance_groups", "labels", "notification_templates_started",
                     "notification_templates_success", "notification_templates_error"], "list"),
    **dict.fromkeys(["forks", "verbosity", "timeout", "job_slice_count"], "int"),
    **dict.fromkeys(["extra_vars", "survey_spec"], "dict"),
    **dict.fromkeys(["force_handlers", "use_fact_cache", "ask_diff_mode_on_launch", "ask_variables_on_launch",
                     "ask_limit_on_launch", "ask_tags_on_launch", "ask_skip_tags_on_launch",
                     "ask_job_type_on_launch", "ask_verbosity_on_launch", "ask_inventory_on_launch",
                     "ask_credential_on_launch", "ask_execution_environment_on_launch", "ask_forks_on_launch",
                     "ask_instance_groups_on_launch", "ask_job_slice_count_on_launch", "ask_labels_on_launch",
                     "ask_timeout_on_launch", "survey_enabled", "become_enabled", "diff_mode",
                     "allow_simultaneous", "ask_scm_branch_on_launch", "prevent_instance_group_fallback"], "bool"),
}


class _TagLoader(yaml.SafeLoader):
    """Loads ``!unsafe`` scalars as :class:`Tagged` strings, to see what Ansible will never template."""


class Tagged(str):
    """A string that carried the ``!unsafe`` tag."""


_TagLoader.add_constructor("!unsafe", lambda loader, node: Tagged(loader.construct_scalar(node)))


def load_job_template(path: Path) -> dict[str, Any]:
    """The ``awx.awx.job_template`` arguments of a generated playbook."""
    play = yaml.load(path.read_text(encoding="utf-8"), Loader=_TagLoader)
    (task,) = [t for t in play[0]["tasks"] if "awx.awx.job_template" in t]
    args: dict[str, Any] = task["awx.awx.job_template"]
    return args


def procc(*argv: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROCC, *argv], cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **(env or {})})


# ---------------------------------------------------------------------------
# The catalog


@pytest.fixture(scope="module")
def catalog_out() -> Iterator[Path]:
    # The header's ansible-playbook line holds the absolute output path, so a
    # long one (pytest-xdist adds popen-gwN/) breaks yamllint's 160 columns:
    # a short path like a user's ./awx keeps the comparison about the content.
    out = Path(tempfile.mkdtemp(prefix="awx", dir="/tmp"))
    try:
        res = procc("awx", "--out", str(out))
        assert res.returncode == 0, res.stderr
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)


@pytest.mark.parametrize("source", CATALOG, ids=lambda p: p.stem[:16])
def test_every_catalog_procedure_gets_a_valid_survey_and_job_template(catalog_out: Path, source: Path) -> None:
    params = yaml.safe_load(source.read_text(encoding="utf-8"))["parameters"]
    spec = json.loads((catalog_out / f"{source.stem}.survey.json").read_text(encoding="utf-8"))
    assert awx_problems(spec) == []
    assert procc_problems(spec) == []
    assert [q["variable"] for q in spec["spec"]] == list(params)
    for q in spec["spec"]:
        assert q["required"] == bool(params[q["variable"]].get("required", False))
    args = load_job_template(catalog_out / f"{source.stem}.yml")
    assert set(args) <= set(MODULE_OPTIONS), set(args) - set(MODULE_OPTIONS)
    assert args["survey_spec"] == spec and args["survey_enabled"] is True
    assert (ROOT / args["playbook"]).is_file() and args["playbook"] == f"playbooks/{source.stem}.yml"
    assert args["name"].startswith(source.name[:16]) and len(args["name"]) <= 512  # AWX's limit
    assert args["ask_limit_on_launch"] is True and args["ask_variables_on_launch"] is False
    assert args["allow_simultaneous"] is False
    assert args["extra_vars"] == {"procc_run_id": "awx-{{ awx_job_id }}"}
    assert isinstance(args["extra_vars"]["procc_run_id"], Tagged)  # sent to AWX as text, templated by AWX


def test_generated_job_templates_pass_yamllint(catalog_out: Path) -> None:
    res = subprocess.run([str(BIN / "yamllint"), "-s", "-c", str(ROOT / ".yamllint"), str(catalog_out)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout


def test_output_is_deterministic(catalog_out: Path) -> None:
    before = {f.name: f.read_bytes() for f in catalog_out.iterdir()}
    for f in catalog_out.iterdir():
        f.unlink()
    res = procc("awx", "--out", str(catalog_out), env={"PYTHONHASHSEED": "7"})
    assert res.returncode == 0, res.stderr
    assert {f.name: f.read_bytes() for f in catalog_out.iterdir()} == before
    assert "0 file(s) changed" in procc("awx", "--out", str(catalog_out)).stdout


# ---------------------------------------------------------------------------
# The validator fails on what AWX refuses

def _valid() -> dict[str, Any]:
    return {
        "name": "s", "description": "d",
        "spec": [
            {"type": "text", "question_name": "q", "variable": "a", "required": True, "min": 1, "default": "x"},
            {"type": "integer", "question_name": "q", "variable": "b", "required": False, "min": 1, "max": 65535,
             "default": 8080},
            {"type": "multiplechoice", "question_name": "q", "variable": "c", "required": False,
             "choices": ["one", "two"], "default": "one"},
            {"type": "password", "question_name": "q", "variable": "d", "required": False},
        ],
    }


def _set(path: list[Any], value: Any) -> Any:
    def mutate(spec: dict[str, Any]) -> None:
        node = spec
        for key in path[:-1]:
            node = node[key]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return mutate


_DELETE = object()
INVALID = {
    "no name": _set(["name"], _DELETE),
    "no description": _set(["description"], _DELETE),
    "description not a string": _set(["description"], 3),
    "spec not a list": _set(["spec"], {"a": 1}),
    "empty spec": _set(["spec"], []),
    "question not an object": _set(["spec", 0], "a"),
    "no type": _set(["spec", 0, "type"], _DELETE),
    "no question_name": _set(["spec", 0, "question_name"], _DELETE),
    "no variable": _set(["spec", 0, "variable"], _DELETE),
    "no required": _set(["spec", 0, "required"], _DELETE),
    "required not a boolean": _set(["spec", 0, "required"], "true"),
    "unknown type": _set(["spec", 0, "type"], "checkbox"),
    "duplicate variable": _set(["spec", 1, "variable"], "a"),
    "integer with a string default": _set(["spec", 1, "default"], "8080"),
    "text with an integer default": _set(["spec", 0, "default"], 5),
    "min not an integer": _set(["spec", 0, "min"], "1"),
    "max as an empty string": _set(["spec", 1, "max"], ""),
    "multiplechoice without choices": _set(["spec", 2, "choices"], _DELETE),
    "default not among the choices": _set(["spec", 2, "default"], "three"),
    "two defaults for a single choice": _set(["spec", 2, "default"], "one\ntwo"),
    "$encrypted$ on a text question": _set(["spec", 0, "default"], "$encrypted$"),
    "$encrypted$ for a new password default": _set(["spec", 3, "default"], "$encrypted$foo"),
    "integer default above max": _set(["spec", 1, "default"], 70000),
    "text default shorter than min": _set(["spec", 0, "min"], 2),
}


def test_the_valid_example_passes() -> None:
    assert awx_problems(_valid()) == [] and procc_problems(_valid()) == []


@pytest.mark.parametrize("mutate", INVALID.values(), ids=list(INVALID))
def test_the_validator_rejects_what_awx_rejects(mutate: Any) -> None:
    spec = _valid()
    mutate(spec)
    assert awx_problems(spec) != []


def test_procc_rules_reject_a_password_default_and_a_bad_variable() -> None:
    spec = _valid()
    spec["spec"][3]["default"] = "hunter2"
    assert awx_problems(spec) == []  # AWX would take it, and store the secret
    assert procc_problems(spec) == ["3: a password question with a default"]
    spec = _valid()
    spec["spec"][0]["variable"] = "my-var"
    assert procc_problems(spec) == ["0: 'my-var' is not an Ansible variable name"]


# ---------------------------------------------------------------------------
# The mapping, secrets, hostile values

HOSTILE = "{{ lookup('pipe', 'touch MARKER') }}"

PROCEDURE = """\
id: PROC-AWX-001
type: maintenance
title: "Survey {title}"
criticality: low
frequency: on-demand
estimated_minutes: 5
version: 1.2.3
updated: 2026-11-28
author: Equipo
parameters:
  release:
    description: "Version a desplegar\\nEl nombre de la release."
    required: true
    pattern: '^v[0-9]+$'
  env_name:
    description: Entorno
    choices: [staging, production]
    default: staging
  service_port:
    description: Puerto HTTP
    type: port
    default: "8080"
  workers:
    description: Procesos
    type: int
  verbose:
    description: Modo detallado
    type: bool
    default: "yes"
  base_dir:
    description: Directorio base
    type: path
  api_url:
    description: URL del API
    type: url
  token:
    description: Token del API
    secret: true
    default: "s3cr3t-default-value"
  note:
    description: "{description}"
    default: "{default}"
purpose:
  what: "Prueba de {what}"
steps:
  - title: Uno
    minutes: 1
    run: echo "{{{{ release }}}}" "{{{{ note }}}}"
    validate:
      run: "true"
"""


def _project(tmp_path: Path, text: str = "x", choices: str | None = None) -> Path:
    """A project with one procedure whose free texts are ``text`` (and optional extra ``choices``)."""
    q = text.replace('"', '\\"')
    source = PROCEDURE.format(title=q, description=q, default=q, what=q)
    if choices is not None:
        source = source.replace("choices: [staging, production]", f"choices: {choices}")
    (tmp_path / "procedures").mkdir(parents=True)
    (tmp_path / "procedures" / "PROC-AWX-001-survey.yml").write_text(source, encoding="utf-8")
    return tmp_path


def _generate(project: Path, *flags: str) -> tuple[dict[str, Any], dict[str, Any]]:
    res = procc("awx", *flags, cwd=project)
    assert res.returncode == 0, res.stderr
    spec = json.loads((project / "awx" / "PROC-AWX-001-survey.survey.json").read_text(encoding="utf-8"))
    return spec, {q["variable"]: q for q in spec["spec"]}


def test_parameters_map_to_questions(tmp_path: Path) -> None:
    spec, q = _generate(_project(tmp_path))
    assert awx_problems(spec) == [] and procc_problems(spec) == []
    assert q["release"] == {
        "question_name": "Version a desplegar", "variable": "release", "required": True, "type": "text", "min": 1,
        "question_description": "El nombre de la release. Debe cumplir la expresion regular ^v[0-9]+$ "
                                "(lo comprueba el playbook, no la encuesta).",
    }
    assert q["env_name"]["type"] == "multiplechoice" and q["env_name"]["choices"] == ["staging", "production"]
    assert (q["service_port"]["type"], q["service_port"]["min"], q["service_port"]["max"]) == ("integer", 1, 65535)
    assert q["workers"]["type"] == "integer" and q["workers"]["max"] == 10**18 - 1
    assert q["verbose"]["type"] == "multiplechoice" and q["verbose"]["choices"] == ["true", "false"]
    assert q["base_dir"]["type"] == q["api_url"]["type"] == "text"
    assert "lo comprueba el playbook" in q["base_dir"]["question_description"]
    assert "http(s)" in q["api_url"]["question_description"]
    # Without --survey-defaults no question sends a default over the inventory's values.
    assert all("default" not in x for x in spec["spec"])
    assert "Por defecto: 8080" in q["service_port"]["question_description"]
    assert not q["service_port"]["required"]
    _, en = _generate(tmp_path, "--lang", "en")
    assert en["release"]["question_description"] == ("El nombre de la release. Must match the regular expression "
                                                     "^v[0-9]+$ (checked by the playbook, not by the survey).")
    assert "Default: 8080" in en["service_port"]["question_description"]


def test_a_secret_is_a_password_question_and_its_default_appears_nowhere(tmp_path: Path) -> None:
    project = _project(tmp_path)
    for flags in ([], ["--survey-defaults"], ["--lang", "en"]):
        _, q = _generate(project, *flags)
        assert q["token"]["type"] == "password" and "default" not in q["token"]
        for f in (project / "awx").iterdir():
            assert "s3cr3t-default-value" not in f.read_text(encoding="utf-8"), (flags, f.name)


def test_survey_defaults_have_the_types_awx_expects(tmp_path: Path) -> None:
    spec, q = _generate(_project(tmp_path, "plain text"), "--survey-defaults")
    assert awx_problems(spec) == [] and procc_problems(spec) == []
    assert q["service_port"]["default"] == 8080
    assert q["verbose"]["default"] == "true"
    assert q["env_name"]["default"] == "staging"
    assert q["note"]["default"] == "plain text"
    assert "default" not in q["release"]


def test_hostile_texts_stay_data(tmp_path: Path) -> None:
    """Title, descriptions and a default holding a lookup: verbatim in JSON, ``!unsafe`` in the playbook."""
    project = _project(tmp_path, HOSTILE)
    spec, q = _generate(project)
    assert q["note"]["question_name"] == HOSTILE
    assert f"Por defecto: {HOSTILE}" in q["note"]["question_description"]
    args = load_job_template(project / "awx" / "PROC-AWX-001-survey.yml")
    assert args["survey_spec"] == spec
    texts = [args["name"], args["description"], args["survey_spec"]["description"],
             *(x[k] for x in args["survey_spec"]["spec"] for k in ("question_name", "question_description"))]
    hostile = [t for t in texts if "{{" in t]
    assert len(hostile) >= 4 and all(isinstance(t, Tagged) for t in hostile)


def test_a_choice_awx_could_template_is_refused_with_its_position(tmp_path: Path) -> None:
    project = _project(tmp_path, choices="[staging, \"{{ lookup('env', 'HOME') }}\"]")
    res = procc("awx", cwd=project)
    assert res.returncode == 1
    assert res.stderr.startswith("procedures/PROC-AWX-001-survey.yml:")
    line = res.stderr.splitlines()[0]
    assert line.endswith("[awx-unsafe-value]") and "choice" in line and "ALLOW_JINJA_IN_EXTRA_VARS" in line
    assert not (project / "awx").exists()
    assert "Traceback" not in res.stderr


def test_a_hostile_default_is_refused_only_when_the_survey_would_send_it(tmp_path: Path) -> None:
    project = _project(tmp_path, HOSTILE)
    res = procc("awx", "--survey-defaults", cwd=project)
    assert res.returncode == 1
    lines = (project / "procedures" / "PROC-AWX-001-survey.yml").read_text(encoding="utf-8").splitlines()
    at = lines.index(f'    default: "{HOSTILE}"') + 1
    assert res.stderr.startswith(f"procedures/PROC-AWX-001-survey.yml:{at}:14: error: the default of 'note'")
    assert "[awx-unsafe-value]" in res.stderr
    assert procc("awx", cwd=project).returncode == 0  # not sent: the playbook's own default applies


def test_a_procedure_without_parameters_has_no_survey(tmp_path: Path) -> None:
    project = _project(tmp_path)
    src = project / "procedures" / "PROC-AWX-001-survey.yml"
    text = src.read_text(encoding="utf-8")
    start, end = text.index("parameters:"), text.index("purpose:")
    src.write_text(text[:start] + text[end:].replace('"{{ release }}" "{{ note }}"', "uno"), encoding="utf-8")
    res = procc("awx", cwd=project)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (project / "awx").iterdir()) == ["PROC-AWX-001-survey.yml"]
    args = load_job_template(project / "awx" / "PROC-AWX-001-survey.yml")
    assert args["survey_enabled"] is False and "survey_spec" not in args


def test_a_long_title_fits_awx_s_name_limit(tmp_path: Path) -> None:
    project = _project(tmp_path, "x" * 600)
    _generate(project)
    args = load_job_template(project / "awx" / "PROC-AWX-001-survey.yml")
    assert len(args["name"]) == 512 and args["name"].startswith("PROC-AWX-001 | Survey xxx")


def test_the_output_folder_is_the_project_s_wherever_procc_runs(tmp_path: Path) -> None:
    project = _project(tmp_path)
    res = procc("awx", "PROC-AWX-001", cwd=project / "procedures")
    assert res.returncode == 0, res.stderr
    assert (project / "awx" / "PROC-AWX-001-survey.survey.json").is_file()
    assert not (project / "procedures" / "awx").exists()
    res = procc("awx", "PROC-AWX-404", cwd=project)
    assert res.returncode == 2 and "PROC-AWX-404" in res.stderr and "Traceback" not in res.stderr


# ---------------------------------------------------------------------------
# The job template playbook, run by Ansible

RECORDER = '''\
#!/usr/bin/python
"""Test double of AWX's API behind awx.awx.job_template: records the arguments it is given."""
import json
import os

from ansible.module_utils.basic import AnsibleModule

OPTIONS = json.loads(os.environ["PROCC_TEST_OPTIONS"])


def main():
    module = AnsibleModule(argument_spec={k: {"type": v} for k, v in OPTIONS.items()})
    with open(os.environ["PROCC_TEST_RECORD"], "w") as fh:
        json.dump(module.params, fh)
    module.exit_json(changed=True)


main()
'''


@pytest.mark.slow
@pytest.mark.ansible
def test_the_job_template_playbook_sends_every_text_verbatim(tmp_path: Path) -> None:
    """A real ansible-playbook run of the generated playbook: hostile texts reach the module as data.

    The module is a recorder with awx.awx.job_template's options (AWX's API is not here): it
    shows what Ansible hands to the real module after templating.
    """
    project = _project(tmp_path / "p", HOSTILE.replace("MARKER", str(tmp_path / "pwned")))
    spec, _ = _generate(project)
    modules = tmp_path / "collections" / "ansible_collections" / "awx" / "awx" / "plugins" / "modules"
    modules.mkdir(parents=True)
    (modules / "job_template.py").write_text(RECORDER, encoding="utf-8")
    record = tmp_path / "record.json"
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"),
           "PROCC_TEST_RECORD": str(record), "PROCC_TEST_OPTIONS": json.dumps(MODULE_OPTIONS),
           "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"}
    playbook = str(project / "awx" / "PROC-AWX-001-survey.yml")

    def play(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "ansible-playbook"), playbook, *extra], env=env, cwd=project,
                              capture_output=True, text=True, timeout=120, check=False)

    res = play("-e", "procc_awx_organization=Ops", "-e", "procc_awx_project=procc-repo")
    assert res.returncode == 0, res.stdout + res.stderr
    sent = json.loads(record.read_text(encoding="utf-8"))
    assert not (tmp_path / "pwned").exists()
    assert sent["survey_spec"] == spec
    assert sent["name"] == "PROC-AWX-001 | Survey " + HOSTILE.replace("MARKER", str(tmp_path / "pwned"))
    assert "{{ lookup('pipe'" in sent["description"]
    assert sent["extra_vars"] == {"procc_run_id": "awx-{{ awx_job_id }}"}
    assert (sent["organization"], sent["project"]) == ("Ops", "procc-repo")
    assert sent["inventory"] is None and sent["ask_inventory_on_launch"] is True
    assert sent["execution_environment"] is None and sent["credentials"] is None
    assert sent["playbook"] == "playbooks/PROC-AWX-001-survey.yml"

    res = play("-e", "procc_awx_organization=Ops", "-e", "procc_awx_project=procc-repo",
               "-e", "procc_awx_inventory=Production", "-e", "procc_awx_execution_environment=procc-ee")
    assert res.returncode == 0, res.stdout + res.stderr
    sent = json.loads(record.read_text(encoding="utf-8"))
    assert (sent["inventory"], sent["ask_inventory_on_launch"]) == ("Production", False)
    assert sent["execution_environment"] == "procc-ee"

    record.unlink()
    res = play()
    assert res.returncode != 0 and "procc_awx_organization=ORGANIZATION" in res.stdout
    assert not record.exists()


# ---------------------------------------------------------------------------
# A launch as AWX does it: survey answers into the compiled playbook

LAUNCH = """\
id: PROC-AWX-002
type: maintenance
title: Lanzamiento desde AWX
criticality: low
frequency: on-demand
estimated_minutes: 5
version: 1.0.0
updated: 2026-11-28
author: Equipo
hosts: all
parameters:
  workdir: {description: Directorio de trabajo, required: true, type: path}
  service_port: {description: Puerto HTTP, type: port, default: "8080"}
  db_port: {description: Puerto de PostgreSQL, type: port, default: "5432"}
  mode: {description: Modo, choices: [fast, slow], default: slow}
  note: {description: Nota libre, default: ninguna}
purpose:
  what: Escribe lo que recibe
steps:
  - title: Escribir los valores
    minutes: 1
    run: |
      printf '%s|%s|%s|%s|%s\\n' "{{ procc_run_id }}" "{{ service_port }}" "{{ db_port }}" "{{ mode }}" \\
        "{{ note }}" > {{ workdir }}/out
    validate:
      run: test -s {{ workdir }}/out
"""


def answer_problems(q: dict[str, Any], value: Any) -> list[str]:
    """Why AWX would refuse ``value`` as the answer to ``q`` at launch (its answer validation)."""
    if q["type"] in ("text", "textarea", "password"):
        return [] if isinstance(value, str) and _in_bounds(q, value) else ["bad text answer"]
    if q["type"] == "integer":
        return [] if type(value) is int and _in_bounds(q, value) else ["bad integer answer"]
    if q["type"] == "multiplechoice":
        return [] if value in _lines(q["choices"]) else ["not a choice"]
    return ["unexpected type"]


def awx_extravars(template_vars: dict[str, Any], meta: dict[str, Any], answers: dict[str, Any]) -> str:
    """The extra vars file AWX writes for a job: the job template's own extra vars as they are
    (trusted, ALLOW_JINJA_IN_EXTRA_VARS=template), every other string key and value tagged !unsafe."""

    class Tagging(yaml.SafeDumper):
        def represent_data(self, data: Any) -> Any:
            if isinstance(data, str):
                return self.represent_scalar("!unsafe", data)
            return super().represent_data(data)

    out = []
    for key, value in {**template_vars, **meta, **answers}.items():
        dumper = yaml.SafeDumper if template_vars.get(key) == value and key not in answers else Tagging
        out.append(yaml.dump({key: value}, Dumper=dumper, default_flow_style=False))
    return "".join(out)


@pytest.mark.slow
@pytest.mark.ansible
def test_survey_answers_launch_the_compiled_playbook_as_awx_would(tmp_path: Path) -> None:
    """Answers valid for the survey (a blank optional question sends nothing) run the playbook as they are."""
    project = tmp_path / "p"
    (project / "procedures").mkdir(parents=True)
    (project / "procedures" / "PROC-AWX-002-launch.yml").write_text(LAUNCH, encoding="utf-8")
    for cmd in (["compile", "-q"], ["awx"]):
        res = procc(*cmd, cwd=project)
        assert res.returncode == 0, res.stderr
    args = load_job_template(project / "awx" / "PROC-AWX-002-launch.yml")
    questions = {q["variable"]: q for q in args["survey_spec"]["spec"]}
    work = tmp_path / "work"
    work.mkdir()
    marker = tmp_path / "pwned"
    answers = {"workdir": str(work), "service_port": 9090, "mode": "fast",
               "note": "{{ lookup('pipe', 'touch " + str(marker) + "') }}"}  # db_port: left blank
    for name, value in answers.items():
        assert answer_problems(questions[name], value) == [], name
    assert [v for v, q in questions.items() if q["required"] and v not in answers] == []
    extravars = tmp_path / "extravars"
    extravars.write_text(awx_extravars(json.loads(json.dumps(args["extra_vars"])), {"awx_job_id": 42, "tower_job_id": 42}, answers),
                         encoding="utf-8")
    inventory = tmp_path / "hosts"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n",
                         encoding="utf-8")
    res = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "-e", f"@{extravars}",
                          args["playbook"]], cwd=project, capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, "ANSIBLE_LOCALHOST_WARNING": "false"})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    line = (work / "out").read_text(encoding="utf-8").strip()
    assert line == f"awx-42|9090|5432|fast|{answers['note']}"
    assert not marker.exists()


def test_float_and_duration_parameters_map_to_questions(tmp_path: Path) -> None:
    project = _project(tmp_path)
    src = project / "procedures" / "PROC-AWX-001-survey.yml"
    src.write_text(src.read_text(encoding="utf-8").replace(
        "  workers:\n",
        "  max_error_rate:\n    description: Tasa de error maxima\n    type: float\n    default: 0.5\n"
        "  drain_wait:\n    description: Espera de drenado\n    type: duration\n    default: 30s\n"
        "  workers:\n", 1), encoding="utf-8")
    spec, q = _generate(project, "--survey-defaults")
    assert awx_problems(spec) == [] and procc_problems(spec) == []
    assert q["max_error_rate"]["type"] == "float" and q["max_error_rate"]["default"] == 0.5
    assert q["drain_wait"]["type"] == "text" and q["drain_wait"]["default"] == "30s"
    assert "unidad opcional s, m, h o d" in q["drain_wait"]["question_description"]
