"""DNS name arithmetic shared by the doctor's edge checks: zones, record names, tunnel targets."""

from __future__ import annotations

from collections.abc import Iterable

TUNNEL_DOMAIN = "cfargotunnel.com"


def normalize(name: str) -> str:
    """A hostname in canonical form: lowercase, without the trailing dot."""
    return name.strip().lower().rstrip(".")


def record_fqdn(name: str, zone: str) -> str:
    """The fully qualified name of a record written ``@``, relative (``www``) or absolute.

    ``zone`` is expected in canonical form (see ``normalize``).
    """
    name = name.strip()
    if name == "@":
        return zone
    fqdn = normalize(name)
    if name.endswith(".") or fqdn == zone or fqdn.endswith(f".{zone}"):
        return fqdn
    return f"{fqdn}.{zone}"


def zone_of(hostname: str, zones: Iterable[str]) -> str | None:
    """The zone holding ``hostname``: the longest zone name it ends with, or None.

    ``zones`` should be a set for speed; the walk is over the hostname's labels, not the zones.
    """
    known = zones if isinstance(zones, (set, frozenset, dict)) else set(zones)
    labels = normalize(hostname).split(".")
    for start in range(len(labels)):
        candidate = ".".join(labels[start:])
        if candidate in known:
            return candidate
    return None


def depth_below(hostname: str, zone: str) -> int:
    """How many labels ``hostname`` stands below ``zone`` (0 for the apex)."""
    return normalize(hostname).count(".") - normalize(zone).count(".")


def tunnel_target(tunnel_id: str) -> str:
    """The CNAME content that routes a hostname to tunnel ``tunnel_id``."""
    return f"{normalize(tunnel_id)}.{TUNNEL_DOMAIN}"


def is_tunnel_target(content: str) -> bool:
    """True when a CNAME points at some Cloudflare Tunnel."""
    return normalize(content).endswith(f".{TUNNEL_DOMAIN}")


def wildcard_covers(pattern: str, hostname: str) -> bool:
    """True when ``pattern`` (exact, or ``*.`` + suffix) matches ``hostname``, as in cloudflared."""
    pattern, hostname = normalize(pattern), normalize(hostname)
    if pattern == hostname:
        return True
    return pattern.startswith("*.") and hostname.endswith(pattern[1:])
