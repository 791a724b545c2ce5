"""The committed JSON Schema (referenced by every source for editors) is fresh."""

from __future__ import annotations

from compiler.schema import schema_text
from tests.conftest import ROOT

SCHEMA = ROOT / "docs" / "procedure.schema.json"


def test_committed_schema_is_fresh() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "docs/procedure.schema.json is stale; run: procc schema > docs/procedure.schema.json")
