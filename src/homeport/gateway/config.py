"""Everything the gateway needs, compiled once from the platform file and the endpoints."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from yarl import URL

from homeport.endpoints import ENV_VARIABLE, STATE_FILE, service_urls
from homeport.gateway.client_ip import ClientAddressPolicy
from homeport.gateway.cors import CorsPolicy
from homeport.gateway.errors import GatewayConfigError
from homeport.gateway.geo import STATE_NAME
from homeport.gateway.routes import RouteTable
from homeport.model.platform import Gateway, GatewayLimits

ENDPOINTS_VARIABLE = ENV_VARIABLE
ENDPOINTS_FILE = STATE_FILE  # written by `homeport up` in the state directory


@dataclass(frozen=True)
class GatewayConfig:
    """The compiled gateway: routes, their upstream URLs, CORS, trust, limits and geo."""

    routes: RouteTable
    upstreams: Mapping[str, URL | None]
    cors: CorsPolicy
    clients: ClientAddressPolicy
    limits: GatewayLimits
    geo_database: str
    geo_state_path: Path
    endpoints_file: Path

    @property
    def pending(self) -> list[str]:
        """Services that routes name but that are not running yet."""
        return sorted(t for t, url in self.upstreams.items() if url is None)


def parse_endpoints(text: str | None) -> dict[str, str]:
    """Service URLs from HOMEPORT_ENDPOINTS: ``{"svc": {"url": "http://127.0.0.1:N"}}``."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GatewayConfigError(f"{ENDPOINTS_VARIABLE} is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise GatewayConfigError(f"{ENDPOINTS_VARIABLE} must be a JSON object of services")
    return service_urls(data)


def read_endpoints_file(path: Path) -> dict[str, str]:
    """Service URLs from ``homeport up``'s ``endpoints.json`` (``{"services": {...}}``), or {}."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    services = data.get("services") if isinstance(data, dict) else None
    return service_urls(services) if isinstance(services, dict) else {}


def parse_upstream_options(options: list[str]) -> dict[str, str]:
    """``NAME=URL`` pairs from the command line."""
    urls: dict[str, str] = {}
    for option in options:
        name, sep, url = option.partition("=")
        if not sep or not name or not url:
            raise GatewayConfigError(f"--upstream '{option}' is not NAME=URL")
        urls[name.strip()] = url.strip()
    return urls


def upstream_url(target: str, known: Mapping[str, str]) -> URL:
    """The http:// URL of a route target: a known service's address, or the target itself."""
    text = known.get(target, target)
    url = URL(text)
    if url.scheme == "https":
        raise GatewayConfigError(
            f"gateway route target '{target}' is https; the gateway speaks plain HTTP to its "
            "upstreams on the LAN (TLS ends at the edge): use an http:// URL"
        )
    if url.scheme != "http" or not url.host:
        raise GatewayConfigError(
            f"gateway route target '{target}' has no address: it is not a running service "
            f"({', '.join(sorted(known)) or 'none known'}) nor an http:// URL; start it with "
            "homeport up, or pass --upstream NAME=URL"
        )
    return url.with_path(url.path.rstrip("/")) if url.path not in ("", "/") else url.with_path("")


def geo_path(database: str, root: Path) -> str:
    """'bundled', or the database's path with a relative one taken from the platform's root."""
    if database == "bundled" or Path(database).is_absolute():
        return database
    return str(root / database)


def compile_gateway(
    gateway: Gateway,
    services: frozenset[str],
    endpoints: Mapping[str, str],
    state_dir: Path,
    root: Path,
    *,
    allow_pending: bool = False,
) -> GatewayConfig:
    """Compile the gateway section; every route target must resolve to an http:// URL, except,
    with ``allow_pending``, services not running yet (their routes wait for an address)."""
    if not gateway.routes:
        raise GatewayConfigError("gateway.routes is empty; add at least a default route")
    table = RouteTable.compile(gateway.routes, services)
    upstreams: dict[str, URL | None] = {}
    for route in table.routes:
        pending = route.target in services and route.target not in endpoints
        if pending and allow_pending:
            upstreams[route.target] = None
        else:
            upstreams[route.target] = upstream_url(route.target, endpoints)
    return GatewayConfig(
        routes=table,
        upstreams=upstreams,
        cors=CorsPolicy.compile(gateway.cors),
        clients=ClientAddressPolicy.from_networks(gateway.trusted_proxies),
        limits=gateway.limits,
        geo_database=geo_path(gateway.geo.database, root),
        geo_state_path=state_dir / "gateway" / STATE_NAME,
        endpoints_file=state_dir / ENDPOINTS_FILE,
    )
