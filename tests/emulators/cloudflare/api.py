"""The Cloudflare API v4 response envelope, its errors, and page slicing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass
class ApiError(Exception):
    """An error the emulated API answers with: HTTP status plus Cloudflare's ``errors`` entries."""

    status: int
    code: int
    message: str
    chain: list[JsonDict] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One line: the message and the reasons chained under it."""
        return ": ".join([self.message, *(str(link["message"]) for link in self.chain)])

    def body(self) -> JsonDict:
        """The failure envelope exactly as Cloudflare shapes it."""
        error: JsonDict = {"code": self.code, "message": self.message}
        if self.chain:
            error["error_chain"] = self.chain
        return {"success": False, "errors": [error], "messages": [], "result": None}


@dataclass
class Reply:
    """Status, JSON payload and extra headers of one answer."""

    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)


def validation_error(code: int, message: str) -> ApiError:
    """DNS validation failures: 1004 with the precise reason in ``error_chain``."""
    return ApiError(400, 1004, "DNS Validation Error", [{"code": code, "message": message}])


def bad_request(message: str, code: int = 1004) -> ApiError:
    """A 400 for a request body or parameter the API refuses."""
    return ApiError(400, code, message)


def not_found(code: int, message: str) -> ApiError:
    """A 404 with the resource-specific code the live API uses."""
    return ApiError(404, code, message)


def success(result: Any, result_info: JsonDict | None = None) -> JsonDict:
    """The success envelope; ``result_info`` only on list endpoints."""
    body: JsonDict = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high], or a 400 naming it."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise bad_request(f"{name}: must be a number", 1001) from None
    if not low <= value <= high:
        raise bad_request(f"{name}: must be between {low} and {high}", 1001)
    return value


def paginate(
    items: list[JsonDict], query: dict[str, str], default: int, low: int, high: int
) -> JsonDict:
    """One page of ``items`` as a success envelope; past the last page ``result`` is empty."""
    page = int_param(query, "page", 1, 1, 10**9)
    per_page = int_param(query, "per_page", default, low, high)
    chunk = items[(page - 1) * per_page : page * per_page]
    total_pages = (len(items) + per_page - 1) // per_page
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(items),
        "total_pages": total_pages,
    }
    return success(chunk, info)
