"""Rate limits without real sleeps in tests: the clock seam, the budget, the headers.

Cloudflare allows 1,200 requests per five minutes per token (shared with the dashboard and other
tools) and blocks for five minutes past that; it says so with ``Retry-After`` on a 429 and with
``Ratelimit: "default";r=<remaining>;t=<seconds to reset>`` on every answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx

MAX_WAIT = 300.0
_RATELIMIT = re.compile(r"r=(\d+).*?t=(\d+)")


class Clock(Protocol):
    """Time as the API client sees it; tests pass a fake one."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""


class SystemClock:
    """The real clock."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        time.sleep(seconds)


WaitListener = Callable[[float, str], None]
"""Called before each wait with the seconds to wait and why (the CLI shows it as progress)."""


@dataclass
class Budget:
    """What the last ``Ratelimit`` header said (requests left, seconds to reset), and our counts."""

    remaining: int | None = None
    reset: int | None = None
    requests: int = 0
    waited: float = 0.0
    calls: list[str] = field(default_factory=list)


def read_ratelimit(response: httpx.Response) -> tuple[int, int] | None:
    """(remaining, seconds to reset) from the ``Ratelimit`` header, if it is there."""
    match = _RATELIMIT.search(response.headers.get("ratelimit", ""))
    return (int(match[1]), int(match[2])) if match else None


def retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return 60.0
