"""One conformance suite, two data planes: the Python gateway and nginx on the rendered config.

Every case runs against both; the few behaviours nginx cannot have are in test_gateway_python.py.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.gateway import (
    MAX_BODY,
    Plane,
    Upstreams,
    child_pids,
    peak_rss_mb,
    raw_request,
    start_nginx,
    start_python_gateway,
    write_platform,
)

UNTRUSTED_PEER = "127.0.0.3"  # the platform trusts only 127.0.0.1/32
HUNDRED_MB = 100_000_000
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_platform(tmp_path_factory.mktemp("gateway-conformance"))


@pytest.fixture(scope="module")
def python_plane(platform: Path, upstreams: Upstreams) -> Iterator[Plane]:
    plane = start_python_gateway(platform, upstreams)
    yield plane
    plane.stop()


@pytest.fixture(scope="module")
def nginx_plane(
    platform: Path,
    upstreams: Upstreams,
    python_plane: Plane,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Plane]:
    plane = start_nginx(platform, upstreams, python_plane.url, tmp_path_factory.mktemp("nginx"))
    yield plane
    plane.stop()


@pytest.fixture(scope="module", params=["python", "nginx"])
def plane(request: pytest.FixtureRequest) -> Plane:
    return request.getfixturevalue(f"{request.param}_plane")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def client(plane: Plane) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=plane.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def untrusted_client(plane: Plane) -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(local_address=UNTRUSTED_PEER)
    with httpx.Client(base_url=plane.url, timeout=30, transport=transport) as http:
        yield http


def served_by(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.headers["x-served-by"]


def echoed(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return response.json()["headers"]  # type: ignore[no-any-return]


# --- routing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers", "expected"),
    [
        ("GET", "/api/jobs", {"x-mode": "microservices"}, "jobs"),
        ("GET", "/api/jobs/42?full=1", {"X-Mode": "microservices"}, "jobs"),
        ("GET", "/api/jobs", {}, "monolith"),
        ("GET", "/api/jobs", {"x-mode": "bananas"}, "monolith"),
        ("GET", "/api/companies", {"x-mode": "microservices"}, "companies"),
        ("GET", "/api/companies", {"x-version": "v3"}, "companies"),
        ("GET", "/api/companies", {"x-version": "v33"}, "monolith"),
        ("DELETE", "/api/admin/1", {}, "admin"),
        ("GET", "/api/admin/1", {}, "monolith"),
        ("GET", "/", {"host": "admin.example.test"}, "admin"),
        ("GET", "/about", {}, "landing"),
        ("GET", "/mobile/feed", {"x-client": "mobile/ios"}, "jobs"),
    ],
)
def test_routing(
    client: httpx.Client, method: str, path: str, headers: dict[str, str], expected: str
) -> None:
    assert served_by(client.request(method, path, headers=headers)) == expected


def test_encoded_dot_segments_are_resolved_before_routing(plane: Plane) -> None:
    request = (
        b"GET /api/jobs/%2e%2e/companies HTTP/1.1\r\nHost: gw\r\nX-Version: v3\r\n"
        b"Connection: close\r\n\r\n"
    )
    response = raw_request(plane.url, request)
    assert response.status == 200
    assert response.header("x-served-by") == "companies"


def test_strip_prefix(client: httpx.Client) -> None:
    response = client.get("/mobile/feed?page=2", headers={"x-client": "mobile/android"})
    assert response.json()["path"] == "/feed?page=2"


def test_absolute_form_request_target_reaches_the_upstream_in_origin_form(plane: Plane) -> None:
    request = (
        b"GET http://elsewhere.test/api/echo?x=1 HTTP/1.1\r\nHost: gw.test\r\n"
        b"Connection: close\r\n\r\n"
    )
    response = raw_request(plane.url, request)
    assert response.status == 200
    assert json.loads(response.body)["path"] == "/api/echo?x=1"


def test_no_matching_route_is_404_json(client: httpx.Client) -> None:
    response = client.get("/about", headers={"x-block": "1"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == "no route matches"


def test_health(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_geo_is_served_by_the_python_gateway(client: httpx.Client) -> None:
    response = client.get("/api/public/geo", params={"ip": "81.2.69.160"})
    assert response.status_code == 200
    assert response.json()["city"] == "Willesden"
    private = client.get("/api/public/geo", params={"ip": "192.168.1.5"}).json()
    assert private["found"] is False
    assert private["reason"] == "private or reserved address"


# --- bodies --------------------------------------------------------------------------------


def _hundred_megabytes() -> Iterator[bytes]:
    block = bytes(range(256)) * 4096  # 1 MiB
    sent = 0
    while sent < HUNDRED_MB:
        piece = block[: min(len(block), HUNDRED_MB - sent)]
        sent += len(piece)
        yield piece


def _plane_peak_rss(plane: Plane) -> float:
    pids = [plane.pid] + (child_pids(plane.pid) if plane.name == "nginx" else [])
    return max(peak_rss_mb(pid) for pid in pids)


def test_100mb_bodies_stream_both_ways_in_bounded_memory(
    client: httpx.Client, plane: Plane
) -> None:
    expected = hashlib.sha256()
    for piece in _hundred_megabytes():
        expected.update(piece)
    response = client.post("/api/upload", content=_hundred_megabytes())
    assert response.status_code == 200, response.text
    assert response.json()["bytes"] == HUNDRED_MB
    assert response.json()["sha256"] == expected.hexdigest()
    received = 0
    with client.stream("GET", "/api/download", params={"bytes": HUNDRED_MB}) as download:
        assert download.status_code == 200
        for chunk in download.iter_raw():
            received += len(chunk)
    assert received == HUNDRED_MB
    assert _plane_peak_rss(plane) < 150


def test_oversized_declared_body_is_413_before_it_is_read(plane: Plane) -> None:
    request = (
        b"POST /api/upload HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"
        + f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode()
        + b"x" * 1024
    )
    response = raw_request(plane.url, request)
    assert response.status == 413
    assert json.loads(response.body)["error"] == "request body too large"


def test_oversized_chunked_body_is_cut_off_at_the_limit(plane: Plane) -> None:
    host, port = plane.url.removeprefix("http://").split(":")
    chunk = b"z" * (1024 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/upload HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        try:
            for _ in range(MAX_BODY // len(chunk) + 3):
                sock.sendall(framed)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the gateway stopped reading once the limit was passed
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


def test_expect_100_continue_is_answered_before_the_body(plane: Plane) -> None:
    host, port = plane.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/upload HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"
            b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"hello")
        answer = b""
        while b'"bytes": 5' not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b'"bytes": 5' in answer


# --- headers -------------------------------------------------------------------------------


def test_hop_by_hop_request_headers_are_dropped(plane: Plane) -> None:
    request = (
        b"GET /api/echo HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n"
        b"Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: websocket-ish\r\n"
        b"Proxy-Authorization: Basic c2VjcmV0\r\nProxy-Connection: keep-alive\r\n"
        b"X-Kept: yes\r\n\r\n"
    )
    response = raw_request(plane.url, request)
    assert response.status == 200
    received = json.loads(response.body)["headers"]
    for dropped in ("keep-alive", "te", "upgrade", "proxy-authorization", "proxy-connection"):
        assert dropped not in received
    assert received["x-kept"] == "yes"
    assert received.get("connection", "keep-alive") != "close"


def test_hop_by_hop_response_headers_and_upstream_cors_are_dropped(client: httpx.Client) -> None:
    response = client.get("/api/hop", headers={"Origin": "https://evil.com"})
    assert response.status_code == 200
    assert "keep-alive" not in response.headers
    assert "access-control-allow-origin" not in response.headers


def test_forwarded_headers_and_traceparent(client: httpx.Client, plane: Plane) -> None:
    received = echoed(
        client.get("/api/echo", headers={"Host": "jobs.elkhair.tech", "traceparent": TRACEPARENT})
    )
    assert received["x-forwarded-for"] == "127.0.0.1"
    assert received["x-forwarded-proto"] == "http"
    assert received["x-forwarded-host"] == "jobs.elkhair.tech"
    assert received["host"] == "jobs.elkhair.tech"
    assert received["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"


def test_spoofed_x_forwarded_for_is_walked_from_the_right(client: httpx.Client) -> None:
    received = echoed(client.get("/api/echo", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"}))
    assert received["x-real-ip"] == "203.0.113.7"
    assert received["x-forwarded-for"] == "6.6.6.6, 203.0.113.7, 127.0.0.1"


def test_untrusted_peer_cannot_claim_an_address(untrusted_client: httpx.Client) -> None:
    received = echoed(
        untrusted_client.get(
            "/api/echo",
            headers={"X-Forwarded-For": "198.51.100.9", "CF-Connecting-IP": "198.51.100.10"},
        )
    )
    assert received["x-real-ip"] == UNTRUSTED_PEER
    assert "cf-connecting-ip" not in received


def test_cf_connecting_ip_from_a_trusted_peer_is_believed(client: httpx.Client) -> None:
    received = echoed(client.get("/api/echo", headers={"CF-Connecting-IP": "198.51.100.10"}))
    assert received["x-real-ip"] == "198.51.100.10"
    assert received["cf-connecting-ip"] == "198.51.100.10"


# --- CORS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin", ["https://jobs.elkhair.tech.evil.com", "https://evil-jobs.elkhair.tech", "null"]
)
def test_cors_suffix_attacks_get_no_allow_origin(client: httpx.Client, origin: str) -> None:
    response = client.get("/api/echo", headers={"Origin": origin})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers
    assert "Origin" in response.headers.get_list("vary")


@pytest.mark.parametrize("origin", ["https://jobs.elkhair.tech", "https://a.b.eelkhair.net"])
def test_cors_allowed_origin_is_echoed_with_credentials(client: httpx.Client, origin: str) -> None:
    response = client.get("/api/echo", headers={"Origin": origin})
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in response.headers.get_list("vary")


def test_cors_preflight(client: httpx.Client) -> None:
    asked = {
        "Origin": "https://x.eelkhair.net",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type, x-mode",
    }
    response = client.options("/api/jobs", headers=asked)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://x.eelkhair.net"
    assert "PUT" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "content-type, x-mode"
    assert response.headers["access-control-max-age"] == "600"
    refused = client.options("/api/jobs", headers={**asked, "Origin": "https://eelkhair.net.evil"})
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers


# --- failures ------------------------------------------------------------------------------


def test_upstream_down_is_502_naming_the_route_not_the_address(
    client: httpx.Client, platform: Path
) -> None:
    response = client.get("/api/down/x")
    assert response.status_code == 502
    assert response.json() == {"error": "upstream unavailable", "route": "down"}
    closed_port = platform.read_text().split("http://127.0.0.1:")[1].split('"')[0]
    assert closed_port not in response.text


def test_slow_upstream_is_504(client: httpx.Client) -> None:
    response = client.get("/api/slow", params={"seconds": "4"})
    assert response.status_code == 504
    assert response.json() == {"error": "upstream timed out", "route": "monolith"}
