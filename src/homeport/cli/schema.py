"""``homeport schema``: the JSON Schema of the platform file, for editors."""

from __future__ import annotations

import json
from typing import Any

import typer
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from homeport.model import Platform

# What a section also accepts in place of its mapping (its ``_shorthand`` validator's inputs).
SHORTHANDS: dict[str, list[dict[str, Any]]] = {
    "Probe": [{"type": "string", "description": "a path (/healthz) for HTTP, else a command"}],
    "Restart": [{"enum": ["no", "on-failure", "always"]}, {"const": False}],
    "Cors": [{"type": "array", "items": {"type": "string"}, "description": "the origins"}],
    "RetentionGroup": [{"type": "string", "description": "the group's name"}],
}
# Value types the loader parses from text: what a user may write besides the bare number.
TEXT_FORMS: dict[str, dict[str, Any]] = {
    "parse_duration": {"type": "string", "description": "a duration: 500ms, 2s, 1m or 1h"},
    "parse_size": {"type": "string", "description": "a size: 10MB, 512KiB or bytes"},
    "parse_percent": {"type": "string", "description": "a percentage: 85%"},
}


class PlatformSchema(GenerateJsonSchema):
    """Pydantic's schema, plus the shorthands and text forms the validators accept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shorthand_models: set[str] = set()

    def function_before_schema(
        self, schema: core_schema.BeforeValidatorFunctionSchema
    ) -> JsonSchemaValue:
        """Widen a field to what its before-validator turns into the declared type."""
        inner = super().function_before_schema(schema)
        name = getattr(schema["function"]["function"], "__qualname__", "")
        if name.endswith("._shorthand"):
            self.shorthand_models.add(name.removesuffix("._shorthand"))
        if name == "one_or_many" and "items" in inner:
            return {"anyOf": [inner["items"], inner]}
        if name in TEXT_FORMS:
            return {"anyOf": [inner, TEXT_FORMS[name]]}
        return inner

    def generate(self, schema: core_schema.CoreSchema, mode: Any = "validation") -> JsonSchemaValue:
        """The whole schema, with each shorthand model's definition widened to its shorthands."""
        result = super().generate(schema, mode)
        for name, definition in result.get("$defs", {}).items():
            if name in SHORTHANDS:
                result["$defs"][name] = {
                    "title": definition.get("title", name),
                    "description": definition.get("description", ""),
                    "anyOf": [definition, *SHORTHANDS[name]],
                }
        return result


def platform_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that homeport.yaml files validate against."""
    schema = Platform.model_json_schema(
        by_alias=True, mode="validation", schema_generator=PlatformSchema
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "homeport platform file (homeport.yaml)"
    return schema


def schema() -> None:
    """Print the JSON Schema of homeport.yaml (point your editor's YAML support at it)."""
    typer.echo(json.dumps(platform_schema(), indent=2))
