"""The shell every service runs in: a Starlette app with its connections, /healthz, the
``x-served-by`` header, and uvicorn listening where the environment says.

Telemetry comes from ``homeport.telemetry``: a server span per request, a client span per SQL
statement and Redis command, exported over OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import uvicorn
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from homeport import telemetry
from homeport.telemetry.asgi import ServerSpanMiddleware
from services.common.params import BadRequest
from services.common.settings import Settings
from services.common.tracing import TracedCursor, TracedRedis

log = logging.getLogger("jobboard")

# A background loop run beside the web server; it returns when ``stop`` is set.
Worker = Callable[[Starlette, asyncio.Event], Coroutine[Any, Any, None]]


class ServedBy:
    """ASGI middleware that names the answering service in an ``x-served-by`` header."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_named(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("x-served-by", self.service)
            await send(message)

        await self.app(scope, receive, send_named)


def create_app(
    settings: Settings,
    routes: Sequence[BaseRoute],
    *,
    database: bool = False,
    redis: bool = False,
    worker: Worker | None = None,
) -> Starlette:
    """An app with ``routes`` and /healthz; it opens the connections it is asked for.

    Missing connection strings stop the service before it listens, with a line naming them.
    """
    database_url = settings.require("DATABASE_URL", settings.database_url) if database else None
    redis_url = settings.require("REDIS_URL", settings.redis_url) if redis else None
    _log_to_stdout(settings)
    tracing = telemetry.configure(settings.service)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.callback(tracing.shutdown)  # runs last: flushes the spans of the shutdown too
            app.state.pool = app.state.redis = app.state.worker = None
            app.state.service = settings.service
            app.state.stream = settings.stream
            if database_url:
                pool = AsyncConnectionPool(
                    database_url,
                    min_size=1,
                    max_size=8,
                    open=False,
                    kwargs={"cursor_factory": TracedCursor},
                )
                await pool.open()
                stack.push_async_callback(pool.close)
                app.state.pool = pool
            if redis_url:
                client = TracedRedis.from_url(redis_url, decode_responses=True)
                stack.push_async_callback(client.aclose)
                app.state.redis = client
            if worker:
                stop = asyncio.Event()
                task = asyncio.create_task(worker(app, stop), name=f"{settings.service}-worker")
                stack.push_async_callback(_stop_worker, task, stop)
                app.state.worker = task
            yield

    return Starlette(
        routes=[Route("/healthz", healthz), *routes],
        middleware=[
            Middleware(ServerSpanMiddleware, tracer=tracing.tracer),
            Middleware(ServedBy, service=settings.service),
        ],
        exception_handlers={BadRequest: _bad_request},
        lifespan=lifespan,
    )


async def _stop_worker(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    stop.set()
    try:
        await asyncio.wait_for(task, timeout=10)
    except TimeoutError:
        log.warning("worker did not stop within 10s; cancelled")


async def _bad_request(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status if isinstance(exc, BadRequest) else 400
    return JSONResponse({"error": str(exc)}, status_code=status)


async def healthz(request: Request) -> JSONResponse:
    """200 when every connection the service holds answers, 503 naming the first that fails."""
    state = request.app.state
    try:
        if state.pool is not None:
            async with state.pool.connection(timeout=2) as conn:
                await conn.execute("SELECT 1")
        if state.redis is not None:
            await state.redis.ping()
    except Exception as exc:  # any failure of a dependency means "not healthy", with why
        return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
    if state.worker is not None and state.worker.done():
        return JSONResponse({"status": "unavailable", "error": "worker stopped"}, 503)
    return JSONResponse({"status": "ok"})


def pool_of(request: Request) -> AsyncConnectionPool:
    """The service's PostgreSQL pool."""
    pool: AsyncConnectionPool = request.app.state.pool
    return pool


def redis_of(request: Request) -> Redis:
    """The service's Redis client."""
    client: Redis = request.app.state.redis
    return client


def _log_to_stdout(settings: Settings) -> None:
    # Before telemetry adds its OTLP handler: basicConfig does nothing once the root has one.
    logging.basicConfig(level=logging.INFO, format=f"{settings.service} %(levelname)s %(message)s")


def serve(app: Starlette, settings: Settings) -> None:
    """Listen on HOST:PORT until SIGTERM or SIGINT, then shut down gracefully."""
    _log_to_stdout(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=10,
    )
