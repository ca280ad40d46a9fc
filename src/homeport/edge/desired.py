"""The edge as the platform file asks for it: a pure function of the ``edge:`` section."""

from __future__ import annotations

from homeport.edge import normalize
from homeport.edge.state import MARKER, RULE_REF_PREFIX, DesiredEdge, DesiredZone, Record, Rule
from homeport.model.edge import DnsRecord, Edge, WafRule, Zone

STANDBY_COMMENT = f"{MARKER} failover standby"


def owned_comment(comment: str | None) -> str:
    """The comment homeport writes: its marker, then the file's comment if any."""
    return f"{MARKER} {comment}" if comment else f"{MARKER} managed"


def desired_record(zone: str, entry: DnsRecord) -> Record:
    """One record of the file, normalised and marked as homeport's."""
    return normalize.record(
        zone,
        name=entry.name,
        type=entry.type,
        content_value=entry.content,
        proxied=entry.proxied,
        ttl=entry.ttl,
        priority=entry.priority,
        comment=owned_comment(entry.comment),
    )


def desired_rule(entry: WafRule) -> Rule:
    """One WAF rule of the file, with homeport's ref."""
    return Rule(
        ref=f"{RULE_REF_PREFIX}{entry.name}",
        expression=entry.expression.strip(),
        action=entry.action,
        description=entry.description or entry.name,
        enabled=entry.enabled,
    )


def desired_zone(name: str, zone: Zone) -> DesiredZone:
    """One zone of the file."""
    zone_name = normalize.hostname(name)
    return DesiredZone(
        name=zone_name,
        plan=zone.plan,
        records=[desired_record(zone_name, entry) for entry in zone.records],
        rules=[desired_rule(entry) for entry in zone.waf],
        settings={key: normalize.setting_value(value) for key, value in zone.settings.items()},
    )


def desired_edge(edge: Edge, only_zone: str | None = None) -> DesiredEdge:
    """The whole desired edge; ``only_zone`` keeps one zone (the tunnel is then left out)."""
    zones = {
        normalize.hostname(name): desired_zone(name, zone)
        for name, zone in edge.zones.items()
        if only_zone is None or normalize.hostname(name) == normalize.hostname(only_zone)
    }
    ingress = None
    if edge.ingress and only_zone is None:
        ingress = [
            normalize.ingress_rule(rule.model_dump(by_alias=True, exclude_none=True))
            for rule in edge.ingress
        ]
    hostnames: set[str] = set()
    if edge.failover is not None:
        for names in edge.failover.hostnames.values():
            hostnames.update(normalize.hostname(name) for name in names)
    return DesiredEdge(
        account_id=edge.account_id,
        tunnel_id=edge.tunnel.id,
        tunnel_name=edge.tunnel.name,
        ingress=ingress,
        zones=zones,
        failover_hostnames=frozenset(hostnames),
    )


def cname_clashes(zone: DesiredZone) -> list[str]:
    """Names where the file puts a CNAME beside other records (Cloudflare refuses them)."""
    types: dict[str, set[str]] = {}
    for record in zone.records:
        types.setdefault(record.name, set()).add(record.type)
    return [
        f"{zone.name}: {name} has a CNAME and {', '.join(sorted(kinds - {'CNAME'}))} records; "
        "Cloudflare refuses other records beside a CNAME: move them to another name"
        for name, kinds in sorted(types.items())
        if "CNAME" in kinds and len(kinds) > 1
    ]


def tunnel_target(tunnel_id: str) -> str:
    """Where a hostname served by the tunnel points."""
    return f"{tunnel_id}.cfargotunnel.com"


def pages_target(project: str) -> str:
    """Where a hostname served by the Pages standby points."""
    return f"{project}.pages.dev"
