"""Which headers cross the gateway, in each direction (RFC 9110 section 7.6.1).

Hop-by-hop headers, and any header the sender names in ``Connection``, stop at the gateway;
X-Forwarded-* are never dropped that way, because the gateway rewrites them itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
SET_BY_GATEWAY = frozenset(
    {
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-real-ip",
        "traceparent",
        "cf-connecting-ip",
        "content-length",
        "expect",  # the gateway itself answers 100-continue
    }
)
PLAIN_CONNECTION = frozenset({"keep-alive", "close", "Keep-Alive", "Close", "upgrade"})
CORS_RESPONSE = frozenset(
    {
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-max-age",
        "access-control-expose-headers",
    }
)


def connection_named(headers: Mapping[str, str]) -> frozenset[str]:
    """Header names listed in Connection, lower-cased, X-Forwarded-* excluded."""
    listed = headers.get("connection")
    if not listed or listed in PLAIN_CONNECTION:
        return frozenset()
    names = (name.strip().lower() for name in listed.split(","))
    return frozenset(n for n in names if n and not n.startswith("x-forwarded-"))


Headers = list[tuple[str, str]]
REQUEST_DROPPED = HOP_BY_HOP | SET_BY_GATEWAY
RESPONSE_DROPPED = HOP_BY_HOP | CORS_RESPONSE | {"content-length"}


def end_to_end(
    items: Iterable[tuple[str, str]], headers: Mapping[str, str], dropped: frozenset[str]
) -> Headers:
    """The headers of ``items`` that go on to the next hop."""
    if "connection" in headers:
        dropped = dropped | connection_named(headers)
    return [(k, v) for k, v in items if k.lower() not in dropped]


class Forwarding(NamedTuple):
    """What the gateway knows about one request's origin, for the X-Forwarded-* it sends."""

    peer: str
    peer_trusted: bool
    client: str
    scheme: str
    host: str
    traceparent: str


def upstream_request_headers(
    incoming: Mapping[str, str], items: Iterable[tuple[str, str]], forwarding: Forwarding
) -> Headers:
    """Headers for the upstream request: end-to-end ones plus the gateway's own."""
    headers = end_to_end(items, incoming, REQUEST_DROPPED)
    prior = incoming.get("x-forwarded-for")
    trusted = forwarding.peer_trusted
    proto = incoming.get("x-forwarded-proto") if trusted else None
    forwarded_host = incoming.get("x-forwarded-host") if trusted else None
    headers += [
        ("X-Forwarded-For", f"{prior}, {forwarding.peer}" if prior else forwarding.peer),
        ("X-Forwarded-Proto", proto if proto in ("http", "https") else forwarding.scheme),
        ("X-Forwarded-Host", forwarded_host or forwarding.host),
        ("X-Real-IP", forwarding.client),
        ("traceparent", forwarding.traceparent),
    ]
    cf_connecting_ip = incoming.get("cf-connecting-ip") if trusted else None
    if cf_connecting_ip:
        headers.append(("CF-Connecting-IP", cf_connecting_ip))
    return headers


def client_response_headers(
    upstream: Mapping[str, str], items: Iterable[tuple[str, str]]
) -> Headers:
    """Headers for the client: end-to-end ones, without the upstream's own CORS answers."""
    return end_to_end(items, upstream, RESPONSE_DROPPED)
