"""The dashboard's side of ``homeport up``'s control API: the typed client, used off the loop.

The supervisor may start after the dashboard (``up`` starts the dashboard first, so services
can be given its address) or restart while it runs; the client is therefore found lazily, through
``control.json`` in the state directory, unless one was attached.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from homeport.orchestrator.control_client import ControlClient
from homeport.orchestrator.errors import NotRunning
from homeport.orchestrator.state import read_control


class ControlLink:
    """Reaches the supervisor's control API, from an attached client or ``control.json``."""

    def __init__(self, state_dir: Path, client: ControlClient | None = None) -> None:
        self.state_dir = state_dir
        self._client = client

    def attach(self, client: ControlClient) -> None:
        """Use this client from now on (the supervisor knows its own address)."""
        self._client = client

    def client(self) -> ControlClient:
        """The current client; raise NotRunning when no supervisor is recorded."""
        info = read_control(self.state_dir)
        if self._client is not None and (info is None or info == self._client.info):
            return self._client
        if info is None:
            raise NotRunning(
                f"homeport up is not running for this platform (no control file in "
                f"{self.state_dir}); start it with 'homeport up'"
            )
        old, self._client = self._client, ControlClient(info, timeout=5.0)
        if old is not None:
            old.close()
        return self._client

    async def call(self, method: str, *args: Any) -> Any:
        """``ControlClient.<method>(*args)`` on a worker thread."""
        return await asyncio.to_thread(lambda: getattr(self.client(), method)(*args))

    async def follow(self, service: str | None) -> AsyncIterator[dict[str, Any]]:
        """Each new console line of ``service`` (or of all), until the supervisor goes away."""
        info = self.client().info
        params = {"tail": "0", "follow": "1", **({"service": service} if service else {})}
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5)
        headers = {"Authorization": f"Bearer {info.token}"}
        async with (
            aiohttp.ClientSession(timeout=timeout, headers=headers) as session,
            session.get(f"{info.url}/api/logs", params=params) as response,
        ):
            if response.status != 200:
                return
            async for raw in response.content:
                if raw.strip():
                    yield json.loads(raw)

    def close(self) -> None:
        """Close the client's connections."""
        if self._client is not None:
            self._client.close()
