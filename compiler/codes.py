"""What every diagnostic code means and how to fix it: the text of ``procc explain CODE``.

Lint rules document themselves (their docstrings); this module documents the
codes of the compiler's own diagnostics (YAML, the procedure format,
parameters) and the families of findings that come from other tools. A test
checks that every code the compiler can emit is here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """One diagnostic code: a one-line summary and the longer explanation with its fix."""

    summary: str
    doc: str


CODES: dict[str, Code] = {
    "yaml-syntax": Code(
        "the file is not valid YAML",
        "The YAML parser stopped here. Every error that can be found is reported in one pass (each\n"
        "offending line is set aside and the rest parsed again), each with the fix when it is a\n"
        "common one:\n\n"
        "- a plain value with ': ' inside (run: curl -H Authorization: Bearer x): quote the value,\n"
        "  or write it as a block ('run: |' and the command on the next line);\n"
        "- a value starting with '{{' (run: {{ base_dir }}/bin): quote it, run: \"{{ base_dir }}/bin\";\n"
        "- Jinja inside a flow mapping (task: {shell: echo {{ x }}}): quote the value or use block style;\n"
        "- a tab in the indentation: YAML indents with spaces only;\n"
        "- a quote that is never closed.",
    ),
    "yaml-key": Code(
        "a mapping key is not a plain string",
        "Keys must be plain strings. A key that is itself a mapping usually comes from an unquoted\n"
        "value starting with '{{': 'run: {{ x }}' is read as a mapping whose key is '{ x }'.\n"
        "Fix: quote the value, run: \"{{ x }}\".",
    ),
    "yaml-value": Code(
        "a value cannot be read with its tag",
        "An explicit tag the value cannot hold (!!int x, !!bool maybe) or an unknown tag (!foo).\n"
        "Fix: remove the tag, or write a value of that type.",
    ),
    "yaml-too-deep": Code(
        "the document nests deeper than any procedure needs",
        "Nesting is limited (100 levels) so that a hostile file cannot exhaust the compiler.\n"
        "Fix: flatten the structure.",
    ),
    "yaml-alias-limit": Code(
        "aliases expand to too many nodes",
        "Anchors and aliases that expand past 10,000 nodes are refused (the 'billion laughs' attack).\n"
        "Fix: write the values out, or use fewer aliases.",
    ),
    "duplicate-key": Code(
        "a key appears twice in one mapping",
        "YAML would silently keep the last value. The message names the line of the first one.\n"
        "Fix: keep one of them.",
    ),
    "empty-file": Code("the file holds no document", "Fix: write the procedure (procc template shows a start)."),
    "encoding": Code("the file is not UTF-8", "Fix: save the file as UTF-8."),
    "io": Code("the file cannot be read", "The operating system's reason is in the message (missing, permissions)."),
    "type": Code(
        "the document is not a mapping",
        "A procedure is one YAML mapping (id, title, steps, ...), not a list or a scalar.",
    ),
    "unknown-key": Code(
        "a key the procedure format does not have",
        "A typo gets 'did you mean'; any other key gets the list of keys allowed at that place.\n"
        "The whole format: procc schema (an editor with the YAML language server completes it).",
    ),
    "missing-key": Code("a required key is missing", "The message names the key and where it belongs."),
    "wrong-type": Code(
        "a value has the wrong type",
        "For example a list where a string is expected, or text where a number is (minutes: ten).",
    ),
    "invalid-value": Code(
        "a value breaks a rule of the format",
        "For example a negative duration, a version that is not semver, a step with both 'rollback'\n"
        "and 'irreversible'. The message says which rule.",
    ),
    "invalid-choice": Code("a value is not one of the allowed choices", "The message lists the choices."),
    "duplicate-step-id": Code("two steps have the same id", "Step ids name steps in commands and history: make them unique."),
    "invalid-covers": Code(
        "a rollback's 'covers' names a step it cannot cover",
        "rollback: {run: ..., covers: [backup, 2]} says this rollback also undoes earlier steps (by id or\n"
        "number): when this step started, its rollback runs and theirs are skipped (not undone twice).\n"
        "Each reference names an existing step (a typo gets 'did you mean'), earlier than this one, once,\n"
        "and not irreversible (nothing can undo it). Coverage is closed: if step 4 covers step 3 and\n"
        "step 3's rollback covers step 2, step 4 lists 2 too, or step 2 would never be undone. A\n"
        "none-needed rollback undoes nothing and cannot cover.\n"
        "Fix: list only earlier, reversible steps; move 'covers' to the later step's rollback.",
    ),
    "throttle-above-procedure": Code(
        "a step's throttle is above the procedure's",
        "A step can only lower the procedure's throttle (how many hosts run it at once).",
    ),
    "undeclared-parameter": Code(
        "a '{{ name }}' that is not a declared parameter",
        "Every name a command reads is declared under 'parameters' (with a description, and a\n"
        "default or required: true), or is one of the built-in variables. The message suggests the\n"
        "closest declared name ('did you mean').",
    ),
    "template-expression": Code(
        "a '{{ }}' that is more than a parameter",
        "Commands may only read parameters: '{{ name }}', optionally with a safe filter. Expressions,\n"
        "lookups, attribute access and filter blocks run code at run time and are refused. Names\n"
        "starting with procc_ or ansible_ that are not built-in variables are refused here too,\n"
        "with the list of the built-in ones.",
    ),
    "unsafe-shell-use": Code(
        "a parameter would become shell syntax",
        "In a shell module's command, or a command module's 'cmd', a parameter's value is split into\n"
        "words or run by a shell. Fix: use 'run:' (parameters reach bash as variables), or 'argv:'\n"
        "(one list item per argument).",
    ),
    "capture-used-too-early": Code(
        "a captured value is read before the step that captures it",
        "A step's 'capture' keeps values its command prints (stdout: true, json: <path>, regex: <re>)\n"
        "as '{{ name }}' for what runs after that command: the step's own validation and rollback,\n"
        "later steps (their commands, validations, rollbacks), final validation (a metric threshold\n"
        "may be '{{ name }}' of an int or float capture), the full rollback and post actions.\n"
        "Pre-flight, earlier steps and the capturing step's own command cannot read it.\n"
        "Fix: move the use after the capturing step, or capture the value earlier.",
    ),
    "capture-name-clash": Code(
        "a capture is named like a parameter, a built-in variable or another capture",
        "'{{ name }}' must mean one thing: a parameter (set before the run), a built-in variable\n"
        "(procc_run_id, inventory_hostname ...) or the value one step captured. Names are lowercase\n"
        "identifiers, not starting with procc_, ansible_ or _, and not reserved by Ansible or Jinja.\n"
        "Fix: rename the capture (rows_before, rows_after ...).",
    ),
    "capture-bad-regex": Code(
        "a capture's regular expression does not compile, or matches the empty text",
        "regex: is searched in the step's output (Python re, ^ and $ at each line); the value is\n"
        "group 1, or the whole match when there is no group. A regex that matches the empty text\n"
        "would capture nothing. Fix: correct the expression, e.g. regex: 'offset=(\\d+)'.",
    ),
    "capture-bad-json-path": Code(
        "a capture's JSON path is not a dotted path of keys",
        "json: reads a field of the output parsed as JSON: keys of letters, digits, '_' or '-'\n"
        "joined by dots (data.version), at most 20 levels; each key must exist in a JSON object.\n"
        "Fix: write the path as keys joined by dots.",
    ),
    "awx-unsafe-value": Code(
        "a value cannot be carried safely into an AWX survey",
        "procc awx refuses a survey field whose value AWX would interpret.",
    ),
    "output-missing": Code("a generated file is missing", "Fix: procc compile."),
    "unknown-lint-rule": Code("lint.ignore names a rule that does not exist", "See procc lint --list-rules."),
    "unused-suppression": Code(
        "a lint.ignore suppresses nothing",
        "The rule no longer fires there: remove the suppression so it cannot hide a future finding.",
    ),
}

#: Findings of the ecosystem's linters (procc lint --outputs), as ``tool:rule``.
TOOL_FAMILIES: dict[str, str] = {
    "ansible-lint": "ansible-lint --profile production on a generated playbook: a compiler bug, please report it.",
    "yamllint": "yamllint on a generated playbook: a compiler bug, please report it.",
    "pymarkdown": "pymarkdown on a generated runbook: a compiler bug, please report it.",
}


def explain(code: str) -> str | None:
    """The text of ``procc explain CODE`` for a compiler diagnostic code, or None."""
    entry = CODES.get(code)
    if entry is not None:
        return f"{code}: {entry.summary}\n\n{entry.doc}\n"
    tool, sep, rule = code.partition(":")
    if sep and tool in TOOL_FAMILIES:
        what = "the tool is not installed" if rule == "missing" else (
            "the tool itself failed" if rule == "failed" else f"the tool's rule '{rule}'")
        return f"{code}: {what}\n\n{TOOL_FAMILIES[tool]}\n"
    return None
