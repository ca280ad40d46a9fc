"""DNS for the tunnel: every ingress hostname has a proxied CNAME to the tunnel, and back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from homeport.doctor import Finding, check, finding
from homeport.doctor.ingress import wildcard_problem
from homeport.doctor.names import (
    depth_below,
    is_tunnel_target,
    normalize,
    record_fqdn,
    tunnel_target,
    wildcard_covers,
    zone_of,
)
from homeport.model import DnsRecord, LoadedPlatform

PROXIABLE_TYPES = ("A", "AAAA", "CNAME")


@dataclass(frozen=True)
class PlacedRecord:
    """A DNS record with its zone, its index in the zone and its fully qualified name."""

    zone: str
    index: int
    fqdn: str
    record: DnsRecord

    @property
    def path(self) -> tuple[str | int, ...]:
        """Where the record stands in the platform file."""
        return ("edge", "zones", self.zone, "records", self.index)


def placed_records(loaded: LoadedPlatform) -> list[PlacedRecord]:
    """Every record of every zone, with its fully qualified name."""
    edge = loaded.platform.edge
    if edge is None:
        return []
    placed: list[PlacedRecord] = []
    for zone, body in edge.zones.items():
        apex = normalize(zone)
        placed.extend(
            PlacedRecord(zone, index, record_fqdn(record.name, apex), record)
            for index, record in enumerate(body.records)
        )
    return placed


def _tunnel_cnames(loaded: LoadedPlatform) -> Iterator[PlacedRecord]:
    for placed in placed_records(loaded):
        if placed.record.type == "CNAME" and is_tunnel_target(placed.record.content):
            yield placed


@check("tunnel-dns-missing")
def ingress_hostnames_have_cnames(loaded: LoadedPlatform) -> Iterator[Finding]:
    """Every ingress hostname has, in its zone, a CNAME to ``<tunnel-id>.cfargotunnel.com``."""
    edge = loaded.platform.edge
    if edge is None:
        return
    target = tunnel_target(edge.tunnel.id)
    zones = {normalize(name): name for name in edge.zones}
    by_name: dict[str, list[PlacedRecord]] = {}
    for placed in placed_records(loaded):
        by_name.setdefault(placed.fqdn, []).append(placed)
    for index, rule in enumerate(edge.ingress):
        if rule.hostname is None or rule.hostname.strip() == "*":
            continue
        hostname = normalize(rule.hostname)
        if wildcard_problem(hostname):
            continue  # ingress-wildcard reports it; no record can route such a name
        path = ("edge", "ingress", index, "hostname")
        zone = zone_of(hostname, zones)
        if zone is None:
            yield finding(
                loaded,
                path,
                severity="error",
                check_id="tunnel-dns-missing",
                message=f"ingress hostname '{hostname}' is in no zone of edge.zones, so nothing "
                "routes it to the tunnel",
                fix=f"add its zone to edge.zones with a proxied CNAME to {target}",
            )
            continue
        records = [p.record for p in by_name.get(hostname, []) if p.record.type == "CNAME"]
        if any(is_tunnel_target(r.content) for r in records):
            continue  # ours, or another tunnel's, which tunnel-dns-orphan reports
        elsewhere = f" (its CNAME points to '{records[0].content}')" if records else ""
        yield finding(
            loaded,
            path,
            severity="error",
            check_id="tunnel-dns-missing",
            message=f"ingress hostname '{hostname}' has no CNAME to the tunnel in zone "
            f"{zones[zone]}{elsewhere}; requests for it never reach the tunnel",
            fix=f"add {{name: {_relative(hostname, zone)}, type: CNAME, content: {target}, "
            f"proxied: true}} to edge.zones.{zones[zone]}.records",
        )


def _relative(hostname: str, zone: str) -> str:
    return "'@'" if hostname == zone else hostname.removesuffix(f".{zone}")


@check("tunnel-dns-orphan")
def tunnel_cnames_have_rules(loaded: LoadedPlatform) -> Iterator[Finding]:
    """Every CNAME to the tunnel has an ingress rule (else it serves the catch-all)."""
    edge = loaded.platform.edge
    if edge is None:
        return
    target = tunnel_target(edge.tunnel.id)
    exact = {normalize(r.hostname) for r in edge.ingress if r.hostname}
    wildcards = [h for h in exact if h.startswith("*.")]
    for placed in _tunnel_cnames(loaded):
        content = normalize(placed.record.content)
        if content != target:
            yield finding(
                loaded,
                (*placed.path, "content"),
                severity="error",
                check_id="tunnel-dns-orphan",
                message=f"'{placed.fqdn}' points to tunnel '{content}', not to this platform's "
                f"tunnel {target}",
                fix=f"point it to {target}, or remove the record",
            )
        elif placed.fqdn not in exact and not any(
            wildcard_covers(w, placed.fqdn) for w in wildcards
        ):
            yield finding(
                loaded,
                placed.path,
                severity="error",
                check_id="tunnel-dns-orphan",
                message=f"'{placed.fqdn}' routes to the tunnel but no ingress rule names it, "
                "so it only ever gets the catch-all",
                fix=f"add {{hostname: {placed.fqdn}, service: ...}} to edge.ingress before the "
                "catch-all, or remove the record",
            )


@check("tunnel-cname-unproxied")
def tunnel_cnames_are_proxied(loaded: LoadedPlatform) -> Iterator[Finding]:
    """A CNAME to cfargotunnel.com must be proxied: the name does not resolve for anyone else."""
    for placed in _tunnel_cnames(loaded):
        if placed.record.proxied:
            continue
        yield finding(
            loaded,
            placed.path,
            severity="error",
            check_id="tunnel-cname-unproxied",
            message=f"the CNAME '{placed.fqdn}' to the tunnel is not proxied; "
            "cfargotunnel.com names resolve to nothing, so it is unreachable",
            fix="set proxied: true",
        )


@check("universal-ssl-depth")
def proxied_names_within_universal_ssl(loaded: LoadedPlatform) -> Iterator[Finding]:
    """Universal SSL covers the apex and one label below it; deeper proxied names get no cert."""
    for placed in placed_records(loaded):
        record = placed.record
        if not record.proxied or record.type not in PROXIABLE_TYPES:
            continue
        if depth_below(placed.fqdn, placed.zone) < 2:
            continue
        yield finding(
            loaded,
            placed.path,
            severity="warning",
            check_id="universal-ssl-depth",
            message=f"'{placed.fqdn}' is {depth_below(placed.fqdn, placed.zone)} labels below "
            f"zone {placed.zone}; Universal SSL covers only {placed.zone} and "
            f"*.{placed.zone}, so browsers get a TLS error",
            fix="use a name one label below the zone (e.g. a-b instead of a.b), "
            "or order an advanced certificate for it",
        )
