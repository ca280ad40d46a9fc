"""Routes to services that were not running when the gateway started.

``homeport up`` may start a service after the gateway (the example's landing page waits for the
gateway). Such routes answer 502 until the service's address appears in the state directory's
``endpoints.json``, which is looked at no more than once a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from yarl import URL

from homeport.gateway.config import read_endpoints_file, upstream_url
from homeport.gateway.errors import GatewayConfigError

RECHECK_SECONDS = 1.0


class PendingUpstreams:
    """Finds the addresses of services that were not running yet, by re-reading endpoints.json."""

    def __init__(self, endpoints_file: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.endpoints_file = endpoints_file
        self._clock = clock
        self._checked = float("-inf")

    def resolve(self, service: str) -> URL | None:
        """The service's URL if ``homeport up`` has published it, else None."""
        now = self._clock()
        if now - self._checked < RECHECK_SECONDS:
            return None
        self._checked = now
        known = read_endpoints_file(self.endpoints_file)
        if service not in known:
            return None
        try:
            return upstream_url(service, known)
        except GatewayConfigError:
            return None
