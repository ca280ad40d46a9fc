"""Fault injection, the per-token rate-limit budget, and the request log.

Faults fire deterministically: a fault matches on method and a path regex, lets ``after``
matching requests through, then fires on the next ``times`` matching ones (``None``: forever).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.emulators.cloudflare.api import ApiError, JsonDict

FAULT_KINDS = ("429", "500", "502", "503", "5xx", "batch_fail", "dashboard_edit_tunnel")
# key -> accepted JSON type ("int?" also accepts null)
FAULT_KEYS = {
    "method": "str",
    "path": "str",
    "after": "int",
    "times": "int?",
    "retry_after": "int",
    "status": "int",
    "record_name": "str",
    "tunnel_id": "str",
    "config": "object",
    "applied": "bool",
}


def _is_a(value: object, kind: str) -> bool:
    if kind == "int?":
        return value is None or _is_a(value, "int")
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, dict)


@dataclass
class Fault:
    """One injected fault; see the module docstring for how matching and counting work."""

    kind: str
    method: str | None = None
    path: str | None = None
    after: int = 0
    times: int | None = 1
    retry_after: int = 300
    status: int = 500
    record_name: str | None = None
    tunnel_id: str | None = None
    config: JsonDict | None = None
    applied: bool = False
    seen: int = 0
    fired: int = 0
    id: int = 0

    @classmethod
    def from_json(cls, data: JsonDict) -> Fault:
        """Build a fault from the control API's JSON, refusing unknown kinds and keys."""
        kind = str(data.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ApiError(400, 1004, f"fault kind must be one of {', '.join(FAULT_KINDS)}")
        unknown = set(data) - set(FAULT_KEYS) - {"kind"}
        if unknown:
            raise ApiError(400, 1004, f"unknown fault keys: {', '.join(sorted(unknown))}")
        for key, value in data.items():
            allowed = FAULT_KEYS.get(key)
            if allowed is not None and not _is_a(value, allowed):
                raise ApiError(400, 1004, f"fault key {key}: expected {allowed}, got {value!r}")
        fault = cls(**{key: value for key, value in data.items() if key != "kind"}, kind=kind)
        if kind.isdigit():
            fault.status = int(kind)
        if fault.path is not None:
            try:
                re.compile(fault.path)
            except re.error as error:
                raise ApiError(400, 1004, f"fault key path: not a regex ({error})") from None
        return fault

    @property
    def exhausted(self) -> bool:
        """Whether the fault has fired as many times as it was asked to."""
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is one this fault watches (before counting ``after``)."""
        if self.method and self.method.upper() != method:
            return False
        return not (self.path and not re.search(self.path, path))

    def to_json(self) -> JsonDict:
        """The fault as the control API lists it."""
        return {key: value for key, value in self.__dict__.items() if value is not None}


class FaultBook:
    """The active faults, consulted once per request under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, fault: Fault) -> Fault:
        """Register ``fault`` and give it an id."""
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def clear(self) -> None:
        """Forget every fault."""
        with self._lock:
            self._faults.clear()

    def list(self) -> list[JsonDict]:
        """Every fault still registered, with its counters."""
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def take(
        self,
        method: str,
        path: str,
        kinds: tuple[str, ...],
        applies: Callable[[Fault], bool] | None = None,
    ) -> Fault | None:
        """The first fault of one of ``kinds`` that fires on this request, counting it.

        ``applies`` narrows further (e.g. a ``batch_fail`` fault only sees writes that touch its
        record), so that ``after`` counts only the requests the fault could have fired on.
        """
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or fault.exhausted or not fault.matches(method, path):
                    continue
                if applies is not None and not applies(fault):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                fault.fired += 1
                return fault
            return None


@dataclass
class RateLimiter:
    """Cloudflare's global budget: ``limit`` requests per ``window`` seconds per token; past it,
    every request is refused until the window that started the block has passed."""

    limit: int = 1200
    window: float = 300.0
    offset: float = 0.0
    _hits: dict[str, list[float]] = field(default_factory=dict)
    _blocked_until: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        """The limiter's clock: monotonic time plus whatever the control API advanced it by."""
        return time.monotonic() + self.offset

    def reset(self) -> None:
        """Forget every token's hits and blocks."""
        with self._lock:
            self._hits.clear()
            self._blocked_until.clear()

    def advance(self, seconds: float) -> None:
        """Move the limiter's clock forward, so tests need not wait out a block."""
        with self._lock:
            self.offset += seconds

    def hit(self, token: str) -> tuple[int, int]:
        """Count one request; return (remaining, seconds until reset), or raise a 429."""
        with self._lock:
            now = self.now()
            blocked = self._blocked_until.get(token, 0.0)
            if now < blocked:
                raise rate_limited(math.ceil(blocked - now), self.limit, self.window)
            hits = [t for t in self._hits.get(token, []) if t > now - self.window]
            if len(hits) >= self.limit:
                self._blocked_until[token] = now + self.window
                self._hits[token] = []
                raise rate_limited(int(self.window), self.limit, self.window)
            hits.append(now)
            self._hits[token] = hits
            reset = math.ceil(hits[0] + self.window - now)
            return self.limit - len(hits), reset

    def headers(self, remaining: int, reset: int) -> dict[str, str]:
        """The ``Ratelimit`` and ``Ratelimit-Policy`` headers the API sends on every answer."""
        return {
            "Ratelimit": f'"default";r={remaining};t={reset}',
            "Ratelimit-Policy": f'"burst";q={self.limit};w={int(self.window)}',
        }


def rate_limited(retry_after: int, limit: int, window: float) -> ApiError:
    """The 429 Cloudflare answers when a token is over its budget (or a fault says so)."""
    return ApiError(
        429,
        971,
        "Please wait and consider throttling your request speed",
        headers={
            "Retry-After": str(retry_after),
            "Ratelimit": f'"default";r=0;t={retry_after}',
            "Ratelimit-Policy": f'"burst";q={limit};w={int(window)}',
        },
    )


class RequestLog:
    """Every API request the emulator answered, for tests that count calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JsonDict] = []

    def add(self, entry: JsonDict) -> None:
        """Append one request's method, path, query, status (and body for writes)."""
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[JsonDict]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._entries)

    def reset(self) -> None:
        """Empty the log."""
        with self._lock:
            self._entries.clear()
