"""RouteTable: first match in file order over header, path prefix, method and host."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from homeport.gateway.errors import GatewayConfigError
from homeport.gateway.routes import RouteTable, normalize_host, normalize_path, path_has_prefix
from homeport.model.platform import Route

SERVICES = frozenset({"jobs", "companies", "monolith", "landing", "admin", "mobile"})


def table(*routes: dict[str, object]) -> RouteTable:
    return RouteTable.compile([Route.model_validate(r) for r in routes], SERVICES)


JOBBOARD = table(
    {"when": {"header": "x-mode", "equals": "microservices"}, "path": "/api/jobs", "to": "jobs"},
    {"when": {"header": "X-Client", "prefix": "mobile/"}, "path": "/api", "to": "mobile"},
    {
        "when": {"header": "x-version", "regex": "^v[23]$"},
        "path": "/api/companies",
        "to": "companies",
    },
    {"method": ["DELETE", "put"], "path": "/api/admin", "to": "admin"},
    {"host": "Admin.Example.test", "to": "admin"},
    {"when": {"header": "x-canary", "exists": True}, "to": "landing", "name": "canary"},
    {"path": "/api", "to": "monolith"},
    {"to": "landing"},
)

CASES = [
    # method, host, path, headers, expected route name
    ("GET", "jobs.example", "/api/jobs", {"x-mode": "microservices"}, "jobs"),
    ("GET", "jobs.example", "/api/jobs/42", {"X-MODE": "microservices"}, "jobs"),
    ("GET", "jobs.example", "/api/jobs", {"x-mode": "monolith"}, "monolith"),
    ("GET", "jobs.example", "/api/jobs", {"x-mode": "Microservices"}, "monolith"),
    ("GET", "jobs.example", "/api/jobsearch", {"x-mode": "microservices"}, "monolith"),
    ("GET", "jobs.example", "/api/jobs", {}, "monolith"),
    ("GET", "jobs.example", "/api/x", {"x-client": "mobile/ios"}, "mobile"),
    ("GET", "jobs.example", "/api/x", {"x-client": "web/mobile/"}, "monolith"),
    ("GET", "jobs.example", "/api/companies", {"x-version": "v3"}, "companies"),
    ("GET", "jobs.example", "/api/companies", {"x-version": "v33"}, "monolith"),
    ("DELETE", "jobs.example", "/api/admin/1", {}, "admin"),
    ("PUT", "jobs.example", "/api/admin", {}, "admin"),
    ("GET", "jobs.example", "/api/admin", {}, "monolith"),
    ("GET", "admin.example.test:8443", "/", {}, "admin"),
    ("GET", "ADMIN.example.test", "/x", {}, "admin"),
    ("GET", "admin.example.test.evil", "/x", {}, "landing"),
    ("GET", "jobs.example", "/", {"x-canary": "1"}, "canary"),
    ("GET", "jobs.example", "/", {"x-canary": ""}, "landing"),
    ("GET", "jobs.example", "/", {}, "landing"),
]


@pytest.mark.parametrize(("method", "host", "path", "headers", "expected"), CASES)
def test_first_matching_route_wins(
    method: str, host: str, path: str, headers: dict[str, str], expected: str
) -> None:
    route = JOBBOARD.match(method, host, path, CIMultiDict(headers))
    assert route is not None
    assert route.name == expected


def test_no_default_route_means_no_match() -> None:
    only_api = table({"path": "/api", "to": "monolith"})
    assert only_api.match("GET", "h", "/other", CIMultiDict()) is None


def test_route_names_never_show_a_url() -> None:
    urls = table({"path": "/a", "to": "http://10.0.0.5:8080"}, {"to": "landing"})
    assert [r.name for r in urls.routes] == ["route-0", "landing"]


def test_strip_prefix_keeps_the_query_and_a_leading_slash() -> None:
    stripped = table({"path": "/api/jobs", "to": "jobs", "strip_prefix": True})
    route = stripped.routes[0]
    assert route.upstream_path(b"/api/jobs/1?x=2") == b"/1?x=2"
    assert route.upstream_path(b"/api/jobs?x=2") == b"/?x=2"
    assert route.upstream_path(b"/api/jobs") == b"/"


def test_invalid_regex_is_a_config_error() -> None:
    with pytest.raises(GatewayConfigError, match="invalid regex"):
        table({"when": {"header": "x", "regex": "("}, "to": "jobs"})


def test_path_must_start_with_a_slash() -> None:
    with pytest.raises(GatewayConfigError, match="starts with '/'"):
        table({"path": "api", "to": "jobs"})


@pytest.mark.parametrize(
    ("path", "prefix", "expected"),
    [
        ("/api", "/api", True),
        ("/api/", "/api", True),
        ("/apix", "/api", False),
        ("/api", "/api/", True),
        ("/anything", "/", True),
    ],
)
def test_path_prefix_is_on_a_segment_boundary(path: str, prefix: str, expected: bool) -> None:
    assert path_has_prefix(path, prefix) is expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [("Example.COM:8080", "example.com"), ("[::1]:80", "[::1]"), ("example.com", "example.com")],
)
def test_host_is_compared_without_port_and_case(given: str, expected: str) -> None:
    assert normalize_host(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/api/jobs", "/api/jobs"),
        ("/api/jobs/../admin", "/api/admin"),
        ("/api//jobs/./7", "/api/jobs/7"),
        ("/../../etc", "/etc"),
        ("/api/jobs/", "/api/jobs/"),
        ("/a/b/..", "/a/"),
        ("/..", "/"),
        ("/.well-known/x", "/.well-known/x"),
    ],
)
def test_paths_are_normalised_before_routing(given: str, expected: str) -> None:
    assert normalize_path(given) == expected
