"""AWX / Automation Controller job templates for the compiled playbooks (pure: Procedure -> data).

For ``procedures/NAME.yml``, ``procc awx`` writes two files:

- ``awx/NAME.yml``: a playbook with one ``awx.awx.job_template`` task that
  creates or updates the job template running ``playbooks/NAME.yml``, its
  survey included. This is what a platform team with AWX in production
  commits: configuration as code, reviewed in the repository, applied by a
  pipeline or an AWX job with the team's own organization, project,
  inventory and credentials (``-e procc_awx_organization=... -e
  procc_awx_project=...``; inventory, execution environment and credentials
  are optional: without an inventory AWX asks for one at launch). Every text
  that comes from the procedure is marked ``!unsafe`` there, so running it
  never evaluates a ``{{ lookup(...) }}`` found in a title or a description.
- ``awx/NAME.survey.json``: the same survey spec as the JSON the AWX API
  takes (``POST /api/v2/job_templates/ID/survey_spec/``): for teams that
  script the API or ``awx`` CLI, and the form the tests validate against
  AWX's documented format.

The survey: every parameter is a question. ``variable`` is its name,
``question_name`` the first line of its description. Types map to what AWX
checks itself (``int`` -> integer within the playbook's range, ``port`` ->
integer 1..65535, ``choices`` -> multiplechoice, ``bool`` -> multiplechoice
true/false, everything else -> text), secrets to ``password`` questions that
never carry a default. What a survey cannot express (patterns, path and URL
syntax) the playbook's own assert checks on every route, AWX included; the
question's description says so.

Defaults and precedence. AWX sends every survey default as an extra var at
launch, even when nobody touched the question, and extra vars beat the
inventory: a survey default would silently override the per-environment
values of the AWX inventory's group and host vars, which procc gives
precedence over parameter defaults. So by default a question has no
``default``: it names the playbook's default in its description, and an
unanswered optional question sends nothing (text questions get ``min: 1``:
AWX then passes no variable for a blank answer), so the inventory or the
playbook's default applies. ``--survey-defaults`` puts the defaults in the
survey for teams that keep no values in their inventories.

Hostile values. The output is built as data and dumped (JSON, or YAML with
``!unsafe`` text), never templated. Texts AWX only displays (names,
descriptions) are safe as they are. Values AWX sends as extra vars (a
choice, an embedded default) are templated by Ansible when the AWX setting
``ALLOW_JINJA_IN_EXTRA_VARS`` is ``always``, and a survey cannot mark them
unsafe: such a value holding ``{{``, ``{%`` or ``{#`` is refused with its
position ``[awx-unsafe-value]``.

The job template: ``job_type: run`` (check mode can be asked at launch),
``ask_limit_on_launch``, no extra vars at launch but the survey's
(``ask_variables_on_launch: false``), diff mode off unless asked, one job at a
time (``allow_simultaneous: false``, like procc's run lock), and
``procc_run_id: awx-{{ awx_job_id }}`` in its extra vars: AWX templates the
job template's own extra vars (the default ``ALLOW_JINJA_IN_EXTRA_VARS:
template``), so each job gets its own run id for the evidence and temporary
files that commands name after it (with ``never``, the text stays literal:
still one inert string).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler import yamlout
from compiler.errors import CompileError, Diagnostic
from compiler.i18n import Lang
from compiler.model import Parameter, Procedure
from compiler.parse import Source
from compiler.project import Output
from compiler.yamlout import Unsafe

NAME_MAX = 512  # AWX: the name of a job template (CommonModel.name)
# The playbook's int check (model._INT): at most 18 digits.
INT_MIN = -(10**18 - 1)
INT_MAX = 10**18 - 1
BOOL_CHOICES = ["true", "false"]
_JINJA = re.compile(r"\{\{|\{%|\{#")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
RUN_ID = "awx-{{ awx_job_id }}"

_WORDS: dict[Lang, dict[str, str]] = {
    "es": {
        "pattern": "Debe cumplir la expresion regular {pattern} (lo comprueba el playbook, no la encuesta).",
        "path": "Una ruta: sin saltos de linea ni NUL y sin '-' inicial (lo comprueba el playbook).",
        "url": "Una URL http(s) sin espacios (lo comprueba el playbook).",
        "duration": "Una duracion: un numero y una unidad opcional s, m, h o d (90s, 5m, 2h; lo comprueba el "
                    "playbook).",
        "bool": "Si o no (true/false).",
        "default": "Por defecto: {default} (el del playbook; una variable del inventario de AWX lo sustituye). "
                   "Deje la respuesta vacia para usarlo.",
        "default_in_survey": "Por defecto: {default}.",
        "secret": "Secreto: la encuesta nunca guarda un valor por defecto; tambien puede darse con una "
                  "credencial de AWX que defina la variable {name}.",
        "survey": "Parametros de {id} {version}",
        "template": "{what} (generado por procc desde {source}; version {version}, criticidad {criticality})",
    },
    "en": {
        "pattern": "Must match the regular expression {pattern} (checked by the playbook, not by the survey).",
        "path": "A path: no line break or NUL, no leading '-' (checked by the playbook).",
        "url": "An http(s) URL without spaces (checked by the playbook).",
        "duration": "A duration: a number and an optional unit s, m, h or d (90s, 5m, 2h; checked by the "
                    "playbook).",
        "bool": "Yes or no (true/false).",
        "default": "Default: {default} (the playbook's; a variable of the AWX inventory overrides it). "
                   "Leave the answer empty to use it.",
        "default_in_survey": "Default: {default}.",
        "secret": "Secret: the survey never stores a default; an AWX credential that sets the variable "
                  "{name} can supply it instead.",
        "survey": "Parameters of {id} {version}",
        "template": "{what} (generated by procc from {source}; version {version}, criticality {criticality})",
    },
}


@dataclass(frozen=True)
class Options:
    """How ``procc awx`` writes the job template."""

    playbooks_dir: str = "playbooks"
    lang: Lang = "es"
    survey_defaults: bool = False


def _default_text(value: str | int | float | bool) -> str:
    """A parameter default as the text a person would type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _question_name(name: str, param: Parameter) -> str:
    """The question's label: the first line of the description, else the variable name."""
    first = param.description.strip().split("\n", 1)[0].strip()
    return first or name


