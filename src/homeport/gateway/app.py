"""The gateway's request handler: its own endpoints, CORS, routing, then the proxy.

The gateway answers ``/healthz``, ``/metrics`` and ``/api/public/geo`` itself; CORS preflights
from allowlisted origins get 204 (403 for others); everything else goes to the first matching
route, or 404 with a JSON body when none matches.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from homeport.gateway.config import GatewayConfig
from homeport.gateway.cors import is_preflight
from homeport.gateway.geo import GeoDatabase
from homeport.gateway.headers import Forwarding, upstream_request_headers
from homeport.gateway.http import JSON, ClientConnection
from homeport.gateway.pending import PendingUpstreams
from homeport.gateway.proxy import Outcome, Proxy, Upstream, failure, json_body
from homeport.gateway.request import Request
from homeport.gateway.routes import CompiledRoute, normalize_path
from homeport.gateway.telemetry import Metrics, Tracing

GEO_PATH = "/api/public/geo"
NO_ROUTE = "(none)"
VARY = b"Vary: Origin\r\n"
HTTP = b"http"

OwnHandler = Callable[[Request, ClientConnection, list[bytes]], Awaitable[None]]


def header_lines(headers: Mapping[str, str]) -> list[bytes]:
    """``Name: value`` lines for headers the gateway makes itself."""
    return [f"{k}: {v}\r\n".encode("utf-8", "surrogateescape") for k, v in headers.items()]


class GatewayApp:
    """Routes each request; owns the proxy, the geo database, tracing and metrics."""

    def __init__(
        self,
        config: GatewayConfig,
        geo: GeoDatabase | None,
        tracing: Tracing | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.geo = geo
        self.tracing = tracing or Tracing(None)
        self.metrics = metrics or Metrics()
        self.proxy = Proxy(config.limits)
        self._upstreams = {
            target: Upstream.from_url(url) if url is not None else None
            for target, url in config.upstreams.items()
        }
        self._pending = PendingUpstreams(config.endpoints_file)
        self._own: dict[str, OwnHandler] = {
            "/healthz": self._health,
            "/metrics": self._metrics,
            GEO_PATH: self._geo,
        }

    async def close(self) -> None:
        """Close the pool and flush telemetry."""
        await self.proxy.close()
        self.tracing.shutdown()
        if self.geo is not None:
            self.geo.close()

    def _cors(self, request: Request) -> list[bytes]:
        origin = request.headers.get(b"origin")
        if origin is None:
            return [VARY]
        return header_lines(self.config.cors.response_headers(origin.decode("latin-1")))

    async def handle(self, request: Request, client: ClientConnection) -> None:
        """Answer one request."""
        started = time.perf_counter()
        try:
            path, target = request.split_target()
        except ValueError:
            client.respond(request, 400, [JSON], json_body({"error": "malformed request target"}))
            return
        path = normalize_path(path)
        own = self._own.get(path)
        if own is not None:
            await own(request, client, self._cors(request))
            return
        headers = request.text
        if request.method == "OPTIONS" and is_preflight(request.method, headers):
            self._preflight(request, client, started)
            return
        route = self.config.routes.match(request.method, headers.get("host") or "", path, headers)
        if route is None:
            self.metrics.observe(NO_ROUTE, 404, started)
            body = json_body({"error": "no route matches", "path": path[:200]})
            client.respond(request, 404, [JSON, VARY], body)
            return
        await self._proxy(request, client, route, path=path, target=target, started=started)

    async def _proxy(
        self,
        request: Request,
        client: ClientConnection,
        route: CompiledRoute,
        *,
        path: str,
        target: bytes,
        started: float,
    ) -> None:
        headers = request.headers
        peer = request.peer
        client_address = self._client(request)
        trace = self.tracing.start(request.method, route.name, headers.get(b"traceparent"), path)
        forwarding = Forwarding(
            peer=peer,
            peer_trusted=self.config.clients.trusted_peer(peer),
            client=client_address,
            scheme=HTTP,
            host=headers.get(b"host", b""),
            traceparent=trace.traceparent,
        )
        outgoing = upstream_request_headers(headers, request.raw_headers, forwarding)
        cors = self._cors(request)
        upstream = self._upstreams[route.target] or self._late(route.target)
        if upstream is None:
            outcome = failure(client, request, "refused", route, cors)
        else:
            outcome = await self.proxy.forward(
                client, request, route, upstream, target=target, headers=outgoing, cors=cors
            )
        self._record(route, outcome, started, trace, client_address)

    def _record(
        self, route: CompiledRoute, outcome: Outcome, started: float, trace: object, client: str
    ) -> None:
        self.metrics.observe(route.name, outcome.status, started)
        if outcome.error is not None and outcome.status >= 500:
            self.metrics.upstream_error(route.name, outcome.error)
        if self.tracing.exporting:
            trace.finish(self._span_attributes(route, client), outcome.status)  # type: ignore[attr-defined]

    def _late(self, service: str) -> Upstream | None:
        url = self._pending.resolve(service)
        if url is None:
            return None
        upstream = self._upstreams[service] = Upstream.from_url(url)
        return upstream

    def _client(self, request: Request) -> str:
        forwarded_for = request.headers.get(b"x-forwarded-for")
        cf_connecting_ip = request.headers.get(b"cf-connecting-ip")
        if forwarded_for is None and cf_connecting_ip is None:
            return request.peer
        return self.config.clients.client_address(
            request.peer,
            forwarded_for.decode("latin-1") if forwarded_for is not None else None,
            cf_connecting_ip.decode("latin-1") if cf_connecting_ip is not None else None,
        )

    def _span_attributes(self, route: CompiledRoute, client: str) -> dict[str, str | int]:
        attributes: dict[str, str | int] = {
            "http.route": route.name,
            "homeport.upstream": route.upstream_name,
            "client.address": client,
        }
        if self.geo is not None:
            place = self.geo.lookup(client)
            if place.found:
                attributes["geo.country.iso_code"] = place.country or ""
                attributes["geo.locality.name"] = place.city or ""
        return attributes

    def _preflight(self, request: Request, client: ClientConnection, started: float) -> None:
        origin = request.header(b"origin") or ""
        if not self.config.cors.allows(origin):
            self.metrics.observe(NO_ROUTE, 403, started)
            client.respond(request, 403, [JSON, VARY], json_body({"error": "origin not allowed"}))
            return
        self.metrics.observe(NO_ROUTE, 204, started)
        headers = self.config.cors.preflight_headers(origin, request.text)
        client.respond(request, 204, header_lines(headers), b"")

    async def _health(self, request: Request, client: ClientConnection, cors: list[bytes]) -> None:
        body: dict[str, object] = {"status": "ok"}
        if self.geo is not None:
            body["geo"] = self.geo.description
            body["geo_index"] = self.geo.index_status
        client.respond(request, 200, [JSON, *cors], json_body(body))

    async def _metrics(self, request: Request, client: ClientConnection, cors: list[bytes]) -> None:
        body = generate_latest(self.metrics.registry)
        lines = [f"Content-Type: {CONTENT_TYPE_LATEST}\r\n".encode(), *cors]
        client.respond(request, 200, lines, body)

    async def _geo(self, request: Request, client: ClientConnection, cors: list[bytes]) -> None:
        if request.method not in ("GET", "HEAD"):
            client.respond(request, 405, [JSON, *cors], json_body({"error": "use GET"}))
            return
        if self.geo is None:
            body = json_body({"error": "geo lookups are not configured"})
            client.respond(request, 503, [JSON, *cors], body)
            return
        asked = parse_qs(request.query(), keep_blank_values=True).get("ip")
        address = asked[0] if asked else self._client(request)
        answer = self.geo.lookup(address.strip()[:64])
        status = 400 if answer.reason == "not an IP address" else 200
        client.respond(request, status, [JSON, *cors], json_body(answer.as_json()))
