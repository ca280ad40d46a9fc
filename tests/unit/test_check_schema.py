"""The JSON Schema of homeport.yaml accepts what the loader accepts: shorthands and text forms."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from homeport.cli.schema import SHORTHANDS, PlatformSchema, platform_schema
from homeport.model import Platform

SCHEMA = platform_schema()


def test_every_shorthand_model_is_described() -> None:
    generator = PlatformSchema(by_alias=True)
    generator.generate(Platform.__pydantic_core_schema__)
    assert generator.shorthand_models == set(SHORTHANDS)


@pytest.mark.parametrize(
    ("service", "valid"),
    [
        ({"run": "x", "health": "/healthz", "restart": "always"}, True),
        ({"run": "x", "restart": False, "startup_timeout": "90s", "stop_grace": 2}, True),
        ({"run": "x", "wait_for": "db"}, True),
        ({"run": "x", "wait_for": ["db"], "health": {"http": "/h", "interval": "500ms"}}, True),
        ({"run": "x", "restart": "sometimes"}, False),
        ({"run": "x", "health": {"http": "/h", "intervall": 1}}, False),
        ({"run": "x", "startup_timeout": True}, False),
        ({"run": "x", "port": 70000}, False),
    ],
)
def test_service_shapes(service: dict[str, Any], valid: bool) -> None:
    data = {"name": "demo", "services": {"web": service}}
    assert jsonschema.Draft202012Validator(SCHEMA).is_valid(data) is valid


@pytest.mark.parametrize(
    ("registry", "valid"),
    [
        ({"url": "u", "disk_alert": "85%", "retention": {"groups": ["dev"], "grace": "24h"}}, True),
        ({"url": "u", "disk_alert": 85, "retention": {"groups": [{"name": "dev"}]}}, True),
        ({"url": "u", "retention": {"groups": [{"nam": "dev"}]}}, False),
    ],
)
def test_registry_shapes(registry: dict[str, Any], valid: bool) -> None:
    data = {"name": "demo", "registry": registry}
    assert jsonschema.Draft202012Validator(SCHEMA).is_valid(data) is valid
