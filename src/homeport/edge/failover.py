"""``homeport failover standby|home``: flip hostnames between the tunnel and the Pages standby.

For every hostname of the chosen environments, its CNAME points at ``<project>.pages.dev``
(standby) or ``<tunnel-id>.cfargotunnel.com`` (home), proxied, one DNS batch per zone. Planning
is pure (``plan_failover``); ``run_failover`` checks first (the Pages project and its custom
domains active before standby, the tunnel healthy before home, unless forced), applies, asks Pages
to validate the domains again after going to standby, and reads back where each hostname points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from homeport.edge import normalize
from homeport.edge.apply import DnsOp, run_batch
from homeport.edge.cloudflare import CloudflareApi
from homeport.edge.desired import STANDBY_COMMENT, owned_comment, pages_target, tunnel_target
from homeport.edge.errors import EdgeError, FailoverRefused
from homeport.edge.state import Record
from homeport.model.edge import Edge

Direction = Literal["standby", "home"]

DEACTIVATION_WARNING = (
    "Cloudflare deactivates a Pages custom domain whose DNS points elsewhere for a while; "
    "homeport asks Pages to validate each domain again when it goes to standby"
)


@dataclass(frozen=True)
class Flip:
    """One hostname's planned move (``op`` is None when it already points there)."""

    hostname: str
    zone: str
    target: str
    op: DnsOp | None


@dataclass
class FailoverReport:
    """What a failover changed, where each hostname points now, and what to know."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    points_to: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def environments(edge: Edge, scope: str) -> list[str]:
    """The environments ``scope`` names (``both``: all of them)."""
    if edge.failover is None:
        raise EdgeError("the edge section has no failover: add failover.standby and hostnames")
    known = sorted(edge.failover.hostnames)
    if scope == "both":
        return known
    if scope not in known:
        raise EdgeError(
            f"failover has no hostnames for {scope!r}; edge.failover.hostnames has {known}"
        )
    return [scope]


def zone_of(hostname: str, zones: list[str]) -> str:
    """The zone of the file that holds ``hostname`` (the longest suffix)."""
    matches = [z for z in zones if hostname == z or hostname.endswith("." + z)]
    if not matches:
        raise EdgeError(f"failover hostname {hostname} is in none of the file's zones {zones}")
    return max(matches, key=len)


def plan_flip(hostname: str, zone: str, target: str, comment: str, records: list[Record]) -> Flip:
    """The change that makes ``hostname`` a proxied CNAME to ``target`` (pure)."""
    cnames = [r for r in records if r.type == "CNAME"]
    others = [r for r in records if r.type != "CNAME"]
    if others:
        kinds = ", ".join(sorted({r.type for r in others}))
        raise FailoverRefused(
            f"{hostname} has {kinds} records; a CNAME cannot share its name. Remove them first"
        )
    body = {"name": hostname, "type": "CNAME", "content": target, "proxied": True, "ttl": 1,
            "comment": comment}  # fmt: skip
    if not cnames:
        return Flip(hostname, zone, target, DnsOp("post", f"create {hostname} CNAME", body))
    current = cnames[0]
    if current.content == target and current.proxied and current.comment == comment:
        return Flip(hostname, zone, target, None)
    op = DnsOp("patch", f"update {hostname} CNAME", {"id": current.id, **body})
    return Flip(hostname, zone, target, op)


def _file_comment(edge: Edge, zone: str, hostname: str) -> str:
    for name, section in edge.zones.items():
        if normalize.hostname(name) != zone:
            continue
        for entry in section.records:
            if normalize.fqdn(entry.name, zone) == hostname and entry.type == "CNAME":
                return owned_comment(entry.comment)
    return owned_comment(None)


def check_standby(api: CloudflareApi, edge: Edge, hostnames: list[str]) -> None:
    """The Pages project exists and has every hostname as an active custom domain."""
    assert edge.failover is not None
    project = edge.failover.standby.pages_project
    if api.pages_project(edge.account_id, project) is None:
        raise FailoverRefused(
            f"Pages project {project} does not exist; create it (or pass --force)"
        )
    domains = {d.get("name"): d for d in api.pages_domains(edge.account_id, project)}
    for hostname in hostnames:
        domain = domains.get(hostname)
        if domain is None:
            raise FailoverRefused(
                f"{hostname} is not a custom domain of Pages project {project}; add it in Pages "
                "first (or pass --force)"
            )
        if domain.get("status") != "active":
            raise FailoverRefused(
                f"{hostname} on Pages project {project} is {domain.get('status')}, not active; "
                "the standby would not serve it (pass --force to go anyway)"
            )


def check_home(api: CloudflareApi, edge: Edge) -> None:
    """The tunnel is healthy and has connections."""
    tunnel: dict[str, Any] = api.tunnel(edge.account_id, edge.tunnel.id)
    connections = tunnel.get("connections") or []
    if tunnel.get("status") != "healthy" or not connections:
        raise FailoverRefused(
            f"tunnel {edge.tunnel.id} is {tunnel.get('status')} with {len(connections)} "
            "connections; start cloudflared first, or pass --force"
        )


def run_failover(
    api: CloudflareApi, edge: Edge, direction: Direction, scope: str, *, force: bool = False
) -> FailoverReport:
    """Move every hostname of ``scope`` to ``direction``; idempotent."""
    envs = environments(edge, scope)
    if edge.failover is None:  # environments() has refused already; this narrows the type
        raise EdgeError("the edge section has no failover")
    zones = [normalize.hostname(z) for z in edge.zones]
    hostnames = sorted(
        {normalize.hostname(h) for env in envs for h in edge.failover.hostnames[env]}
    )
    project = edge.failover.standby.pages_project
    if not force:
        if direction == "standby":
            check_standby(api, edge, hostnames)
        else:
            check_home(api, edge)
    report = FailoverReport(warnings=[DEACTIVATION_WARNING])
    zone_ids: dict[str, str] = {}
    batches: dict[str, list[DnsOp]] = {}
    for hostname in hostnames:
        zone = zone_of(hostname, zones)
        if zone not in zone_ids:
            found = api.zone(zone)
            if found is None:
                raise EdgeError(f"zone {zone} is not visible to the API token")
            zone_ids[zone] = str(found["id"])
        records = [
            normalize.api_record(zone, r) for r in api.dns_find(zone_ids[zone], zone, hostname)
        ]
        if direction == "standby":
            target, comment = pages_target(project), STANDBY_COMMENT
        else:
            target, comment = tunnel_target(edge.tunnel.id), _file_comment(edge, zone, hostname)
        flip = plan_flip(hostname, zone, target, comment, records)
        if flip.op is None:
            report.unchanged.append(hostname)
        else:
            batches.setdefault(zone, []).append(flip.op)
            report.changed.append(hostname)
    for zone, ops in sorted(batches.items()):
        run_batch(api, zone_ids[zone], zone, ops)
    if direction == "standby":
        domains = {d.get("name") for d in api.pages_domains(edge.account_id, project)}
        for hostname in hostnames:
            if hostname in domains:
                api.retry_pages_domain(edge.account_id, project, hostname)
    for hostname in hostnames:
        zone = zone_of(hostname, zones)
        live = api.dns_find(zone_ids[zone], zone, hostname)
        cnames = [r for r in live if r.get("type") == "CNAME"]
        report.points_to[hostname] = str(cnames[0].get("content")) if cnames else "(no CNAME)"
    return report
