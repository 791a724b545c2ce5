"""Issue 8, item 4: every free-text field is data; a test walks every string field of the format.

Each string field of the fixture (which covers every string field the JSON
Schema declares) gets a Jinja lookup that would create a marker file. Either
the source is refused with a positioned error (executed or validated
fields), or it compiles and the compiled playbook, run for real, leaves no
marker: the text was printed, never evaluated.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from compiler.parse import parse_text
from compiler.schema import schema_text
from tests.security.support import ansible_playbook, diagnostics

FIXTURE = Path(__file__).parent / "fixtures" / "every-field.yml"
Path_ = tuple[str | int, ...]


def _string_fields(model: BaseModel, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    """(data path, field name) of every string value in the validated model."""
    for name, field in type(model).model_fields.items():
        key = field.alias or name
        value = getattr(model, name)
        here = (*path, key)
        # Dates and serial are strings in the schema too (a date, "30%").
        if isinstance(value, str | dt.date) or (key == "serial" and value is not None):
            yield here, key
        elif isinstance(value, BaseModel):
            yield from _string_fields(value, here)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    yield (*here, i), key
                elif isinstance(item, BaseModel):
                    yield from _string_fields(item, (*here, i))
        elif isinstance(value, dict) and key in ("parameters", "capture"):
            for pname, param in value.items():
                yield from _string_fields(param, (*here, pname))


def _schema_string_fields() -> set[str]:
    schema = json.loads(schema_text())
    names: set[str] = set()
    for d in [*schema["$defs"].values(), schema]:
        for key, prop in d.get("properties", {}).items():
            kinds = [prop, *prop.get("anyOf", [])]
            if any(k.get("type") == "string" or k.get("items", {}).get("type") == "string" for k in kinds):
                names.add(key)
    return names


def _set(data: Any, path: Path_, value: str) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _hostile(marker: Path) -> str:
    return "{{ lookup('pipe', 'touch " + str(marker) + "') }}"


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok\n")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    server.shutdown()


@functools.cache
def _accepted_and_refused(marker: str) -> tuple[list[Path_], list[Path_]]:
    text = FIXTURE.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    accepted, refused = [], []
    for path, _ in _string_fields(parse_text(text)):
        mutated = copy.deepcopy(data)
        _set(mutated, path, _hostile(Path(marker)))
        (refused if diagnostics(yaml.safe_dump(mutated, allow_unicode=True)) else accepted).append(path)
    return accepted, refused


def test_the_fixture_covers_every_string_field_of_the_schema() -> None:
    covered = {name for _, name in _string_fields(parse_text(FIXTURE.read_text(encoding="utf-8")))}
    assert _schema_string_fields() - covered == set()


def test_executed_and_validated_fields_refuse_a_lookup_with_a_position(tmp_path: Path) -> None:
    _, refused = _accepted_and_refused(str(tmp_path / "PWNED"))
    refused_keys = {str(p[-1]) if isinstance(p[-1], str) else str(p[-2]) for p in refused}
    # Commands and checked text are executed; names, ids, versions, dates are validated.
    assert {"run", "url", "contains", "stdout_contains", "id", "version", "env"} <= refused_keys
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    _set(data, ("steps", 0, "run"), "echo " + _hostile(tmp_path / "PWNED"))
    diags = diagnostics(yaml.safe_dump(data))
    assert diags and diags[0].startswith("p.yml:") and "[template-expression]" in diags[0]


@pytest.mark.slow
@pytest.mark.ansible
def test_no_free_text_field_is_ever_evaluated(tmp_path: Path, http_port: int) -> None:
    marker = tmp_path / "PWNED"
    accepted, _ = _accepted_and_refused(str(marker))
    assert len(accepted) >= 40
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    for path in accepted:
        # A capture regex must still match for the run to pass: the hostile text is its second branch.
        _set(data, path, ("(.+)|" if path[-1] == "regex" else "") + _hostile(marker))
    text = yaml.safe_dump(data, allow_unicode=True)
    assert diagnostics(text) == []
    res = ansible_playbook(tmp_path, text, "-e", f"http_port={http_port}")
    assert "PLAY RECAP" in res.stdout, res.stdout[-3000:] + res.stderr[-2000:]
    assert res.returncode == 0, res.stdout[-3000:]
    assert not marker.exists()
