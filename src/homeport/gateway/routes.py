"""The route table: the platform file's routes compiled once into fast, pure matchers.

``RouteTable.match(method, host, path, headers)`` returns the first route whose every condition
holds, in file order, or None. Header names are case-insensitive; ``headers`` is any mapping whose
``get`` takes lower-case names (the request's ``TextHeaders``, or any lower-cased mapping).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from homeport.gateway.errors import GatewayConfigError
from homeport.model.platform import HeaderMatch, Route

HeaderTest = Callable[[str | None], bool]


@dataclass(frozen=True)
class CompiledRoute:
    """One route, ready to match: its position, its public name and its target."""

    index: int
    name: str
    target: str
    upstream_name: str
    path: str | None
    strip_prefix: bool
    methods: frozenset[str]
    host: str | None
    headers: tuple[tuple[str, HeaderTest], ...]

    def matches(self, method: str, host: str, path: str, headers: Mapping[str, str]) -> bool:
        """True when every condition of this route holds for the request."""
        if self.methods and method not in self.methods:
            return False
        if self.host is not None and self.host != host:
            return False
        if self.path is not None and not path_has_prefix(path, self.path):
            return False
        for name, test in self.headers:  # noqa: SIM110 (no generator per request)
            if not test(headers.get(name)):
                return False
        return True

    def upstream_path(self, target: bytes) -> bytes:
        """The request target to send upstream: the prefix removed when ``strip_prefix`` is set."""
        if not self.strip_prefix or self.path is None:
            return target
        rest = target[len(self.path.rstrip("/").encode()) :]
        return rest if rest.startswith(b"/") else b"/" + rest


def path_has_prefix(path: str, prefix: str) -> bool:
    """``/api/jobs`` is a prefix of ``/api/jobs`` and ``/api/jobs/1``, not of ``/api/jobsx``."""
    if prefix.endswith("/"):
        return path.startswith(prefix) or path == prefix[:-1]
    return path == prefix or path.startswith(prefix + "/")


def normalize_path(path: str) -> str:
    """The decoded path with dot segments resolved and slashes merged, as nginx's ``$uri``:
    routing on it means ``/api/jobs/%2e%2e/admin`` is routed as ``/api/admin``."""
    if "/." not in path and "//" not in path:
        return path
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = "/" if path.endswith(("/", "/.", "/..")) and segments else ""
    return "/" + "/".join(segments) + trailing


@lru_cache(maxsize=1024)
def normalize_host(host: str) -> str:
    """The Host header without its port, lower-cased (``Example.com:8080`` -> ``example.com``)."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def compile_header_test(match: HeaderMatch) -> HeaderTest:
    """A predicate over the header's value (None when absent); an empty value counts as absent."""
    if match.equals is not None:
        expected = match.equals
        return lambda value: value == expected
    if match.prefix is not None:
        prefix = match.prefix
        return lambda value: value is not None and value.startswith(prefix)
    if match.regex is not None:
        try:
            pattern = re.compile(match.regex)
        except re.error as exc:
            raise GatewayConfigError(
                f"gateway route header '{match.header}' has an invalid regex "
                f"'{match.regex}': {exc}; fix the pattern in the platform file"
            ) from exc
        return lambda value: value is not None and pattern.search(value) is not None
    wanted = match.exists is not False
    return lambda value: bool(value) == wanted


def route_name(route: Route, index: int, services: frozenset[str]) -> str:
    """The name a route shows in errors, metrics and spans: never an address."""
    if route.name:
        return route.name
    return route.to if route.to in services else f"route-{index}"


def compile_route(route: Route, index: int, services: frozenset[str]) -> CompiledRoute:
    """Compile one route of the platform file."""
    if route.path is not None and not route.path.startswith("/"):
        raise GatewayConfigError(
            f"gateway route {index} has path '{route.path}'; a path prefix starts with '/'"
        )
    return CompiledRoute(
        index=index,
        name=route_name(route, index, services),
        target=route.to,
        upstream_name=route.to if route.to in services else f"route-{index}",
        path=route.path,
        strip_prefix=route.strip_prefix,
        methods=frozenset(m.upper() for m in route.method),
        host=normalize_host(route.host) if route.host else None,
        headers=tuple((m.header.lower(), compile_header_test(m)) for m in route.when),
    )


class RouteTable:
    """The gateway's routes, compiled once; the first match in file order wins."""

    def __init__(self, routes: list[CompiledRoute]) -> None:
        self.routes = tuple(routes)

    @classmethod
    def compile(cls, routes: list[Route], services: frozenset[str] = frozenset()) -> RouteTable:
        """Compile the platform file's routes; ``services`` are the names a route may target."""
        return cls([compile_route(route, i, services) for i, route in enumerate(routes)])

    def match(
        self, method: str, host: str, path: str, headers: Mapping[str, str]
    ) -> CompiledRoute | None:
        """The first route that matches the request, or None (the gateway answers 404)."""
        host = normalize_host(host)
        for route in self.routes:
            if route.matches(method, host, path, headers):
                return route
        return None
