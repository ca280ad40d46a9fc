"""``homeport schema``: the JSON Schema of the platform file, for editors."""

from __future__ import annotations

import json
from typing import Any

import typer

from homeport.model import Platform


def platform_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that homeport.yaml files validate against."""
    schema = Platform.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "homeport platform file (homeport.yaml)"
    return schema


def schema() -> None:
    """Print the JSON Schema of homeport.yaml (point your editor's YAML support at it)."""
    typer.echo(json.dumps(platform_schema(), indent=2))
