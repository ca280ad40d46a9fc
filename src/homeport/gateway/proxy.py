"""Forwarding one request upstream and its answer back, bodies streamed both ways.

The upstream pool (``upstream.py``) keeps keep-alive connections per upstream. A request body with
a Content-Length over the limit is refused before a byte is read; a chunked one is counted while
it streams and cut off at the limit. Upstream failures become JSON answers that name the route and
never the upstream's address: 502 when it refuses or breaks, 504 when it is too slow.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import NamedTuple

from yarl import URL

from homeport.gateway.headers import client_response_headers
from homeport.gateway.http import JSON, ClientConnection
from homeport.gateway.request import Request
from homeport.gateway.routes import CompiledRoute
from homeport.gateway.upstream import UpstreamConnection, UpstreamError, UpstreamPool, request_head
from homeport.model.platform import GatewayLimits

log = logging.getLogger("homeport.gateway")

SMALL_BODY = 64 * 1024
FAILURES = {
    "refused": (502, "upstream unavailable"),
    "broken": (502, "upstream broke the connection"),
    "timeout": (504, "upstream timed out"),
}


def json_body(body: dict[str, object]) -> bytes:
    """A small JSON answer's body."""
    return json.dumps(body).encode()


class BodyTooLarge(Exception):
    """The request body passed the limit while it streamed."""


class Outcome(NamedTuple):
    """How a forward ended, for metrics and the span."""

    status: int
    error: str | None = None


@dataclass(frozen=True)
class Upstream:
    """Where a route's requests go: host, port and a base path (usually empty)."""

    host: str
    port: int
    base_path: bytes

    @classmethod
    def from_url(cls, url: URL) -> Upstream:
        """From an http:// URL (the path, if any, prefixes every request)."""
        base = url.raw_path.rstrip("/").encode("latin-1")
        return cls(url.host or "127.0.0.1", url.port or 80, base)

    @property
    def host_line(self) -> bytes:
        """A Host header line for clients that sent none."""
        return f"Host: {self.host}:{self.port}\r\n".encode("latin-1")


def too_large(client: ClientConnection, request: Request, limit: int, cors: list[bytes]) -> Outcome:
    """The 413 answer; the connection closes after it rather than read an unwanted body."""
    body = json_body({"error": "request body too large", "limit_bytes": limit})
    client.respond(request, 413, [JSON, *cors], body, close=True)
    return Outcome(413, "body too large")


def failure(
    client: ClientConnection, request: Request, kind: str, route: CompiledRoute, cors: list[bytes]
) -> Outcome:
    """The JSON answer for an upstream failure: the route's name, never its address."""
    status, message = FAILURES[kind]
    body = json_body({"error": message, "route": route.name})
    client.respond(request, status, [JSON, *cors], body)
    return Outcome(status, kind)


class Proxy:
    """Sends requests to upstreams through the keep-alive pool."""

    def __init__(self, limits: GatewayLimits) -> None:
        self.limits = limits
        self.pool = UpstreamPool(limits.connect_timeout)

    async def close(self) -> None:
        """Close every pooled connection."""
        self.pool.close()

    async def forward(
        self,
        client: ClientConnection,
        request: Request,
        route: CompiledRoute,
        upstream: Upstream,
        *,
        target: bytes,
        headers: list[bytes],
        cors: list[bytes],
    ) -> Outcome:
        """Send ``request`` to ``upstream`` and stream the answer back to ``client``."""
        limit = self.limits.max_body
        length = request.length
        if length is not None and length > limit:
            return too_large(client, request, limit, cors)
        has_body = request.has_body
        if has_body:
            if length is None:
                headers.append(b"Transfer-Encoding: chunked\r\n")
            else:
                headers.append(b"Content-Length: %d\r\n" % length)
        if b"host" not in request.headers:
            headers.append(upstream.host_line)
        head = request_head(
            request.method, upstream.base_path + route.upstream_path(target), headers
        )
        deadline = asyncio.get_running_loop().time() + self.limits.total_timeout
        try:
            connection = await self._exchange(request, upstream, head, deadline)
        except BodyTooLarge:
            return too_large(client, request, limit, cors)
        except UpstreamError as error:
            return failure(client, request, error.kind, route, cors)
        try:
            lines = client_response_headers(connection.headers, connection.connection_header)
            lines += cors
            if connection.head_only or (connection.complete and connection.buffered <= SMALL_BODY):
                return self._whole(client, request, connection, lines)
            return await self._stream(
                client, request, connection, lines, route=route, deadline=deadline
            )
        finally:
            self.pool.release(upstream.host, upstream.port, connection)

    async def _exchange(
        self, request: Request, upstream: Upstream, head: bytes, deadline: float
    ) -> UpstreamConnection:
        connection = self.pool.take_idle(upstream.host, upstream.port)
        if connection is None:
            connection = await self.pool.connect(upstream.host, upstream.port)
        try:
            if request.has_body:
                await self._send(connection, request, head, deadline)
            else:  # the common case, without a coroutine of its own
                connection.head_only = request.method == "HEAD"
                connection.write(head)
                await connection.response(self._wait(deadline))
        except UpstreamError as error:
            connection.close()
            if not (connection.reused and not request.has_body and error.kind == "broken"):
                raise
            # a kept-alive connection the upstream had just closed: once more, on a fresh one
            connection = await self.pool.connect(upstream.host, upstream.port)
            try:
                await self._send(connection, request, head, deadline)
            except BaseException:
                connection.close()
                raise
        except BaseException:
            connection.close()
            raise
        return connection

    async def _send(
        self, connection: UpstreamConnection, request: Request, head: bytes, deadline: float
    ) -> None:
        connection.head_only = request.method == "HEAD"
        connection.write(head)
        if request.has_body:
            chunked = request.length is None
            limit = self.limits.max_body
            seen = 0
            body = request.body
            while (chunk := await body.read()) is not None:
                seen += len(chunk)
                if seen > limit:
                    raise BodyTooLarge
                connection.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                await connection.drain(self.limits.read_timeout)
            if chunked:
                connection.write(b"0\r\n\r\n")
        await connection.response(self._wait(deadline))

    def _wait(self, deadline: float) -> float:
        remaining = deadline - asyncio.get_running_loop().time()
        return max(0.001, min(self.limits.read_timeout, remaining))

    @staticmethod
    def _whole(
        client: ClientConnection,
        request: Request,
        connection: UpstreamConnection,
        lines: list[bytes],
    ) -> Outcome:
        """The answer in one write: a HEAD's, or a small body already complete."""
        status = connection.status
        if connection.head_only:
            if connection.length is not None:
                lines.append(b"Content-Length: %b\r\n" % connection.length)
            client.start(request, status, lines, None)
        else:
            client.respond(request, status, lines, connection.take_body(), own=False)
        return Outcome(status)

    async def _stream(
        self,
        client: ClientConnection,
        request: Request,
        connection: UpstreamConnection,
        lines: list[bytes],
        *,
        route: CompiledRoute,
        deadline: float,
    ) -> Outcome:
        """The answer's body streamed as it arrives, at the pace the client reads."""
        status = connection.status
        length = connection.length
        client.start(request, status, lines, int(length) if length and length.isdigit() else None)
        try:
            async for chunk in connection.body(self._wait(deadline)):
                await client.write(chunk)
            client.end()
        except (UpstreamError, ConnectionError) as exc:
            log.warning("route %s: answer cut short (%s)", route.name, exc)
            connection.close()
            client.abort()
            return Outcome(status, "cut short")
        return Outcome(status)
