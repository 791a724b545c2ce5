"""The typed procedure model: the one intermediate representation.

Everything after the loader reads these frozen pydantic models; emitters and
lint rules never look at raw dicts. Unknown keys are errors (``extra=forbid``)
so a typo in a source file is reported, never ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

ProcType = Literal[
    "deployment", "rollback", "maintenance", "troubleshooting", "scaling", "disaster-recovery"
]
Criticality = Literal["critical", "high", "medium", "low"]
Frequency = Literal["daily", "weekly", "monthly", "quarterly", "on-demand", "emergency"]
Where = Literal["targets", "controller"]

SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
PROC_ID = re.compile(r"^PROC-[A-Z0-9]+(?:-[A-Z0-9]+)*-\d{3}$")
SLUG = re.compile(r"^[a-z][a-z0-9_-]*$")
PARAM_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
HOST_PATTERN = re.compile(r"[A-Za-z0-9_.:*!&,\[\]~()|^$?+@ -]+")
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)?")
# The Ansible collection this repository is (galaxy.yml) and its roles
# (roles/): a procedure may name them short (``role: health``); the compiled
# playbook calls them by FQCN (procc.ops.health), so they resolve from an
# installed collection as well as from a checkout. Any other short name is a
# role of the project's own roles/ and stays as written; an FQCN of another
# collection is used as it is. tests/core/test_collection.py keeps both in
# step with galaxy.yml and roles/.
COLLECTION = "procc.ops"
COLLECTION_ROLES = frozenset({"backup", "demo_backend", "health", "notify", "restore", "testhosts"})


def _regex(value: str | None) -> str | None:
    """``value`` if it is a valid regular expression (or None)."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
    return value


