"""The visitor's address: X-Forwarded-For walked right to left; CF-Connecting-IP if trusted."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from homeport.gateway.client_ip import ClientAddressPolicy

POLICY = ClientAddressPolicy.from_networks(
    [ip_network("127.0.0.1/32"), ip_network("192.168.1.150/32"), ip_network("10.0.0.0/8")]
)


@pytest.mark.parametrize(
    ("peer", "xff", "cf", "expected"),
    [
        # an untrusted peer is the client, whatever it claims
        ("203.0.113.9", "1.1.1.1", None, "203.0.113.9"),
        ("203.0.113.9", None, "1.1.1.1", "203.0.113.9"),
        # a trusted peer: the rightmost address that is not a trusted proxy
        ("127.0.0.1", "1.1.1.1, 203.0.113.7", None, "203.0.113.7"),
        ("127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.2.3, 192.168.1.150", None, "203.0.113.7"),
        # spoofed leftmost values are never taken on faith
        ("127.0.0.1", "8.8.8.8, 198.51.100.1", None, "198.51.100.1"),
        # no header: the peer itself
        ("127.0.0.1", None, None, "127.0.0.1"),
        # every hop trusted: the leftmost one
        ("127.0.0.1", "10.0.0.1, 10.0.0.2", None, "10.0.0.1"),
        # garbage stops the walk at the last good address
        ("127.0.0.1", "1.1.1.1, garbage, 10.0.0.9", None, "10.0.0.9"),
        # CF-Connecting-IP from a trusted peer wins; invalid values fall back to the walk
        ("192.168.1.150", "9.9.9.9", "198.51.100.77", "198.51.100.77"),
        ("192.168.1.150", "9.9.9.9", "not-an-ip", "9.9.9.9"),
        ("127.0.0.1", None, "2001:db8::1", "2001:db8::1"),
        # IPv6 peers and bracketed values
        ("::1", "1.1.1.1", None, "::1"),
        ("127.0.0.1", "[2001:db8::5]:443", None, "2001:db8::5"),
        ("127.0.0.1", "198.51.100.3:5555", None, "198.51.100.3"),
    ],
)
def test_client_address(peer: str, xff: str | None, cf: str | None, expected: str) -> None:
    assert POLICY.client_address(peer, xff, cf) == expected


def test_trusted_peer() -> None:
    assert POLICY.trusted_peer("127.0.0.1")
    assert not POLICY.trusted_peer("127.0.0.2")
    assert not POLICY.trusted_peer("")


def test_no_trusted_proxies_trusts_nobody() -> None:
    nobody = ClientAddressPolicy.from_networks([])
    assert nobody.client_address("127.0.0.1", "1.2.3.4", "5.6.7.8") == "127.0.0.1"
