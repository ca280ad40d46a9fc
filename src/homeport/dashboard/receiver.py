"""The OTLP/HTTP receiver: ``POST /v1/traces``, ``/v1/logs``, ``/v1/metrics``.

Protobuf (``application/x-protobuf``) and JSON (``application/json``) bodies, answered in the
same encoding as the OTLP specification asks. Writes go to the store on one worker thread so the
event loop never blocks on SQLite; the store is pruned every ``prune_every`` seconds, and sooner
when a tenth of a limit arrived since the last prune, so it never passes a limit by more than that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from homeport.dashboard.otlp import (
    OtlpDecodeError,
    decode_logs,
    decode_metrics,
    decode_traces,
)
from homeport.dashboard.store import TelemetryStore

STORE_KEY = web.AppKey("telemetry_store", TelemetryStore)
_DECODERS: dict[str, tuple[Callable[[bytes, str], list[Any]], str]] = {
    "traces": (decode_traces, "add_spans"),
    "logs": (decode_logs, "add_logs"),
    "metrics": (decode_metrics, "add_metrics"),
}


class Receiver:
    """Decodes OTLP requests and stores their content, pruning now and then."""

    def __init__(self, store: TelemetryStore, prune_every: float = 5.0) -> None:
        self.store = store
        self.prune_every = prune_every
        self._last_prune = 0.0
        self._since_prune = 0
        limits = store.limits
        self._prune_after = max(1, min(limits.max_spans, limits.max_logs) // 10)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="otlp-store")
        self.received = {"traces": 0, "logs": 0, "metrics": 0}

    def ingest(self, signal: str, body: bytes, content_type: str) -> int:
        """Decode and store one request (blocking); returns how many items it held."""
        decode, method = _DECODERS[signal]
        rows = decode(body, content_type)
        now = time.monotonic()
        # Prune before a batch that would carry the store past a tenth over its limit, so the
        # bound holds whatever the batch size; and at least every ``prune_every`` seconds.
        due = now - self._last_prune >= self.prune_every
        if due or self._since_prune + len(rows) > self._prune_after:
            self._last_prune, self._since_prune = now, 0
            self.store.prune()
        count: int = getattr(self.store, method)(rows)
        self.received[signal] += count
        self._since_prune += count
        return count

    async def handle(self, request: web.Request) -> web.Response:
        signal = request.match_info["signal"]
        if signal not in _DECODERS:
            raise web.HTTPNotFound()
        content_type = request.headers.get("Content-Type", "application/x-protobuf")
        body = await request.read()
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._writer, self.ingest, signal, body, content_type)
        except OtlpDecodeError as exc:
            return web.json_response({"code": 3, "message": str(exc)}, status=400)
        if "json" in content_type:
            return web.json_response({})
        return web.Response(body=b"", content_type="application/x-protobuf")

    def close(self) -> None:
        """Finish pending writes."""
        self._writer.shutdown(wait=True)

    def routes(self) -> list[web.RouteDef]:
        """The receiver's routes, to add to an aiohttp application."""
        return [web.post("/v1/{signal}", self.handle)]


def receiver_app(store: TelemetryStore) -> web.Application:
    """A standalone aiohttp application that only receives OTLP."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    receiver = Receiver(store)
    app[STORE_KEY] = store
    app.add_routes(receiver.routes())

    async def _close(_: web.Application) -> None:
        receiver.close()

    app.on_cleanup.append(_close)
    return app
