"""CORS across zones: the gateway must allow the front ends of every zone it serves."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from homeport.doctor import Finding, check, finding
from homeport.doctor.names import normalize, wildcard_covers
from homeport.model import LoadedPlatform


def origin_hosts(origins: list[str]) -> set[str]:
    """The hostnames of CORS origins (``https://a.example.com`` -> ``a.example.com``)."""
    hosts = set()
    for origin in origins:
        text = origin.strip()
        if text == "*":
            hosts.add("*")
            continue
        try:
            host = urlsplit(text if "://" in text else f"//{text}").hostname
        except ValueError:
            continue
        if host:
            hosts.add(normalize(host))
    return hosts


def covered(hostname: str, hosts: set[str]) -> bool:
    """True when an origin host (exact, ``*`` or ``*.parent``) allows ``hostname``."""
    if "*" in hosts or normalize(hostname) in hosts:
        return True
    return any(wildcard_covers(h, hostname) for h in hosts if h.startswith("*."))


@check("cors-zone-missing")
def cors_covers_every_zone(loaded: LoadedPlatform) -> Iterator[Finding]:
    """The gateway's CORS origins include the front ends (or apex) of every zone."""
    platform = loaded.platform
    if platform.gateway is None or platform.edge is None:
        return
    hosts = origin_hosts(platform.gateway.cors.origins)
    for zone, body in platform.edge.zones.items():
        frontends = body.frontends or [zone]
        missing = [name for name in frontends if not covered(name, hosts)]
        if not missing:
            continue
        yield finding(
            loaded,
            ("gateway", "cors", "origins"),
            severity="warning",
            check_id="cors-zone-missing",
            message=f"the CORS origins leave out zone {zone} ({', '.join(missing)}); browsers "
            "on it cannot call the API",
            fix="add " + ", ".join(f"https://{name}" for name in missing) + " to gateway.cors",
        )
