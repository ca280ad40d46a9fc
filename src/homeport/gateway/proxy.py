"""Forwarding one request upstream and its answer back, bodies streamed both ways.

One ``aiohttp.ClientSession`` holds a keep-alive pool per upstream. A request body with a
Content-Length over the limit is refused before a byte is read; a chunked one is counted while it
streams and cut off at the limit. Upstream failures become JSON answers that name the route and
never the upstream's address: 502 when it refuses or breaks, 504 when it is too slow.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from homeport.gateway.headers import client_response_headers
from homeport.gateway.routes import CompiledRoute
from homeport.model.platform import GatewayLimits

log = logging.getLogger("homeport.gateway")

CHUNK = 64 * 1024
SMALL_BODY = 64 * 1024
SKIP_AUTO = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


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
    exceeded: bool = False

    async def stream(self, source: aiohttp.StreamReader) -> AsyncIterator[bytes]:
        """Yield the body's chunks, raising BodyTooLarge once it passes the limit."""
        async for chunk in source.iter_chunked(CHUNK):
            self.seen += len(chunk)
            if self.seen > self.limit:
                self.exceeded = True
                raise BodyTooLarge
            yield chunk


@dataclass(frozen=True)
class Outcome:
    """How a forward ended, for metrics and the span."""

    status: int
    error: str | None = None


def too_large(limit: int) -> web.Response:
    """The 413 answer; the connection closes after it rather than drain an unwanted body."""
    response = json_response(413, {"error": "request body too large", "limit_bytes": limit})
    response.force_close()
    return response


class Proxy:
    """Sends requests to upstreams through one pooled client session."""

    def __init__(self, limits: GatewayLimits) -> None:
        self.limits = limits
        self.timeout = aiohttp.ClientTimeout(
            total=limits.total_timeout,
            sock_connect=limits.connect_timeout,
            sock_read=limits.read_timeout,
        )
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the connection pool (inside the running event loop)."""
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
        )

    async def close(self) -> None:
        """Close every pooled connection."""
        if self._session is not None:
            await self._session.close()

    async def forward(
        self,
        request: web.BaseRequest,
        route: CompiledRoute,
        base: str,
        headers: CIMultiDict[str],
        extra_response_headers: dict[str, str],
    ) -> tuple[web.StreamResponse, Outcome]:
        """Send ``request`` to ``base`` + its path and stream the answer back."""
        if self._session is None:
            raise RuntimeError("Proxy.start() was not awaited")
        limit = self.limits.max_body
        length = request.content_length
        if length is not None and length > limit:
            return too_large(limit), Outcome(413, "body too large")
        if request.headers.get("Expect", "").lower() == "100-continue" and request.version >= (
            1,
            1,
        ):
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        meter = BodyMeter(limit)
        body = meter.stream(request.content) if request.body_exists else None
        if length is not None:
            headers["Content-Length"] = str(length)
        url = URL(base + route.upstream_path(request.raw_path), encoded=True)
        try:
            upstream = await self._session.request(
                request.method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=self.timeout,
                skip_auto_headers=SKIP_AUTO,
                compress=None,
            )
        except BodyTooLarge:
            return too_large(limit), Outcome(413, "body too large")
        except TimeoutError:
            return self._failure(504, route, "upstream timed out", "timeout")
        except aiohttp.ClientConnectorError:
            return self._failure(502, route, "upstream unavailable", "refused")
        except (aiohttp.ClientError, OSError):
            if meter.exceeded:
                return too_large(limit), Outcome(413, "body too large")
            return self._failure(502, route, "upstream broke the connection", "broken")
        async with upstream:
            return await self._relay(request, upstream, route, extra_response_headers)

    async def _relay(
        self,
        request: web.BaseRequest,
        upstream: aiohttp.ClientResponse,
        route: CompiledRoute,
        extra: dict[str, str],
    ) -> tuple[web.StreamResponse, Outcome]:
        headers = client_response_headers(upstream.headers, upstream.headers.items())
        for name, value in extra.items():
            if name == "Vary":
                headers.add(name, value)
            else:
                headers[name] = value
        length = upstream.content_length
        try:
            if length is not None and length <= SMALL_BODY:
                body = await upstream.read()
                small = web.Response(
                    status=upstream.status, reason=upstream.reason, headers=headers, body=body
                )
                return small, Outcome(upstream.status)
        except TimeoutError:
            return self._failure(504, route, "upstream timed out", "timeout")
        except (aiohttp.ClientError, OSError):
            return self._failure(502, route, "upstream broke the connection", "broken")
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        response.headers.extend(headers)
        if length is not None:
            response.content_length = length
        await response.prepare(request)
        try:
            async for chunk in upstream.content.iter_chunked(CHUNK):
                await response.write(chunk)
            await response.write_eof()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("route %s: upstream answer cut short (%s)", route.name, type(exc).__name__)
            if request.transport is not None:
                request.transport.abort()
            return response, Outcome(upstream.status, "cut short")
        return response, Outcome(upstream.status)

    @staticmethod
    def _failure(
        status: int, route: CompiledRoute, message: str, kind: str
    ) -> tuple[web.StreamResponse, Outcome]:
        return json_response(status, {"error": message, "route": route.name}), Outcome(status, kind)