def question(name: str, param: Parameter, opts: Options) -> dict[str, Any]:
    """The survey question of one parameter (AWX's survey item format)."""
    words = _WORDS[opts.lang]
    # The first line of the description is the question; the rest and the notes explain it.
    rest = param.description.strip().split("\n", 1)[1:]
    notes: list[str] = [rest[0].strip()] if rest and rest[0].strip() else []
    item: dict[str, Any] = {
        "question_name": _question_name(name, param),
        "question_description": "",
        "variable": name,
        "required": param.required,
    }
    if param.secret:
        item["type"] = "password"
        if param.required:
            item["min"] = 1
        notes.append(words["secret"].format(name=name))
    elif param.choices is not None:
        item["type"] = "multiplechoice"
        item["choices"] = list(param.choices)
    elif param.type == "bool":
        item["type"] = "multiplechoice"
        item["choices"] = list(BOOL_CHOICES)
        notes.append(words["bool"])
    elif param.type == "port":
        item.update(type="integer", min=1, max=65535)
    elif param.type == "int":
        item.update(type="integer", min=INT_MIN, max=INT_MAX)
    elif param.type == "float":
        item["type"] = "float"
    else:
        # min 1: a blank answer sends nothing (AWX), so the inventory or the default applies.
        item.update(type="text", min=1)
        if param.type in ("path", "url", "duration"):
            notes.append(words[param.type])
    if param.pattern is not None:
        notes.append(words["pattern"].format(pattern=param.pattern))
    if param.default is not None and not param.secret:
        value = _survey_default(param)
        if opts.survey_defaults and value is not None:
            item["default"] = value
            notes.append(words["default_in_survey"].format(default=_default_text(param.default)))
        else:
            notes.append(words["default"].format(default=_default_text(param.default)))
    item["question_description"] = " ".join(notes)
    return item


def _survey_default(param: Parameter) -> str | int | float | None:
    """The default as the survey question's type takes it (None: none that AWX would accept)."""
    assert param.default is not None
    text = _default_text(param.default)
    if param.choices is None and param.type in ("int", "port"):
        try:
            return int(text)
        except ValueError:
            return None
    if param.choices is None and param.type == "float":
        try:
            return float(text)
        except ValueError:
            return None
    if param.choices is None and param.type == "bool":
        return "true" if text.lower() in ("true", "yes", "1", "on") else "false"
    return text or None  # "" would fail min: 1, and AWX would drop it silently


def problems(src: Source, opts: Options) -> list[Diagnostic]:
    """Values AWX would send as extra vars that could become templates: refused, with their position."""
    out: list[Diagnostic] = []
    why = ("AWX sends it as an extra var, which Ansible templates when the AWX setting "
           "ALLOW_JINJA_IN_EXTRA_VARS is 'always', and a survey cannot mark it unsafe")
    for name, param in src.procedure.parameters.items():
        for i, choice in enumerate(param.choices or []):
            if _JINJA.search(choice):
                out.append(Diagnostic(src.display, src.smap.value(("parameters", name, "choices", i)),
                                      f"choice {choice!r} of '{name}' holds a Jinja delimiter: {why}; "
                                      "remove the delimiter from the choice", "awx-unsafe-value"))
        if (opts.survey_defaults and not param.secret and isinstance(param.default, str)
                and _JINJA.search(param.default)):
            out.append(Diagnostic(src.display, src.smap.value(("parameters", name, "default")),
                                  f"the default of '{name}' holds a Jinja delimiter: {why}; "
                                  "leave defaults out of the survey (no --survey-defaults)", "awx-unsafe-value"))
    return out


