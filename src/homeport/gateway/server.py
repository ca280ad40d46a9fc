"""Running the gateway: build it from the platform file, listen (``Server``: the socket, its
connections, the idle sweep), serve until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path

from homeport.gateway import http
from homeport.gateway.app import GatewayApp
from homeport.gateway.config import (
    ENDPOINTS_VARIABLE,
    compile_gateway,
    parse_endpoints,
    parse_upstream_options,
)
from homeport.gateway.errors import GatewayConfigError, GatewayError
from homeport.gateway.geo import GeoDatabase, resolve_database
from homeport.gateway.http import ClientConnection, Handler
from homeport.gateway.telemetry import Metrics, Tracing
from homeport.model import LoadedPlatform

STATE_DIR_VARIABLE = "HOMEPORT_STATE_DIR"  # set by `homeport up`


class Server:
    """The listening socket, its connections, and the sweep that closes idle ones."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections: set[ClientConnection] = set()
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.TimerHandle | None = None

    async def listen(self, host: str, port: int) -> int:
        """Start listening; the bound port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: ClientConnection(self.handler, self.connections),
            host,
            port,
            backlog=1024,
            reuse_address=True,
        )
        self._sweeper = loop.call_later(http.KEEP_ALIVE_SECONDS / 5, self._sweep)
        return int(self._server.sockets[0].getsockname()[1])

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        idle_since = loop.time() - http.KEEP_ALIVE_SECONDS
        for connection in list(self.connections):
            if not connection.busy and connection.last_active < idle_since:
                connection.shut()
        self._sweeper = loop.call_later(http.KEEP_ALIVE_SECONDS / 5, self._sweep)

    async def close(self, grace: float = 5.0) -> None:
        """Stop listening, let answers in progress finish for ``grace`` seconds, close the rest."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._server is not None:
            self._server.close()
        deadline = asyncio.get_running_loop().time() + grace
        for connection in list(self.connections):
            if not connection.busy:
                connection.shut()
        while any(c.busy for c in self.connections):
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.abort()


def build_gateway(
    loaded: LoadedPlatform, upstreams: list[str], environ: Mapping[str, str] = os.environ
) -> GatewayApp:
    """The gateway for ``loaded``: targets resolved through HOMEPORT_ENDPOINTS and --upstream."""
    gateway = loaded.platform.gateway
    if gateway is None:
        raise GatewayConfigError(
            f"{loaded.path} has no 'gateway:' section; add one with at least one route"
        )
    endpoints = parse_endpoints(environ.get(ENDPOINTS_VARIABLE))
    endpoints.update(parse_upstream_options(upstreams))
    config = compile_gateway(
        gateway,
        frozenset(loaded.platform.services),
        endpoints,
        Path(environ.get(STATE_DIR_VARIABLE) or loaded.state_dir),
        loaded.root,
        allow_pending=True,
    )
    geo = GeoDatabase(resolve_database(config.geo_database, config.geo_state_path))
    return GatewayApp(config, geo, Tracing.from_environment(), Metrics())


def install_event_loop() -> None:
    """Use uvloop when it is installed: it roughly doubles the proxy's throughput."""
    try:
        import uvloop  # noqa: PLC0415 (optional)
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def serve(
    app: GatewayApp, host: str, port: int, on_ready: Callable[[int], None] | None = None
) -> None:
    """Listen on host:port and answer until SIGTERM or SIGINT, then close cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = Server(app.handle)
    try:
        bound = await server.listen(host, port)
    except OSError as exc:
        await app.close()
        raise GatewayError(
            f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port"
        ) from exc
    gc.freeze()  # what was built to start is never garbage: collections need not scan it
    if on_ready is not None:
        on_ready(bound)
    try:
        await stop.wait()
    finally:
        await server.close()
        await app.close()


def configure_logging() -> None:
    """Warnings and errors on stderr, one line each."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")


def run(app: GatewayApp, host: str, port: int, on_ready: Callable[[int], None]) -> None:
    """Serve in a fresh event loop (uvloop when installed)."""
    configure_logging()
    install_event_loop()
    profile = os.environ.get("HOMEPORT_GATEWAY_PROFILE")
    if not profile:
        asyncio.run(serve(app, host, port, on_ready))
        return
    import cProfile  # noqa: PLC0415 (only when profiling)

    with cProfile.Profile() as profiler:
        try:
            asyncio.run(serve(app, host, port, on_ready))
        finally:
            profiler.dump_stats(profile)
