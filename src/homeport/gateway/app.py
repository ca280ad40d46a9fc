"""The gateway's request handler: its own endpoints, CORS, routing, then the proxy.

The gateway answers ``/healthz``, ``/metrics`` and ``/api/public/geo`` itself; CORS preflights
from allowlisted origins get 204 (403 for others); everything else goes to the first matching
route, or 404 with a JSON body when none matches.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from homeport.gateway.config import GatewayConfig
from homeport.gateway.cors import is_preflight
from homeport.gateway.geo import GeoDatabase
from homeport.gateway.headers import Forwarding, upstream_request_headers
from homeport.gateway.pending import PendingUpstreams
from homeport.gateway.proxy import Proxy, Upstream, failure, json_response
from homeport.gateway.routes import CompiledRoute, normalize_path
from homeport.gateway.telemetry import Metrics, Tracing

GEO_PATH = "/api/public/geo"
NO_ROUTE = "(none)"

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


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
        self._own: dict[str, Handler] = {
            "/healthz": self._health,
            "/metrics": self._metrics,
            GEO_PATH: self._geo,
        }

    async def start(self) -> None:
        """Open the upstream pool."""
        await self.proxy.start()

    async def close(self) -> None:
        """Close the pool and flush telemetry."""
        await self.proxy.close()
        self.tracing.shutdown()
        if self.geo is not None:
            self.geo.close()

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """Answer one request."""
        started = time.perf_counter()
        headers = request.headers
        path = normalize_path(request.path)
        own = self._own.get(path)
        if own is not None:
            response = await own(request)
            response.headers.update(self.config.cors.response_headers(headers.get("Origin")))
            return response
        if is_preflight(request.method, headers):
            return self._preflight(request, started)
        route = self.config.routes.match(request.method, headers.get("Host", ""), path, headers)
        if route is None:
            self.metrics.observe(NO_ROUTE, 404, started)
            response = json_response(404, {"error": "no route matches", "path": path[:200]})
            response.headers["Vary"] = "Origin"
            return response
        return await self._proxy(request, route, path, started)

    async def _proxy(
        self, request: web.BaseRequest, route: CompiledRoute, path: str, started: float
    ) -> web.StreamResponse:
        headers = request.headers
        peer = request.remote or ""
        client = self._client(request)
        trace = self.tracing.start(
            f"{request.method} {route.name}", headers.get("traceparent"), request.method, path
        )
        forwarding = Forwarding(
            peer=peer,
            peer_trusted=self.config.clients.trusted_peer(peer),
            client=client,
            scheme=request.scheme,
            host=headers.get("Host", ""),
            traceparent=trace.traceparent,
        )
        outgoing = upstream_request_headers(headers, headers.items(), forwarding)
        cors = self.config.cors.response_headers(headers.get("Origin"))
        upstream = self._upstreams[route.target] or self._late(route.target)
        if upstream is None:
            response, outcome = failure("refused", route)
            response.headers.update(cors)
        else:
            response, outcome = await self.proxy.forward(request, route, upstream, outgoing, cors)
        self.metrics.observe(route.name, outcome.status, started)
        if outcome.error is not None and outcome.status >= 500:
            self.metrics.upstream_error(route.name, outcome.error)
        if self.tracing.exporting:
            trace.finish(self._span_attributes(route, client), outcome.status)
        return response

    def _late(self, service: str) -> Upstream | None:
        url = self._pending.resolve(service)
        if url is None:
            return None
        upstream = self._upstreams[service] = Upstream.from_url(url)
        return upstream

    def _client(self, request: web.BaseRequest) -> str:
        headers = request.headers
        return self.config.clients.client_address(
            request.remote or "", headers.get("X-Forwarded-For"), headers.get("CF-Connecting-IP")
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

    def _preflight(self, request: web.BaseRequest, started: float) -> web.StreamResponse:
        origin = request.headers.get("Origin", "")
        if not self.config.cors.allows(origin):
            self.metrics.observe(NO_ROUTE, 403, started)
            response = json_response(403, {"error": "origin not allowed"})
            response.headers["Vary"] = "Origin"
            return response
        self.metrics.observe(NO_ROUTE, 204, started)
        headers = self.config.cors.preflight_headers(origin, request.headers)
        return web.Response(status=204, headers=headers)

    async def _health(self, request: web.BaseRequest) -> web.StreamResponse:
        body: dict[str, object] = {"status": "ok"}
        if self.geo is not None:
            body["geo"] = self.geo.description
        return json_response(200, body)

    async def _metrics(self, request: web.BaseRequest) -> web.StreamResponse:
        body = generate_latest(self.metrics.registry)
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def _geo(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return json_response(405, {"error": "use GET"})
        if self.geo is None:
            return json_response(503, {"error": "geo lookups are not configured"})
        asked = request.query.get("ip")
        if asked is None:
            asked = self._client(request)
        answer = self.geo.lookup(asked.strip()[:64])
        status = 400 if answer.reason == "not an IP address" else 200
        return json_response(status, answer.as_json())
