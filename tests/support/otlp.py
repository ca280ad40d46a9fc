"""A real OTLP receiver (homeport's dashboard receiver) on a free loopback port, for tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from homeport.dashboard.receiver import receiver_app
from homeport.dashboard.store import TelemetryStore


@pytest.fixture
def otlp_receiver(tmp_path: Path) -> Iterator[tuple[str, TelemetryStore]]:
    store = TelemetryStore(tmp_path / "telemetry.db")
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(receiver_app(store))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", store
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()
    store.close()
