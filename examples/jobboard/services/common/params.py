"""Reading a request's query and body the same way in every endpoint."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class BadRequest(Exception):
    """The client sent something the endpoint cannot use; becomes a 4xx JSON error."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def limit_of(request: Request) -> int:
    """``?limit=N`` between 1 and MAX_LIMIT (DEFAULT_LIMIT when absent)."""
    raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object."""
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    """A string field, stripped; required ones may not be empty."""
    value = body.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadRequest(f"{name} must be a non-empty string", 422)
    return value.strip()


def int_field(body: dict[str, Any], name: str) -> int:
    """A whole-number field."""
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest(f"{name} must be a whole number", 422)
    return value
