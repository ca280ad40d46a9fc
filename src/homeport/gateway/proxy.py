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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import NamedTuple

from aiohttp import StreamReader, web
from multidict import CIMultiDict
from yarl import URL

from homeport.gateway.headers import Headers, client_response_headers
from homeport.gateway.routes import CompiledRoute
from homeport.gateway.upstream import UpstreamConnection, UpstreamError, UpstreamPool, request_head
from homeport.model.platform import GatewayLimits

log = logging.getLogger("homeport.gateway")

CHUNK = 64 * 1024
SMALL_BODY = 64 * 1024
FAILURES = {
    "refused": (502, "upstream unavailable"),
    "broken": (502, "upstream broke the connection"),
    "timeout": (504, "upstream timed out"),
}


def json_response(status: int, body: dict[str, object]) -> web.Response:
    """A small JSON answer made by the gateway itself."""
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


class BodyTooLarge(Exception):
    """The request body passed the limit while it streamed."""


@dataclass
class BodyMeter:
    """Counts a streamed request body against the limit."""

    limit: int
    seen: int = 0

    async def stream(self, source: StreamReader) -> AsyncIterator[bytes]:
        """Yield the body's chunks, raising BodyTooLarge once it passes the limit."""
        async for chunk in source.iter_chunked(CHUNK):
            self.seen += len(chunk)
            if self.seen > self.limit:
                raise BodyTooLarge
            yield chunk


class Outcome(NamedTuple):
    """How a forward ended, for metrics and the span."""

    status: int
    error: str | None = None


@dataclass(frozen=True)
class Upstream:
    """Where a route's requests go: host, port and a base path (usually empty)."""

    host: str
    port: int
    base_path: str

    @classmethod
    def from_url(cls, url: URL) -> Upstream:
        """From an http:// URL (the path, if any, prefixes every request)."""
        return cls(url.host or "127.0.0.1", url.port or 80, url.raw_path.rstrip("/"))

    @property
    def host_header(self) -> str:
        """A Host header for clients that sent none."""
        return f"{self.host}:{self.port}"


def too_large(limit: int) -> web.Response:
    """The 413 answer; the connection closes after it rather than drain an unwanted body."""
    response = json_response(413, {"error": "request body too large", "limit_bytes": limit})
    response.force_close()
    return response


def failure(kind: str, route: CompiledRoute) -> tuple[web.StreamResponse, Outcome]:
    """The JSON answer for an upstream failure: the route's name, never its address."""
    status, message = FAILURES[kind]
    return json_response(status, {"error": message, "route": route.name}), Outcome(status, kind)


class Proxy:
    """Sends requests to upstreams through the keep-alive pool."""

    def __init__(self, limits: GatewayLimits) -> None:
        self.limits = limits
        self.pool = UpstreamPool(limits.connect_timeout)

    async def start(self) -> None:
        """Nothing to open ahead: connections are made on first use."""

    async def close(self) -> None:
        """Close every pooled connection."""
        self.pool.close()

    async def forward(
        self,
        request: web.BaseRequest,
        route: CompiledRoute,
        upstream: Upstream,
        headers: Headers,
        extra_response_headers: dict[str, str],
    ) -> tuple[web.StreamResponse, Outcome]:
        """Send ``request`` to ``upstream`` and stream the answer back."""
        limit = self.limits.max_body
        length = request.content_length
        if length is not None and length > limit:
            return too_large(limit), Outcome(413, "body too large")
        has_body = request.body_exists
        if has_body and request.headers.get("Expect", "").lower() == "100-continue":
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        chunked = has_body and length is None
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        elif length is not None:
            headers.append(("Content-Length", str(length)))
        if "Host" not in request.headers:
            headers.append(("Host", upstream.host_header))
        raw_path = request.raw_path
        if not raw_path.startswith("/"):  # absolute-form: the upstream gets origin-form
            raw_path = request.rel_url.raw_path_qs if request.rel_url.raw_path else "/"
        target = upstream.base_path + route.upstream_path(raw_path)
        head = request_head(request.method, target, headers)
        deadline = asyncio.get_running_loop().time() + self.limits.total_timeout
        connection: UpstreamConnection | None = None
        try:
            connection = await self._exchange(
                request, upstream, head=head, has_body=has_body, chunked=chunked, deadline=deadline
            )
        except BodyTooLarge:
            return too_large(limit), Outcome(413, "body too large")
        except UpstreamError as error:
            return failure(error.kind, route)
        try:
            return await self._relay(request, connection, route, extra_response_headers, deadline)
        finally:
            self.pool.release(upstream.host, upstream.port, connection)

    async def _exchange(
        self,
        request: web.BaseRequest,
        upstream: Upstream,
        *,
        head: bytes,
        has_body: bool,
        chunked: bool,
        deadline: float,
    ) -> UpstreamConnection:
        connection = await self.pool.acquire(upstream.host, upstream.port)
        try:
            await self._send(
                connection,
                request,
                head=head,
                has_body=has_body,
                chunked=chunked,
                deadline=deadline,
            )
        except UpstreamError as error:
            connection.close()
            if not (connection.reused and not has_body and error.kind == "broken"):
                raise
            # a kept-alive connection the upstream had just closed: once more, on a fresh one
            connection = await self.pool.connect(upstream.host, upstream.port)
            try:
                await self._send(
                    connection,
                    request,
                    head=head,
                    has_body=has_body,
                    chunked=chunked,
                    deadline=deadline,
                )
            except BaseException:
                connection.close()
                raise
        except BaseException:
            connection.close()
            raise
        return connection

    async def _send(
        self,
        connection: UpstreamConnection,
        request: web.BaseRequest,
        *,
        head: bytes,
        has_body: bool,
        chunked: bool,
        deadline: float,
    ) -> None:
        connection.head_only = request.method == "HEAD"
        connection.write(head)
        if has_body:
            async for chunk in BodyMeter(self.limits.max_body).stream(request.content):
                if chunked:
                    connection.write(b"%x\r\n" % len(chunk))
                    connection.write(chunk)
                    connection.write(b"\r\n")
                else:
                    connection.write(chunk)
                await connection.drain(self.limits.read_timeout)
            if chunked:
                connection.write(b"0\r\n\r\n")
        await connection.response(self._wait(deadline))

    def _wait(self, deadline: float) -> float:
        remaining = deadline - asyncio.get_running_loop().time()
        return max(0.001, min(self.limits.read_timeout, remaining))

    async def _relay(
        self,
        request: web.BaseRequest,
        connection: UpstreamConnection,
        route: CompiledRoute,
        extra: dict[str, str],
        deadline: float,
    ) -> tuple[web.StreamResponse, Outcome]:
        received = CIMultiDict(connection.headers)
        headers = client_response_headers(received, connection.headers)
        headers += extra.items()
        status = connection.status
        if connection.complete and not connection.head_only and connection.buffered <= SMALL_BODY:
            body = connection.take_body()
            return web.Response(status=status, headers=headers, body=body), Outcome(status)
        response = web.StreamResponse(status=status)
        response.headers.extend(headers)
        length = received.get("Content-Length")
        if length is not None and length.isdigit():
            response.content_length = int(length)
        await response.prepare(request)
        try:
            async for chunk in connection.body(self._wait(deadline)):
                await response.write(chunk)
            await response.write_eof()
        except (UpstreamError, ConnectionError) as exc:
            log.warning("route %s: answer cut short (%s)", route.name, exc)
            connection.close()
            if request.transport is not None:
                request.transport.abort()
            return response, Outcome(status, "cut short")
        return response, Outcome(status)
