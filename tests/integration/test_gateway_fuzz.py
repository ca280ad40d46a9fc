"""Random header names, values and paths: the gateway never answers 500 nor leaks an address."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.gateway import (
    Plane,
    Upstreams,
    raw_request,
    start_python_gateway,
    write_platform,
)

TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VALUE = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=60,
).map(str.strip)
NAMES = st.one_of(
    st.text(TOKEN, min_size=1, max_size=20),
    st.sampled_from(
        [
            "X-Forwarded-For",
            "CF-Connecting-IP",
            "Origin",
            "Connection",
            "x-mode",
            "traceparent",
            "Host",
            "Keep-Alive",
            "TE",
            "X-Forwarded-Host",
            "Access-Control-Request-Method",
        ]
    ),
)
PATH_PIECE = st.lists(
    st.sampled_from([*"abcXYZ019-._~!$&'()*+,;=:@/%?#", "%2e", "%2F", "%00", "..", "%ff"]),
    max_size=20,
).map("".join)
PREFIXES = st.sampled_from(
    ["/", "/api/", "/api/down/", "/api/jobs/", "/mobile/", "/api/public/geo"]
)
METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"])


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_platform(tmp_path_factory.mktemp("gateway-fuzz"))


@pytest.fixture(scope="module")
def gateway(platform: Path, upstreams: Upstreams) -> Iterator[Plane]:
    plane = start_python_gateway(platform, upstreams)
    yield plane
    plane.stop()


def internal_addresses(platform: Path, upstreams: Upstreams) -> list[bytes]:
    closed = platform.read_text().split("http://127.0.0.1:")[1].split('"')[0]
    ports = [str(p) for p in upstreams.ports.values()] + [closed]
    return [f"127.0.0.1:{port}".encode() for port in ports]


@settings(
    max_examples=int(os.environ.get("GATEWAY_FUZZ_EXAMPLES", "150")),
    deadline=None,
    database=None,  # nothing written into the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=METHODS,
    prefix=PREFIXES,
    path=PATH_PIECE,
    headers=st.lists(st.tuples(NAMES, VALUE), max_size=8),
)
def test_never_500_and_never_an_internal_address(
    gateway: Plane,
    platform: Path,
    upstreams: Upstreams,
    method: str,
    prefix: str,
    path: str,
    headers: list[tuple[str, str]],
) -> None:
    lines = [f"{method} {prefix}{path} HTTP/1.1", "Host: gateway.test", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    response = raw_request(gateway.url, request)
    assert response.status < 500 or response.status in (502, 504), response.body[:300]
    everything = b"".join(v.encode("latin-1") for vs in response.headers.values() for v in vs)
    everything += response.body
    for address in internal_addresses(platform, upstreams):
        assert address not in everything
