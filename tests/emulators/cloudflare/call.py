"""One API request as the route handlers see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.emulators.cloudflare.api import ApiError, JsonDict, Reply
from tests.emulators.cloudflare.faults import FaultBook
from tests.emulators.cloudflare.state import EmulatorState


@dataclass
class Call:
    """The parsed request: path parameters, query, JSON body, and the emulator it reached.

    ``visible_zones`` holds the zone names a zone-scoped token may see (``None``: all).
    """

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    state: EmulatorState
    faults: FaultBook
    visible_zones: frozenset[str] | None = None

    @property
    def zone(self) -> JsonDict:
        """The zone named by ``{zone_id}`` (the router has already checked it exists)."""
        return self.state.zones[self.params["zone_id"]]

    def json_object(self) -> JsonDict:
        """The body, which must be a JSON object."""
        if not isinstance(self.body, dict):
            raise ApiError(400, 10026, "Request body must be a JSON object")
        return self.body


Handler = Callable[[Call], JsonDict | Reply]
