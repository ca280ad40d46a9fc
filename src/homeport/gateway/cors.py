"""CORS across zones: allowlisted origins, matched in full, never a reflected ``*``.

An allowed origin is written exactly (``https://jobs.elkhair.tech``) or with a wildcard on a
label boundary (``https://*.elkhair.tech`` allows ``https://a.elkhair.tech`` and
``https://a.b.elkhair.tech``, never ``https://elkhair.tech.evil.com`` nor ``https://evilelkhair.tech``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from homeport.gateway.errors import GatewayConfigError
from homeport.model.platform import Cors

LABELS = r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
ORIGIN_FORM = re.compile(r"^(https?)://(\*\.)?([a-z0-9.-]+)(:\d{1,5})?$")
ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


def origin_pattern(origin: str) -> str:
    """The full-match regular expression (case-insensitive) for one allowlisted origin."""
    written = origin.strip().lower().rstrip("/")
    form = ORIGIN_FORM.match(written)
    if form is None:
        raise GatewayConfigError(
            f"CORS origin '{origin}' is not of the form scheme://host[:port] or "
            "scheme://*.domain[:port]; fix it in gateway.cors"
        )
    scheme, wildcard, host, port = form.groups()
    head = re.escape(f"{scheme}://") + (LABELS if wildcard else "")
    return "^" + head + re.escape(host) + re.escape(port or "") + "$"


@dataclass(frozen=True)
class CorsPolicy:
    """Decides the CORS headers of each answer."""

    pattern: re.Pattern[str] | None
    credentials: bool
    max_age: int

    @classmethod
    def compile(cls, cors: Cors) -> CorsPolicy:
        """Compile the platform file's CORS section once."""
        patterns = [origin_pattern(origin) for origin in cors.origins]
        joined = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        return cls(joined, cors.credentials, cors.max_age)

    def allows(self, origin: str | None) -> bool:
        """True when ``origin`` is allowlisted (the whole origin, not a prefix or suffix)."""
        if not origin or self.pattern is None or len(origin) > 255:
            return False
        return self.pattern.fullmatch(origin.lower()) is not None

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """Headers to add to a normal answer: the echoed origin and Vary, or just Vary."""
        if origin is None or not self.allows(origin):
            return {"Vary": "Origin"}
        headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if self.credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def preflight_headers(self, origin: str, request_headers: Mapping[str, str]) -> dict[str, str]:
        """Headers of the 204 answering an allowed preflight."""
        headers = self.response_headers(origin)
        headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        asked = request_headers.get("access-control-request-headers")
        if asked:
            headers["Access-Control-Allow-Headers"] = asked
        headers["Access-Control-Max-Age"] = str(self.max_age)
        return headers


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """An OPTIONS request carrying Origin and Access-Control-Request-Method."""
    return (
        method == "OPTIONS"
        and bool(headers.get("origin"))
        and bool(headers.get("access-control-request-method"))
    )