class Strict(BaseModel):
    """Base: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(Strict):
    """What a command's result must look like to count as success."""

    rc: int = Field(0, description="Expected exit status.")
    stdout_contains: str | None = Field(None, description="Text the output must contain.")
    stdout_regex: str | None = Field(None, description="Regular expression the output must match.")

    @field_validator("stdout_regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return _regex(value)


class ChangesWhen(Strict):
    """When a command changed something, read from its result (every condition given must hold).

    ``rc: 2`` means exit status 2 signals a change (and is not a failure: 0
    and 2 both succeed); ``stdout_contains``/``stdout_regex`` look at its output.
    """

    rc: int | None = Field(None, ge=1, le=255, description="Exit status that means 'changed' (0 and it succeed).")
    stdout_contains: str | None = Field(None, description="Changed when the output contains this text.")
    stdout_regex: str | None = Field(None, description="Changed when the output matches this regular expression.")

    @field_validator("stdout_regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return _regex(value)

    @model_validator(mode="after")
    def _some_condition(self) -> ChangesWhen:
        if self.rc is None and self.stdout_contains is None and self.stdout_regex is None:
            raise ValueError("a 'changes' condition needs rc, stdout_contains or stdout_regex")
        return self


class Action(Strict):
    """One action: shell commands (``run``), one module task (``task``) or a role (``role``)."""

    run: str | None = Field(
        None, description="Shell commands, run by bash with set -euo pipefail and shopt -s inherit_errexit."
    )
    task: dict[str, Any] | None = Field(
        None, description="One Ansible module task: {module.fqcn: {args}}."
    )
    role: str | None = Field(
        None,
        description="A role to run: a role of the procc.ops collection by its short name (health, backup, "
        "restore, notify, demo_backend: called as procc.ops.NAME), a role of the project's roles/, or a "
        "collection role by FQCN (namespace.collection.role).",
    )
    vars: dict[str, Any] = Field(default_factory=dict, description="Variables for the role.")
    where: Where = Field("targets", description="Run on the target hosts or on the controller.")
    become: bool | None = Field(None, description="Run with privilege escalation.")
    timeout: int | None = Field(None, ge=1, description="Seconds before the action is stopped.")
    changes: bool | ChangesWhen | None = Field(
        None,
        description="Whether the action changes the system. false: read-only (never reported changed, runs "
        "for real in check mode); true: reported changed (skipped and listed as 'would run' in check mode); "
        "{rc, stdout_contains, stdout_regex}: changed only when the command's result says so. Default: "
        "steps, rollbacks and post-execution actions change; pre-flight checks (roles excepted), "
        "validations, metrics and smoke tests are read-only.",
    )

    @model_validator(mode="after")
    def _exactly_one_action(self) -> Action:
        given = [k for k in ("run", "task", "role") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "exactly one of 'run', 'task' or 'role' is required"
                + (f" (found {', '.join(given)})" if given else "")
            )
        if self.task is not None and len(self.task) != 1:
            raise ValueError("'task' must have exactly one key: the module name")
        if self.vars and self.role is None:
            raise ValueError("'vars' is only for 'role' actions")
        if self.role is not None and not ROLE_NAME.fullmatch(self.role):
            raise ValueError("'role' must be a role name (my_role) or a collection role (namespace.collection.role)")
        if isinstance(self.changes, ChangesWhen) and self.run is None:
            raise ValueError("a 'changes' condition reads a command's result: it is only for 'run' actions "
                             "(use changes: true or false for 'task' and 'role')")
        if self.run is not None and "\r" in self.run:
            raise ValueError("a command cannot contain a carriage return (\\r): save the file with LF line endings")
        return self

    @property
    def kind(self) -> Literal["run", "task", "role"]:
        """Which of the three action forms this is."""
        if self.run is not None:
            return "run"
        return "task" if self.task is not None else "role"

    @property
    def role_fqcn(self) -> str:
        """The name the playbook calls the role by (see :data:`COLLECTION_ROLES`)."""
        assert self.role is not None
        return role_fqcn(self.role)

    @property
    def module(self) -> str:
        """The module name of a ``task`` action."""
        assert self.task is not None
        return next(iter(self.task))


def role_fqcn(name: str) -> str:
    """``procc.ops.NAME`` for a role of the procc.ops collection; any other name as it is."""
    return f"{COLLECTION}.{name}" if name in COLLECTION_ROLES else name


def mutates(act: Action, default: bool) -> bool:
    """Whether ``act`` changes the system: its ``changes`` field, else ``default`` for its place.

    Defaults: steps, rollbacks and post-execution actions change; probes
    (pre-flight checks, validations, metrics, smoke tests) do not, except a
    role in pre-flight (a backup, a notification).
    """
    if act.changes is None:
        return default
    return act.changes is not False


class Validation(Action):
    """How to check that a step worked, with retries."""

    expect: Expect = Field(default_factory=lambda: Expect())
    retries: int = Field(0, ge=0, le=1000)
    delay: int = Field(1, ge=0, le=3600)
    output: str | None = Field(None, description="Example of a successful output (Salida Esperada).")


class Check(Action):
    """A pre-flight check or smoke test."""

    title: str
    expect: Expect = Field(default_factory=lambda: Expect())
    expected: str = Field("", description="Expected result, in words.")
    if_fails: list[str] = Field(default_factory=list)
    retries: int = Field(0, ge=0, le=1000)
    delay: int = Field(1, ge=0, le=3600)


# A step named by its id ('backup') or its number (1).
StepRef = int | str


class RollbackAction(Action):
    """The rollback of one step."""

    expected: str = ""
    covers: list[StepRef] = Field(
        default_factory=list,
        description="Earlier steps (ids or numbers) this rollback also undoes: when this step started, the "
        "rescue runs this rollback and skips theirs (not undone twice); when it did not, theirs run as usual.",
    )


# ``rollback: {none-needed: <reason>}``: the step leaves nothing to undo.
NONE_NEEDED = "none-needed"


def _reason_ok(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _none_needed_schema(schema: dict[str, Any]) -> None:
    """Offer the ``{none-needed: <reason>}`` form of a step's rollback to editors."""
    schema.setdefault("anyOf", []).insert(0, {
        "type": "object",
        "title": "NoneNeeded",
        "description": "Nothing to undo, and why (the runbook prints the reason; drills still pass).",
        "properties": {NONE_NEEDED: {"type": "string", "minLength": 1}},
        "required": [NONE_NEEDED],
        "additionalProperties": False,
    })

# A captured value's name: what later steps write as ``{{ name }}``.
CAPTURE_TYPES = ("string", "int", "float")
# A dotted JSON path: mapping keys (letters, digits, _ and -), at most 20 levels.
CAPTURE_JSON_PATH = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+){0,19}")


def _capture_error(code: str, message: str) -> PydanticCustomError:
    """A validation error with its own diagnostic code (``capture-...``, see compiler/codes.py)."""
    return PydanticCustomError(code.replace("-", "_"), message)


class Capture(Strict):
    """A value a step's command prints, kept for later steps: ``{{ name }}`` after the step.

    Exactly one of ``stdout`` (the whole output, trimmed), ``json`` (a field
    of the output parsed as JSON, by dotted path) or ``regex`` (group 1 of
    the first match on the output, or the whole match when the regex has no
    group; ``^`` and ``$`` match at each line). A capture that finds nothing
    (or a value not of its ``type``) fails the step.
    """

    stdout: Literal[True] | None = Field(None, description="Capture the whole output, trimmed (stdout: true).")
    json_: str | None = Field(None, alias="json", description="Dotted path of a field of the output parsed "
                              "as JSON (data.version).")
    regex: str | None = Field(None, description="Regular expression searched in the output: group 1, or the "
                              "whole match without groups; ^ and $ match at each line.")
    type: Literal["string", "int", "float"] = Field(
        "string", description="string, int or float: the value is checked when captured (an int or float "
        "capture can be a metric threshold).")
    description: str = Field("", description="What the value is, for the runbook.")

    @field_validator("regex")
    @classmethod
    def _regex_ok(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            compiled = re.compile(value, re.MULTILINE)
        except re.error as exc:
            raise _capture_error("capture-bad-regex", f"invalid regular expression: {exc}") from None
        if compiled.search("") is not None:
            raise _capture_error("capture-bad-regex",
                                 "the regular expression matches the empty text: it would capture nothing")
        return value

    @field_validator("json_")
    @classmethod
    def _json_path_ok(cls, value: str | None) -> str | None:
        if value is not None and not CAPTURE_JSON_PATH.fullmatch(value):
            raise _capture_error("capture-bad-json-path",
                                 f"invalid JSON path {value!r}: keys of letters, digits, '_' or '-' joined "
                                 "by dots (data.version), at most 20 levels")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Capture:
        given = [k for k, v in (("stdout", self.stdout), ("json", self.json_), ("regex", self.regex))
                 if v is not None]
        if len(given) != 1:
            raise ValueError("a capture takes exactly one of stdout: true, json: <path> or regex: <regex>"
                             + (f" (found {', '.join(given)})" if given else ""))
        return self

    @property
    def kind(self) -> Literal["stdout", "json", "regex"]:
        """How the value is read from the output."""
        if self.stdout is not None:
            return "stdout"
        return "json" if self.json_ is not None else "regex"

    @property
    def group(self) -> bool:
        """Whether a regex capture takes its group 1 (else the whole match)."""
        return self.regex is not None and re.compile(self.regex).groups >= 1


class Step(Action):
    """One numbered step of the procedure."""

    id: str | None = Field(None, description="Stable slug for the step (optional).")
    title: str
    minutes: float = Field(..., ge=0, description="Estimated duration in minutes.")
    criticality: Criticality = "medium"
    expected: str = Field("", description="Expected result (Resultado Esperado).")
    validate_: Validation | None = Field(None, alias="validate")
    if_fails: list[str] = Field(default_factory=list)
    rollback: RollbackAction | None = Field(
        None,
        description="How to undo the step; or {none-needed: <reason>} when the step leaves nothing to undo "
        "(a drill after it still rolls back completely).",
        json_schema_extra=_none_needed_schema,
    )
    # Filled from ``rollback: {none-needed: <reason>}`` (see _nothing_to_undo): a
    # field of its own, so everything that reads ``rollback`` as an action
    # (emitters, lint rules, actions()) stays right without knowing this form.
    none_needed: SkipJsonSchema[str | None] = Field(None, alias=NONE_NEEDED)
    irreversible: str | None = Field(
        None, description="Why this step cannot be rolled back (a drill at or after it cannot pass; "
        "use rollback: {none-needed: <reason>} when there is simply nothing to undo).")
    interruptible: bool | None = Field(
        None,
        description="Run the step asynchronously so that a graceful stop (Ctrl-C in procc run) "
        "stops it mid-way and rolls back; costs about 0.7 s per step. Default: steps of "
        f"{5} minutes or more (never role steps).",
    )

    @property
    def is_interruptible(self) -> bool:
        """Whether the playbook runs this step asynchronously (stoppable mid-way)."""
        if self.role is not None or self.capture:
            # A capture reads the step's registered output, which an async job does not leave there.
            return False
        return self.interruptible if self.interruptible is not None else self.minutes >= 5

    throttle: int | None = Field(None, ge=1, description="At most this many hosts run this step at once "
                                 "(Ansible's block keyword), e.g. a step that loads a shared database.")
    capture: dict[str, Capture] = Field(
        default_factory=dict, description="Values the step's command prints, kept for later: {name: {stdout: "
        "true} | {json: path} | {regex: re}}; later steps, this step's validation and rollback, later "
        "rollbacks, metrics and post actions read '{{ name }}'.")

    @field_validator("capture")
    @classmethod
    def _capture_names(cls, value: dict[str, Capture]) -> dict[str, Capture]:
        for name in value:
            if not PARAM_NAME.fullmatch(name) or name.startswith(("procc_", "ansible_", "_")):
                raise _capture_error("capture-name-clash",
                                     f"capture name '{name}' must be a lowercase identifier not starting "
                                     "with procc_, ansible_ or _")
            if name in RESERVED_NAMES:
                raise _capture_error("capture-name-clash",
                                     f"capture name '{name}' is reserved by Ansible or Jinja; choose another name")
        return value

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not SLUG.match(value):
            raise ValueError("step id must be a lowercase slug like 'switch-release'")
        return value

    @model_validator(mode="before")
    @classmethod
    def _nothing_to_undo(cls, data: Any) -> Any:
        # A well-formed ``rollback: {none-needed: <reason>}`` moves to its own
        # field; any other use of the word is left to _rollback_form, which
        # reports it at the rollback's own position.
        if not isinstance(data, dict):
            return data
        if NONE_NEEDED in data:
            raise ValueError(f"'{NONE_NEEDED}' goes under 'rollback': rollback: {{{NONE_NEEDED}: <reason>}}")
        rb = data.get("rollback")
        if isinstance(rb, dict) and list(rb) == [NONE_NEEDED] and _reason_ok(rb[NONE_NEEDED]):
            data = {k: v for k, v in data.items() if k != "rollback"}
            data[NONE_NEEDED] = rb[NONE_NEEDED].strip()
        return data

    @field_validator("rollback", mode="before")
    @classmethod
    def _rollback_form(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower().replace("_", "-") in (NONE_NEEDED, "none"):
            raise ValueError(f"say why there is nothing to undo: rollback: {{{NONE_NEEDED}: <reason>}}")
        if isinstance(value, dict):
            for key in value:
                if isinstance(key, str) and key != NONE_NEEDED and \
                        key.lower().replace("_", "-").replace(" ", "-") == NONE_NEEDED:
                    raise ValueError(f"write '{NONE_NEEDED}' (with a hyphen): rollback: {{{NONE_NEEDED}: <reason>}}")
        if isinstance(value, dict) and NONE_NEEDED in value:
            if "covers" in value:
                raise ValueError(f"a '{NONE_NEEDED}' rollback undoes nothing, so it cannot cover other steps: "
                                 "give the step a rollback that runs something, or remove 'covers'")
            if len(value) > 1:
                raise ValueError(f"'{NONE_NEEDED}' stands alone: a rollback either runs something or says "
                                 "there is nothing to undo, not both")
            raise ValueError(f"'{NONE_NEEDED}' needs its reason as text: rollback: {{{NONE_NEEDED}: <reason>}}")
        return value

    @model_validator(mode="after")
    def _capture_needs_run(self) -> Step:
        if self.capture and self.run is None:
            raise ValueError("'capture' reads a command's output: it is only for 'run' steps")
        if self.capture and self.interruptible:
            raise ValueError("a step with 'capture' cannot be interruptible (its output is read when it ends)")
        return self

    @model_validator(mode="after")
    def _rollback_or_reason(self) -> Step:
        if self.rollback is not None and self.irreversible is not None:
            raise ValueError("a step has either 'rollback' or 'irreversible', not both")
        if self.none_needed is not None and self.irreversible is not None:
            raise ValueError(f"a step is either irreversible or has nothing to undo "
                             f"(rollback: {{{NONE_NEEDED}: ...}}), not both")
        return self

    @property
    def undo(self) -> Literal["rollback", "none-needed", "irreversible", "none"]:
        """How a failure after this step started treats it: its rollback runs, nothing needs undoing,
        it cannot be undone, or nothing was declared (a read-only step)."""
        if self.rollback is not None:
            return "rollback"
        if self.none_needed is not None:
            return "none-needed"
        return "irreversible" if self.irreversible is not None else "none"


ParamType = Literal["string", "int", "float", "duration", "bool", "port", "path", "url"]

# Names a parameter cannot take: Ansible's reserved names and magic
# variables, Jinja's keywords and globals, and procc's own variables.
RESERVED_NAMES = frozenset({
    # ansible.vars.reserved.get_reserved_names() of ansible-core 2.19 (play keywords)
    "action", "always", "any_errors_fatal", "args", "async", "async_val", "become", "become_exe",
    "become_flags", "become_method", "become_user", "block", "changed_when", "check_mode", "collections",
    "connection", "cycler", "debugger", "delay", "delegate_facts", "delegate_to", "dict", "diff",
    "environment", "fact_path", "failed_when", "force_handlers", "gather_facts", "gather_timeout",
    "handlers", "hosts", "ignore_errors", "ignore_unreachable", "joiner", "lipsum", "local_action",
    "lookup", "loop", "loop_control", "loop_with", "max_fail_percentage", "module_defaults", "name",
    "namespace", "no_log", "notify", "now", "omit", "order", "poll", "port", "post_tasks", "pre_tasks",
    "q", "query", "range", "register", "remote_user", "rescue", "retries", "roles", "run_once",
    "serial", "strategy", "tags", "tasks", "throttle", "timeout", "undef", "until", "vars",
    "vars_files", "vars_prompt", "when", "with_",
    # magic variables
    "hostvars", "groups", "group_names", "inventory_hostname", "inventory_hostname_short",
    "inventory_dir", "inventory_file", "play_hosts", "playbook_dir", "role_name", "role_path",
    "item", "self", "facts",
    # Jinja keywords and tests that read as names
    "true", "false", "none", "yes", "no", "on", "off", "y", "n", "null", "and", "or", "not", "in", "is", "if", "else", "elif", "for", "endfor",
    "endif", "set", "with", "without", "import", "include", "from", "as", "recursive",
    "super", "caller", "kwargs", "varargs",
})
_INT = re.compile(r"-?[0-9]{1,18}")
_PORT = re.compile(r"[0-9]{1,5}")
_BOOL = frozenset({"true", "false", "yes", "no", "1", "0", "on", "off"})
_PATH = re.compile(r"[^\x00\r\n-][^\x00\r\n]*")
_URL = re.compile(r"https?://[^\s\x00]+", re.IGNORECASE)
_FLOAT = re.compile(r"-?[0-9]{1,18}(?:\.[0-9]{1,18})?")
# A number and an optional unit, as sleep(1) and timeout(1) take it: 90, 90s, 5m, 2h, 1d, 0.5h.
_DURATION = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?[smhd]?")
#: Parameter types whose values are numbers a metric threshold can compare against.
NUMERIC_TYPES = frozenset({"int", "float"})
# A threshold that names a parameter: exactly "{{ name }}".
THRESHOLD_REF = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def check_value(ptype: str, value: str) -> str | None:
    """Why ``value`` is not a valid value of type ``ptype`` (None when it is)."""
    if ptype == "int" and not _INT.fullmatch(value):
        return "is not an integer"
    if ptype == "float" and not _FLOAT.fullmatch(value):
        return "is not a number (digits, an optional '-' and decimal point)"
    if ptype == "duration" and not _DURATION.fullmatch(value):
        return "is not a duration (a number and an optional unit s, m, h or d: 90s, 5m, 2h)"
    if ptype == "port" and not (_PORT.fullmatch(value) and 1 <= int(value) <= 65535):
        return "is not a port number (1-65535)"
    if ptype == "bool" and value.lower() not in _BOOL:
        return "is not a boolean (true/false)"
    if ptype == "path" and not _PATH.fullmatch(value):
        return "is not a path (no newline, NUL, or leading '-')"
    if ptype == "url" and not _URL.fullmatch(value):
        return "is not an http(s) URL"
    return None


class Parameter(Strict):
    """A declared parameter: the only names templated in commands."""

    description: str = ""
    type: ParamType = Field("string", description="string, int, float, duration, bool, port, path or url; "
                                                  "checked before anything runs.")
    required: bool = False
    default: str | int | float | bool | None = None
    pattern: str | None = Field(None, description="Regular expression the whole value must match (re.fullmatch).")
    choices: list[str] | None = None
    secret: bool = False
    env: str | None = Field(None, description="Environment variable the value is read from.")

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        _regex(value)
        if value is not None:
            # The playbook checks (?:pattern)\Z with re.match: it must compile too.
            try:
                re.compile(f"(?:{value})\\Z")
            except re.error:
                raise ValueError("invalid pattern: use inline flag groups such as (?i:...) "
                                 "instead of global flags") from None
        return value

    @field_validator("env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("env must be an environment variable name")
        return value

    @property
    def inert(self) -> bool:
        """Whether every valid value is digits or a word from the source: safe in any bash context."""
        return self.type in ("int", "float", "duration", "port", "bool") or self.choices is not None

    def problem(self, value: str) -> str | None:
        """Why ``value`` is not acceptable for this parameter (None when it is)."""
        if "\x00" in value:
            return "contains a NUL character"
        why = check_value(self.type, value)
        if why is not None:
            return why
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            return f"does not match {self.pattern}"
        if self.choices is not None and value not in self.choices:
            return f"is not one of {', '.join(self.choices)}"
        return None

    @model_validator(mode="after")
    def _default_is_valid(self) -> Parameter:
        if self.default is not None and not isinstance(self.default, bool | float):
            why = self.problem(str(self.default))
            if why is not None:
                raise ValueError(f"the default {str(self.default)!r} {why}")
        return self


class Impact(Strict):
    users: str = ""
    systems: str = ""
    data: str = ""
    sla: str = ""


class Purpose(Strict):
    what: str
    when: list[str] = Field(default_factory=list)
    when_not: list[str] = Field(default_factory=list)
    impact: Impact = Field(default_factory=lambda: Impact())


class Tool(Strict):
    name: str
    version: str | None = None
    note: str | None = None


class Prerequisites(Strict):
    access: list[str] = Field(default_factory=list)
    tools: list[Tool] = Field(default_factory=list)
    knowledge: list[str] = Field(default_factory=list)
    system_state: list[str] = Field(default_factory=list)
    approvals: list[str] = Field(default_factory=list)


HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# An HTTP header name (RFC 9110 token): no space, colon, brace or quote, so a
# name can never carry Jinja, a second header or shell syntax.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
# A JSON field a health check expects: dotted path of names (checks.db).
JSON_PATH = re.compile(r"[^.\s]+(?:\.[^.\s]+){0,19}")
# ``host:port`` of a TCP check: a name, an IPv4 address or a [bracketed] IPv6
# one (or a '{{ parameter }}'), then a port number or a '{{ parameter }}'.
_REF = r"\{\{\s*[a-z_][a-z0-9_]*\s*\}\}"
TCP_TARGET = re.compile(rf"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+|{_REF})"
                        rf":(?P<port>[0-9]{{1,5}}|{_REF})")
JsonValue = str | int | float | bool | None
HEALTH_KINDS = ("url", "tcp", "command")


class HealthCheck(Strict):
    """One health check of the final validation: an HTTP request (``url``), a TCP
    connection (``tcp: host:port``) or a command (``command``), with retries.

    Every value is data: header values, the body and the expected JSON may
    name parameters (``{{ token }}``, a secret one too), nothing else is
    templated.
    """

    url: str | None = Field(None, description="HTTP(S) URL to request (ansible.builtin.uri).")
    tcp: str | None = Field(None, description="host:port that must accept a TCP connection "
                                              "(ansible.builtin.wait_for).")
    command: str | None = Field(None, description="Shell command that must exit 0 (bash, set -euo pipefail).")
    name: str | None = None
    status: int = Field(200, ge=100, le=599, description="Expected HTTP status.")
    contains: str | None = Field(None, description="Text the response body (or the command's output) contains.")
    method: HttpMethod = Field("GET", description="HTTP method.")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP request headers; a value may "
                                    "name a parameter (\"Bearer {{ api_token }}\", a secret one too).")
    body: str | dict[str, Any] | list[Any] | None = Field(
        None, description="Request body: text as it is, or a mapping/list sent as JSON.")
    json_: dict[str, JsonValue] | None = Field(
        None, alias="json", description="JSON fields the response must have, by dotted path: "
        "{status: ok, checks.db: up}.")
    ca_path: str | None = Field(None, description="CA certificate (PEM) that signs the server's certificate.")
    validate_certs: bool = Field(True, description="Verify the server's TLS certificate (false: do not; "
                                                   "prefer ca_path).")
    timeout: int = Field(30, ge=1, le=3600, description="Seconds per attempt.")
    retries: int = Field(3, ge=0, le=1000)
    delay: int = Field(2, ge=0, le=3600)
    where: Where = "targets"

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, val in value.items():
            if not HEADER_NAME.fullmatch(key):
                raise ValueError(f"header name {key!r} is not an HTTP header name (letters, digits, '-')")
            if re.search(r"[\r\n\x00]", val):
                raise ValueError(f"the value of header '{key}' cannot contain a line break or NUL")
        return value

    @field_validator("body")
    @classmethod
    def _body_keys(cls, value: Any) -> Any:
        for key in _keys(value):
            if not isinstance(key, str) or re.search(r"\{[{%#]", key):
                raise ValueError(f"body key {key!r} must be text without '{{{{', '{{%' or '{{#'")
        return value

    @field_validator("json_")
    @classmethod
    def _json_paths(cls, value: dict[str, JsonValue] | None) -> dict[str, JsonValue] | None:
        for key in value or {}:
            if not JSON_PATH.fullmatch(key):
                raise ValueError(f"JSON field {key!r} must be a dotted path of names (status, checks.db)")
        return value

    @field_validator("tcp")
    @classmethod
    def _tcp_target(cls, value: str | None) -> str | None:
        if value is None:
            return value
        m = TCP_TARGET.fullmatch(value.strip())
        if m is None:
            raise ValueError("tcp must be host:port (db.internal:5432, [::1]:443, '{{ db_host }}:{{ db_port }}')")
        port = m["port"]
        if port.isdigit() and not 1 <= int(port) <= 65535:
            raise ValueError(f"tcp port {port} is not 1..65535")
        return value.strip()

    @model_validator(mode="after")
    def _one_kind(self) -> HealthCheck:
        given = [k for k in HEALTH_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a health check has exactly one of 'url' (HTTP), 'tcp' (host:port) or 'command'"
                             + (f" (found {', '.join(given)})" if given else ""))
        if self.url is None:
            http_only = [k for k in ("status", "method", "headers", "body", "json_", "ca_path", "validate_certs")
                         if k in self.model_fields_set]
            if http_only:
                names = ", ".join("json" if k == "json_" else k for k in http_only)
                raise ValueError(f"{names}: only for HTTP checks ('url')")
        if self.tcp is not None and self.contains is not None:
            raise ValueError("'contains' is for HTTP and command checks, not 'tcp'")
        if self.command is not None and "\r" in self.command:
            raise ValueError("a command cannot contain a carriage return (\\r): save the file with LF line endings")
        if self.method in ("GET", "HEAD") and self.body is not None:
            raise ValueError(f"a {self.method} request has no body: use method: POST (or PUT, PATCH)")
        return self

    @property
    def kind(self) -> Literal["url", "tcp", "command"]:
        """Which of the three checks this is."""
        return "url" if self.url is not None else ("tcp" if self.tcp is not None else "command")

    @property
    def host_port(self) -> tuple[str, str]:
        """Host and port of a TCP check (brackets of an IPv6 address removed)."""
        assert self.tcp is not None
        m = TCP_TARGET.fullmatch(self.tcp)
        assert m is not None
        host = m["host"]
        return (host[1:-1] if host.startswith("[") else host), m["port"]

    @property
    def title(self) -> str:
        """The check's name, or what it checks."""
        if self.name:
            return self.name
        if self.url is not None:
            return f"{self.method} {self.url}"
        return f"TCP {self.tcp}" if self.tcp is not None else "command"

    def texts(self) -> list[str]:
        """Every executed string of the check (to find the parameters it names)."""
        out = [x for x in (self.url, self.tcp, self.command, self.contains, self.ca_path) if x is not None]
        out.extend(self.headers.values())
        out.extend(_strings(self.body))
        out.extend(v for v in (self.json_ or {}).values() if isinstance(v, str))
        return out


def _keys(value: Any) -> list[Any]:
    """Every mapping key inside ``value`` (nested mappings and lists)."""
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in _keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


def _strings(value: Any) -> list[str]:
    """Every string inside ``value`` (nested mappings and lists)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class Metric(Action):
    """A measured value with a numeric threshold."""

    name: str
    description: str = ""
    below: float | str | None = Field(
        None, description="The value must be below this: a number, or '{{ name }}' of an int or float parameter.")
    above: float | str | None = Field(
        None, description="The value must be above this: a number, or '{{ name }}' of an int or float parameter.")

    @field_validator("below", "above")
    @classmethod
    def _number_or_parameter(cls, value: float | str | None) -> float | str | None:
        if isinstance(value, str) and not THRESHOLD_REF.fullmatch(value.strip()):
            raise ValueError("a threshold is a number or '{{ parameter }}' (an int or float parameter)")
        return value.strip() if isinstance(value, str) else value

    def threshold_param(self, which: str) -> str | None:
        """The parameter a threshold names, or None when it is a number (or absent)."""
        value = getattr(self, which)
        m = THRESHOLD_REF.fullmatch(value) if isinstance(value, str) else None
        return m[1] if m else None

    @model_validator(mode="after")
    def _has_threshold(self) -> Metric:
        if self.below is None and self.above is None:
            raise ValueError("a metric needs a numeric threshold: 'below' or 'above'")
        if self.kind != "run":
            raise ValueError("a metric is measured by 'run' (a command printing one number)")
        return self


class FinalValidation(Strict):
    health: list[HealthCheck] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    smoke: list[Check] = Field(default_factory=list)
    monitoring: list[str] = Field(default_factory=list)


class RollbackStep(Action):
    title: str
    expected: str = ""


class FullRollback(Strict):
    triggers: list[str] = Field(default_factory=list)
    steps: list[RollbackStep] = Field(default_factory=list)


# A code fence's info string: the language a Markdown renderer highlights.
FENCE_LANG = r"^[a-z][a-z0-9_+-]{0,30}$"


class Problem(Strict):
    problem: str
    symptoms: list[str] = Field(default_factory=list)
    cause: str = ""
    solution: str = ""
    commands: str | None = None
    language: str = Field("bash", pattern=FENCE_LANG,
                          description="Language of 'commands' in the runbook's code block (bash, sql, text...).")
    references: list[str] = Field(default_factory=list)


# When a post-execution action runs, by the host's outcome (playbook.POST_OUTCOME).
Outcome = Literal["success", "failure", "rollback", "drill", "always"]


class PostAction(Action):
    title: str
    on_outcome: list[Outcome] = Field(
        default_factory=lambda: list[Outcome](["always"]),
        description="When the action runs, by the host's outcome: success (the procedure completed), "
        "failure (a real failure, rolled back or not), rollback (a real failure fully rolled back), drill "
        "(a procc_fail_at run) or always (the default). One outcome or a list. '{{ procc_outcome }}' in the "
        "action reads success, failed, rolled-back or drill.",
    )

    @field_validator("on_outcome", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Post(Strict):
    cleanup: list[PostAction] = Field(default_factory=list)
    notify: list[PostAction] = Field(default_factory=list)
    documentation: list[str] = Field(default_factory=list)
    monitoring: list[str] = Field(default_factory=list)


class Contact(Strict):
    role: str
    name: str
    contact: str = ""


class Resource(Strict):
    name: str
    url: str


class References(Strict):
    related: list[str] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    resources: list[Resource] = Field(default_factory=list)


class Annex(Strict):
    """A free annex. One titled 'Comandos Utiles' (or 'Useful Commands') is the template's Anexo A."""

    title: str
    text: str | None = None
    commands: str | None = None
    language: str = Field("bash", pattern=FENCE_LANG,
                          description="Language of 'commands' in the runbook's code block (bash, sql, text...).")
    items: list[str] = Field(default_factory=list)


class Change(Strict):
    version: str
    date: dt.date
    author: str
    changes: str


class Signoff(Strict):
    name: str
    date: dt.date | None = None


class Tested(Strict):
    env: str
    date: dt.date | None = None


class Approvals(Strict):
    created_by: Signoff | None = None
    reviewed_by: list[Signoff] = Field(default_factory=list)
    approved_by: Signoff | None = None
    tested_in: Tested | None = None


class Suppression(Strict):
    rule: str
    reason: str = Field(..., min_length=1)


class LintConfig(Strict):
    ignore: list[Suppression] = Field(default_factory=list)


class Procedure(Strict):
    """One operational procedure: the source of a runbook and a playbook."""

    id: str = Field(..., description="PROC-BACKEND-NNN")
    type: ProcType
    category: str = "backend"
    title: str
    criticality: Criticality
    frequency: Frequency
    estimated_minutes: float = Field(..., gt=0)
    version: str
    updated: dt.date
    author: str
    reviewers: list[str] = Field(default_factory=list)
    hosts: str = Field("all", description="Inventory pattern the playbook targets.")
    serial: int | str | list[int | str] | None = Field(
        None, description="Rolling batches, as Ansible's play keyword: hosts at a time (2), a percentage "
        "('30%') or a list of batch sizes ([1, '30%', '100%']; the last one repeats).")
    max_fail_percentage: int | None = Field(
        None, ge=0, le=100, description="Failed hosts tolerated per batch, in percent (exceeded, not equalled, "
        "stops the run and rolls back every host; within it, failed hosts are rolled back and the others keep "
        "the change). Default: none tolerated (all-or-nothing).")
    throttle: int | None = Field(None, ge=1, description="At most this many hosts run any task at once "
                                 "(Ansible's play keyword).")
    forks: int | None = Field(None, ge=1, le=500, description="Parallel connections procc run asks of Ansible "
                              "(ansible-playbook --forks); procc run --forks overrides it.")
    become: bool = False
    backups: str | None = Field(
        None, description="Where the backups this procedure makes are kept (the template's 'Ubicacion de "
        "Backups'); documentation only, may name parameters as {{ name }}.")
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    purpose: Purpose
    prerequisites: Prerequisites = Field(default_factory=lambda: Prerequisites())
    preflight: list[Check] = Field(default_factory=list)
    steps: list[Step] = Field(..., min_length=1)
    final_validation: FinalValidation = Field(default_factory=lambda: FinalValidation())
    rollback: FullRollback = Field(default_factory=lambda: FullRollback())
    troubleshooting: list[Problem] = Field(default_factory=list)
    post: Post = Field(default_factory=lambda: Post())
    references: References = Field(default_factory=lambda: References())
    annexes: list[Annex] = Field(default_factory=list)
    changelog: list[Change] = Field(default_factory=list)
    approvals: Approvals = Field(default_factory=lambda: Approvals())
    continuous_improvement: str = ""
    lint: LintConfig = Field(default_factory=lambda: LintConfig())

    @field_validator("id")
    @classmethod
    def _proc_id(cls, value: str) -> str:
        if not PROC_ID.match(value):
            raise ValueError("id must look like PROC-BACKEND-001")
        return value

    @field_validator("hosts")
    @classmethod
    def _host_pattern(cls, value: str) -> str:
        if not HOST_PATTERN.fullmatch(value):
            raise ValueError("hosts must be an inventory pattern (names, groups, ':', '&', '!', '*', '~regex', "
                             "'[1:3]'), without quotes, braces, '%' or '#'")
        return value

    @field_validator("serial", mode="before")
    @classmethod
    def _serial_not_bool(cls, value: Any) -> Any:
        # Before pydantic reads true as 1 host.
        for size in value if isinstance(value, list) else [value]:
            if isinstance(size, bool):
                raise ValueError("serial must be a number of hosts (2), a percentage ('30%') or a list of them")
        return value

    @field_validator("serial")
    @classmethod
    def _serial(cls, value: int | str | list[int | str] | None) -> int | str | list[int | str] | None:
        if value is None:
            return value
        sizes = value if isinstance(value, list) else [value]
        if not sizes:
            raise ValueError("serial must not be an empty list: give batch sizes like [1, '30%']")
        for size in sizes:
            _batch_size(size)
        return value

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not SEMVER.match(value):
            raise ValueError("version must be semantic: MAJOR.MINOR.PATCH")
        return value

    @field_validator("parameters")
    @classmethod
    def _param_names(cls, value: dict[str, Parameter]) -> dict[str, Parameter]:
        for name in value:
            if not PARAM_NAME.match(name) or name.startswith(("procc_", "ansible_", "_")):
                raise ValueError(
                    f"parameter name '{name}' must be a lowercase identifier not starting with procc_, "
                    "ansible_ or _"
                )
            if name in RESERVED_NAMES:
                raise ValueError(f"parameter name '{name}' is reserved by Ansible or Jinja; choose another name")
        return value


def _batch_size(size: int | str) -> None:
    """Refuse a serial batch size Ansible would not read as one (0, '0%', '150%', '30 %')."""
    if isinstance(size, bool) or not isinstance(size, int | str):
        raise ValueError("serial must be a number of hosts (2), a percentage ('30%') or a list of them")
    if isinstance(size, int):
        if size < 1:
            raise ValueError(f"serial batch size {size} must be at least 1")
        return
    m = re.fullmatch(r"([0-9]{1,9})(%?)", size)
    if m is None:
        raise ValueError(f"serial batch size '{size}' must be a number of hosts (2) or a percentage ('30%')")
    n = int(m.group(1))
    if n < 1 or (m.group(2) and n > 100):
        raise ValueError(f"serial batch size '{size}' must be 1..100% or at least 1 host")


def actions(proc: Procedure) -> Iterator[tuple[tuple[str | int, ...], Action]]:
    """Every executed action of the procedure, with its path.

    Documentation-only commands (troubleshooting, annexes) are not actions.
    """
    for i, check in enumerate(proc.preflight):
        yield ("preflight", i), check
    for i, step in enumerate(proc.steps):
        yield ("steps", i), step
        if step.validate_ is not None:
            yield ("steps", i, "validate"), step.validate_
        if step.rollback is not None:
            yield ("steps", i, "rollback"), step.rollback
    fv = proc.final_validation
    for i, metric in enumerate(fv.metrics):
        yield ("final_validation", "metrics", i), metric
    for i, smoke in enumerate(fv.smoke):
        yield ("final_validation", "smoke", i), smoke
    for i, rstep in enumerate(proc.rollback.steps):
        yield ("rollback", "steps", i), rstep
    for i, post in enumerate(proc.post.cleanup):
        yield ("post", "cleanup", i), post
    for i, post in enumerate(proc.post.notify):
        yield ("post", "notify", i), post


def roles(proc: Procedure) -> list[str]:
    """The FQCNs of the roles the procedure's actions call, in first-use order, each once."""
    return list(dict.fromkeys(act.role_fqcn for _, act in actions(proc) if act.role is not None))


_T = TypeVar("_T")


def per_procedure(fn: Callable[[Procedure], _T]) -> Callable[[Procedure], _T]:
    """Memoize ``fn`` on the last procedure it was given (by identity: the models are frozen).

    For derived tables that emitters consult once per step or per command: a
    rescan of every step each time made a 3,000-step compile quadratic (35 s
    in session 7's benchmarks). One slot, so a 1000-procedure compile holds
    nothing of the procedures before. The result is shared: callers only read it.
    """
    last: list[tuple[Procedure, _T]] = []

    def memo(proc: Procedure) -> _T:
        if last and last[0][0] is proc:
            return last[0][1]
        value = fn(proc)
        last[:] = [(proc, value)]
        return value

    memo.__doc__ = fn.__doc__
    memo.__name__ = fn.__name__
    return memo


@per_procedure
def captures(proc: Procedure) -> dict[str, tuple[int, Capture]]:
    """Every captured value by name: the 1-based number of the step that captures it, and how."""
    return {name: (k, cap) for k, step in enumerate(proc.steps, 1) for name, cap in step.capture.items()}
