"""JSON Schema of each API file family, generated from its model and published beside the
files as `api/schema/{family}.json`, so a client can check what it reads."""

from __future__ import annotations

from typing import Any

from . import layout
from .families import FAMILIES, Family

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def family_schema(family: Family) -> dict[str, Any]:
    """The schema of one family (pydantic's JSON Schema of the model in validation mode)."""
    schema = family.model.model_json_schema(mode="validation")
    return {"$schema": SCHEMA_DIALECT, "$id": layout.schema_file(family.name), **schema}


def schema_files() -> dict[str, dict[str, Any]]:
    """{relative path: schema} of every family, for the export to write."""
    return {layout.schema_file(f.name): family_schema(f) for f in FAMILIES}