def survey_spec(proc: Procedure, opts: Options) -> dict[str, Any] | None:
    """The survey spec of ``proc`` (None without parameters: AWX refuses an empty spec)."""
    if not proc.parameters:
        return None
    words = _WORDS[opts.lang]
    return {
        "name": words["survey"].format(id=proc.id, version=proc.version),
        "description": proc.title,
        "spec": [question(name, param, opts) for name, param in proc.parameters.items()],
    }


def playbook_path(src: Source, opts: Options) -> str:
    """The compiled playbook's path inside the AWX project (the repository)."""
    return f"{opts.playbooks_dir.strip('/') or '.'}/{src.path.stem}.yml"


def template_name(proc: Procedure) -> str:
    """The job template's name: the procedure's id and title, within AWX's 512 characters."""
    name = f"{proc.id} | {_CONTROL.sub(' ', proc.title)}"
    return name if len(name) <= NAME_MAX else name[:NAME_MAX - 3] + "..."


def job_template(src: Source, opts: Options) -> dict[str, Any]:
    """The job template's fields that come from the procedure (the API's and the module's names)."""
    proc = src.procedure
    words = _WORDS[opts.lang]
    spec = survey_spec(proc, opts)
    fields: dict[str, Any] = {
        "name": template_name(proc),
        "description": words["template"].format(
            what=proc.purpose.what.strip(), source=src.display, version=proc.version, criticality=proc.criticality),
        "job_type": "run",
        "playbook": playbook_path(src, opts),
        "ask_job_type_on_launch": True,
        "ask_limit_on_launch": True,
        "ask_variables_on_launch": False,
        "ask_diff_mode_on_launch": True,
        "diff_mode": False,
        "allow_simultaneous": False,
        "extra_vars": {"procc_run_id": RUN_ID},
        "labels": ["procc", proc.type, proc.criticality],
        "survey_enabled": spec is not None,
    }
    if proc.forks is not None:
        # The procedure's parallelism, as procc run passes it (a job template field, not a play keyword).
        fields["forks"] = proc.forks
    if spec is not None:
        fields["survey_spec"] = spec
    return fields


def _unsafe(data: Any) -> Any:
    """Every string of ``data`` marked ``!unsafe`` (when it holds a delimiter) for the YAML dump."""
    if isinstance(data, str):
        return Unsafe(data)
    if isinstance(data, dict):
        return {k: _unsafe(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_unsafe(v) for v in data]
    return data


# The team's own values: given with -e when the playbook runs (trusted, templated).
TEAM_VARS: dict[str, str] = {
    "organization": "{{ procc_awx_organization }}",
    "project": "{{ procc_awx_project }}",
    "inventory": "{{ procc_awx_inventory | default(omit) }}",
    "ask_inventory_on_launch": "{{ procc_awx_inventory is not defined }}",
    "execution_environment": "{{ procc_awx_execution_environment | default(omit) }}",
    "credentials": "{{ procc_awx_credentials | default(omit) }}",
}


def config_playbook(src: Source, opts: Options) -> list[dict[str, Any]]:
    """The playbook that creates or updates the job template with ``awx.awx.job_template``."""
    proc = src.procedure
    args: dict[str, Any] = _unsafe(job_template(src, opts))
    args.update(TEAM_VARS)
    args["state"] = "present"
    return [{
        "name": f"AWX job template of {proc.id}",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Check the AWX settings of this project",
                "ansible.builtin.assert": {
                    "that": ["procc_awx_organization is defined", "procc_awx_project is defined"],
                    "fail_msg": "give -e procc_awx_organization=ORGANIZATION -e procc_awx_project=PROJECT "
                                "(the AWX project of this repository); optional: procc_awx_inventory, "
                                "procc_awx_execution_environment, procc_awx_credentials",
                    "quiet": True,
                },
            },
            {"name": f"Job template {proc.id}", "awx.awx.job_template": args},
        ],
    }]


def outputs(src: Source, out_dir: Path, opts: Options, shown_dir: str | None = None) -> list[Output]:
    """The files of one procedure's job template; raises :class:`CompileError` for refused values.

    ``shown_dir``: the output folder as the header's command names it (default ``out_dir``).
    """
    diags = problems(src, opts)
    if diags:
        raise CompileError(diags)
    stem = src.path.stem
    source = _CONTROL.sub("?", src.display)
    header = (f"# Generated by procc from {source}: do not edit by hand.\n"
              f"# Creates or updates the AWX job template of {playbook_path(src, opts)}:\n"
              f"#   ansible-playbook {_CONTROL.sub('?', shown_dir or out_dir.as_posix())}/{stem}.yml "
              "-e procc_awx_organization=ORG -e procc_awx_project=PROJECT\n")
    files = [Output(out_dir / f"{stem}.yml", header + yamlout.dump(config_playbook(src, opts)))]
    spec = survey_spec(src.procedure, opts)
    if spec is not None:
        files.append(Output(out_dir / f"{stem}.survey.json",
                            json.dumps(spec, indent=2, ensure_ascii=False) + "\n"))
    return files
