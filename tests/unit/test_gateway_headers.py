"""Hop-by-hop headers stop at the gateway; X-Forwarded-* and traceparent are the gateway's own."""

from __future__ import annotations

from multidict import CIMultiDict

from homeport.gateway.headers import Forwarding, client_response_headers, upstream_request_headers

FORWARDING = Forwarding(
    peer="127.0.0.1",
    peer_trusted=True,
    client="203.0.113.7",
    scheme=b"http",
    host=b"jobs.elkhair.tech",
    traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
)


def as_bytes(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in headers.items()]


def parsed(lines: list[bytes]) -> CIMultiDict[str]:
    pairs = [line.decode().rstrip("\r\n").split("\r\n") for line in lines]
    return CIMultiDict(tuple(one.split(": ", 1)) for group in pairs for one in group)


def outgoing(headers: dict[str, str], forwarding: Forwarding = FORWARDING) -> CIMultiDict[str]:
    items = as_bytes(headers)
    incoming = {k.lower(): v for k, v in reversed(items)}
    return parsed(upstream_request_headers(incoming, items, forwarding))


def test_hop_by_hop_and_connection_named_headers_are_dropped() -> None:
    sent = outgoing(
        {
            "Connection": "keep-alive, X-Secret, X-Forwarded-Host",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Upgrade": "h2c",
            "Proxy-Authorization": "Basic x",
            "X-Secret": "1",
            "Accept": "application/json",
        }
    )
    assert set(k.lower() for k in sent) == {
        "accept",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-real-ip",
        "traceparent",
    }


def test_forwarded_headers_from_a_trusted_peer() -> None:
    sent = outgoing(
        {
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
            "CF-Connecting-IP": "1.2.3.4",
        }
    )
    assert sent["X-Forwarded-For"] == "203.0.113.7, 127.0.0.1"
    assert sent["X-Forwarded-Proto"] == "https"
    assert sent["X-Forwarded-Host"] == "jobs.elkhair.tech"
    assert sent["X-Real-IP"] == "203.0.113.7"
    assert sent["CF-Connecting-IP"] == "1.2.3.4"
    assert sent["traceparent"] == FORWARDING.traceparent


def test_an_untrusted_peer_cannot_set_proto_host_or_cf_ip() -> None:
    untrusted = Forwarding("198.51.100.1", False, "198.51.100.1", b"http", b"a.test", "00-x")
    sent = outgoing(
        {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil",
            "CF-Connecting-IP": "1.2.3.4",
            "X-Real-IP": "1.1.1.1",
        },
        untrusted,
    )
    assert sent["X-Forwarded-Proto"] == "http"
    assert sent["X-Forwarded-Host"] == "a.test"
    assert "CF-Connecting-IP" not in sent
    assert sent.getall("X-Real-IP") == ["198.51.100.1"]


def test_response_drops_hop_by_hop_and_upstream_cors() -> None:
    upstream = as_bytes(
        {
            "Connection": "keep-alive, X-Upstream-Secret",
            "Keep-Alive": "timeout=5",
            "Transfer-Encoding": "chunked",
            "X-Upstream-Secret": "1",
            "Access-Control-Allow-Origin": "*",
            "Content-Length": "3",
            "Content-Type": "text/plain",
        }
    )
    kept = client_response_headers(upstream, b"keep-alive, X-Upstream-Secret")
    assert kept == [b"Content-Type: text/plain\r\n"]
