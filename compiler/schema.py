"""The JSON Schema of the procedure format, for editors (``procc schema``)."""

from __future__ import annotations

import json
from typing import Any

from compiler.model import Procedure


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a procedure source file."""
    data = Procedure.model_json_schema(by_alias=True)
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    data["$id"] = "https://procc.dev/schema/procedure.schema.json"
    data["title"] = "procc procedure"
    return data


def schema_text() -> str:
    """The schema as stable, pretty JSON text."""
    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
