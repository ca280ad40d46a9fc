"""Live updates for the browser over server-sent events.

One broadcaster polls what changes (resource states through the control API, the receiver's
counters) and tells every open stream; console lines are followed per stream, for the resource
that page shows. The browser re-fetches the part of the page that an event concerns.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from homeport.dashboard.control import ControlLink
from homeport.errors import HomeportError

Event = tuple[str, str]
KEEPALIVE = 15.0
QUEUE_LIMIT = 1000


class Broadcaster:
    """Polls for changes and fans events out to every subscribed stream."""

    def __init__(
        self, link: ControlLink, received: Callable[[], int], interval: float = 0.5
    ) -> None:
        self.link = link
        self.received = received
        self.interval = interval
        self.subscribers: set[asyncio.Queue[Event]] = set()
        self._task: asyncio.Task[None] | None = None
        self.resources: list[dict[str, Any]] | None = None

    def start(self) -> None:
        """Begin polling (on the running loop)."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def publish(self, event: str, data: Any) -> None:
        """Queue an event for every subscriber (a subscriber that lags loses the extra)."""
        text = json.dumps(data)
        for queue in self.subscribers:
            if queue.qsize() < QUEUE_LIMIT:
                queue.put_nowait((event, text))

    async def _run(self) -> None:
        last_resources = ""
        last_count = -1
        while True:
            if self.subscribers:
                try:
                    rows = await self.link.call("resources")
                except HomeportError as exc:
                    rows = [{"error": str(exc)}]
                text = json.dumps(rows, sort_keys=True)
                if text != last_resources:
                    last_resources, self.resources = text, rows
                    self.publish("resources", {"count": len(rows)})
                count = self.received()
                if count != last_count:
                    last_count = count
                    self.publish("telemetry", {"received": count})
            await asyncio.sleep(self.interval)


async def stream(request: web.Request, hub: Broadcaster, console: str | None) -> web.StreamResponse:
    """An event stream: ``resources`` and ``telemetry`` changes, and ``log`` lines of
    ``console`` (``""`` for every resource; None for none)."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    queue: asyncio.Queue[Event] = asyncio.Queue()
    hub.subscribers.add(queue)
    follower = None
    if console is not None:
        follower = asyncio.create_task(_follow(hub.link, console or None, queue))
    try:
        await response.write(b"retry: 2000\n\n")
        while True:
            try:
                event, data = await asyncio.wait_for(queue.get(), KEEPALIVE)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            await response.write(f"event: {event}\ndata: {data}\n\n".encode())
    except (ConnectionResetError, RuntimeError):
        pass  # the browser went away
    finally:
        hub.subscribers.discard(queue)
        if follower is not None:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
    return response


async def _follow(link: ControlLink, service: str | None, queue: asyncio.Queue[Event]) -> None:
    """Put each new console line on the queue; reconnect when the supervisor comes back."""
    while True:
        with contextlib.suppress(HomeportError, aiohttp.ClientError, OSError, ValueError):
            async for line in link.follow(service):
                if queue.qsize() < QUEUE_LIMIT:
                    queue.put_nowait(("log", json.dumps(line)))
        await asyncio.sleep(1.0)
