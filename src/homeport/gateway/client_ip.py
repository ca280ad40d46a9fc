"""The visitor's address: never the leftmost X-Forwarded-For value on faith.

The connecting peer is the only address nobody can forge. When it is a trusted proxy, the
address it vouches for is believed: ``CF-Connecting-IP`` when present, else X-Forwarded-For walked
from right to left, skipping trusted proxies, stopping at the first address not trusted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Network = IPv4Network | IPv6Network
PEERS_REMEMBERED = 4096
Address = IPv4Address | IPv6Address


def parse_address(text: str) -> Address | None:
    """An IP address from a header value (spaces, brackets and an IPv4 port tolerated), or None."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class ClientAddressPolicy:
    """Which peers are trusted proxies; resolves the visitor's address for one request."""

    trusted: tuple[Network, ...]
    _peers: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_networks(cls, networks: Iterable[Network]) -> ClientAddressPolicy:
        """A policy trusting exactly ``networks``."""
        return cls(tuple(networks))

    def is_trusted(self, address: Address) -> bool:
        """True when ``address`` is inside a trusted proxy network."""
        return _is_trusted(self.trusted, address)

    def trusted_peer(self, peer: str) -> bool:
        """True when the connecting peer's address (text) is a trusted proxy."""
        trusted = self._peers.get(peer)
        if trusted is None:
            if len(self._peers) >= PEERS_REMEMBERED:
                self._peers.clear()
            trusted = self._peers[peer] = _peer_trusted(self.trusted, peer)
        return trusted

    def client_address(
        self, peer: str, forwarded_for: str | None, cf_connecting_ip: str | None
    ) -> str:
        """The visitor's address for a request from ``peer`` with those headers."""
        if not (forwarded_for or cf_connecting_ip) or not self.trusted_peer(peer):
            return peer
        peer_address = parse_address(peer)
        if peer_address is None:
            return peer
        if cf_connecting_ip:
            vouched = parse_address(cf_connecting_ip)
            if vouched is not None:
                return str(vouched)
        current = peer_address
        for hop in reversed((forwarded_for or "").split(",")):
            if not hop.strip():
                continue
            address = parse_address(hop)
            if address is None:
                break
            current = address
            if not self.is_trusted(address):
                break
        return str(current)


@lru_cache(maxsize=4096)
def _is_trusted(trusted: tuple[Network, ...], address: Address) -> bool:
    return any(address in network for network in trusted if network.version == address.version)


def _peer_trusted(trusted: tuple[Network, ...], peer: str) -> bool:
    address = parse_address(peer)
    return address is not None and _is_trusted(trusted, address)
