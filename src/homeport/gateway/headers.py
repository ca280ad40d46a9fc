"""Which headers cross the gateway, in each direction (RFC 9110 section 7.6.1), as bytes.

Hop-by-hop headers, and any header the sender names in ``Connection``, stop at the gateway;
X-Forwarded-* are never dropped that way, because the gateway rewrites them itself. Names and
values stay the bytes they arrived as; the result is ``Name: value\\r\\n`` lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
SET_BY_GATEWAY = frozenset(
    {
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-real-ip",
        b"traceparent",
        b"cf-connecting-ip",
        b"content-length",
        b"expect",  # the gateway itself answers 100-continue
    }
)
PLAIN_CONNECTION = frozenset({b"keep-alive", b"close", b"Keep-Alive", b"Close", b"upgrade"})
CORS_RESPONSE = frozenset(
    {
        b"access-control-allow-origin",
        b"access-control-allow-credentials",
        b"access-control-allow-methods",
        b"access-control-allow-headers",
        b"access-control-max-age",
        b"access-control-expose-headers",
    }
)
REQUEST_DROPPED = HOP_BY_HOP | SET_BY_GATEWAY
RESPONSE_DROPPED = HOP_BY_HOP | CORS_RESPONSE | {b"content-length"}

RawHeaders = Iterable[tuple[bytes, bytes]]


def connection_named(listed: bytes | None) -> frozenset[bytes]:
    """Header names listed in a Connection value, lower-cased, X-Forwarded-* excluded."""
    if not listed or listed in PLAIN_CONNECTION:
        return frozenset()
    names = (name.strip().lower() for name in listed.split(b","))
    return frozenset(n for n in names if n and not n.startswith(b"x-forwarded-"))


def end_to_end(
    items: RawHeaders, connection: bytes | None, dropped: frozenset[bytes]
) -> list[bytes]:
    """``Name: value`` lines for the headers of ``items`` that go on to the next hop."""
    if connection is not None:
        named = connection_named(connection)
        if named:
            dropped = dropped | named
    return [b"%b: %b\r\n" % (k, v) for k, v in items if k.lower() not in dropped]


class Forwarding(NamedTuple):
    """What the gateway knows about one request's origin, for the X-Forwarded-* it sends."""

    peer: str
    peer_trusted: bool
    client: str
    scheme: bytes
    host: bytes  # the client's Host header
    traceparent: str


def upstream_request_headers(
    incoming: Mapping[bytes, bytes], items: RawHeaders, forwarding: Forwarding
) -> list[bytes]:
    """Header lines for the upstream request: end-to-end ones plus the gateway's own.
    ``incoming`` maps lower-case names to values; ``items`` are the headers as received."""
    lines = end_to_end(items, incoming.get(b"connection"), REQUEST_DROPPED)
    prior = incoming.get(b"x-forwarded-for")
    peer = forwarding.peer.encode("latin-1")
    trusted = forwarding.peer_trusted
    proto = incoming.get(b"x-forwarded-proto") if trusted else None
    if proto not in (b"http", b"https"):
        proto = forwarding.scheme
    forwarded_host = incoming.get(b"x-forwarded-host") if trusted else None
    lines.append(
        b"X-Forwarded-For: %b\r\nX-Forwarded-Proto: %b\r\nX-Forwarded-Host: %b\r\n"
        b"X-Real-IP: %b\r\ntraceparent: %b\r\n"
        % (
            b"%b, %b" % (prior, peer) if prior else peer,
            proto,
            forwarded_host or forwarding.host,
            forwarding.client.encode("latin-1"),
            forwarding.traceparent.encode("latin-1"),
        )
    )
    cf_connecting_ip = incoming.get(b"cf-connecting-ip") if trusted else None
    if cf_connecting_ip:
        lines.append(b"CF-Connecting-IP: %b\r\n" % cf_connecting_ip)
    return lines


def client_response_headers(items: RawHeaders, connection: bytes | None) -> list[bytes]:
    """Header lines for the client: end-to-end ones, without the upstream's own CORS answers."""
    return end_to_end(items, connection, RESPONSE_DROPPED)
