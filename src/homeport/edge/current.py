"""Read the edge as Cloudflare has it now, with as few calls as possible.

Per zone: one lookup by name, the DNS records in pages of 5,000, the custom-rules entrypoint, and
(only when the file sets any) all the settings in one call. The tunnel's configuration in one call.
"""

from __future__ import annotations

from typing import Any

from homeport.edge import normalize
from homeport.edge.cloudflare import CloudflareApi
from homeport.edge.errors import EdgeError
from homeport.edge.state import (
    WAF_PHASE,
    CurrentEdge,
    CurrentTunnel,
    CurrentZone,
    DesiredEdge,
    Rule,
    Setting,
)


def zone_plan(zone: dict[str, Any]) -> str:
    """``free``, ``pro``... from the zone's ``plan`` object."""
    plan = zone.get("plan") or {}
    if isinstance(plan, dict):
        return str(plan.get("legacy_id") or plan.get("id") or "free")
    return str(plan)


def api_rule(data: dict[str, Any]) -> Rule:
    """A Rule from Cloudflare's JSON for one ruleset rule."""
    return Rule(
        ref=str(data.get("ref") or data.get("id") or ""),
        expression=str(data.get("expression", "")).strip(),
        action=str(data.get("action", "")),
        description=str(data.get("description") or ""),
        enabled=bool(data.get("enabled", True)),
        id=data.get("id"),
    )


def read_zone(
    api: CloudflareApi, name: str, *, with_settings: bool = True, records: bool = True
) -> CurrentZone:
    """One zone: its id and plan, records, custom WAF rules and (optionally) settings."""
    found = api.zone(name)
    if found is None:
        raise EdgeError(
            f"zone {name} is not visible to the API token; check the zone name in the file and "
            "that the token has Zone:Read on it"
        )
    zone = CurrentZone(name=name, id=str(found["id"]), plan=zone_plan(found))
    if records:
        zone.records = [normalize.api_record(name, r) for r in api.dns_records(zone.id, name)]
    ruleset = api.waf_entrypoint(zone.id, name, WAF_PHASE)
    if ruleset is not None:
        zone.ruleset_id = ruleset.get("id")
        zone.raw_rules = list(ruleset.get("rules") or [])
        zone.rules = [api_rule(rule) for rule in zone.raw_rules]
    if with_settings:
        zone.settings = {
            str(s["id"]): Setting(
                normalize.setting_value(s.get("value")), bool(s.get("editable", True))
            )
            for s in api.settings(zone.id, name)
        }
    return zone


def read_tunnel(api: CloudflareApi, account_id: str, tunnel_id: str) -> CurrentTunnel:
    """The tunnel's configuration, normalised, with the version it was read at."""
    body = api.tunnel_config(account_id, tunnel_id)
    config = body.get("config") or {}
    return CurrentTunnel(
        id=tunnel_id,
        name=None,
        ingress=[normalize.ingress_rule(rule) for rule in config.get("ingress") or []],
        version=int(body.get("version") or 0),
        raw_config=config,
    )


def read_current(api: CloudflareApi, desired: DesiredEdge) -> CurrentEdge:
    """Everything the desired edge mentions, as Cloudflare has it now."""
    zones = {
        name: read_zone(api, name, with_settings=bool(zone.settings))
        for name, zone in desired.zones.items()
    }
    tunnel = None
    if desired.ingress is not None:
        tunnel = read_tunnel(api, desired.account_id, desired.tunnel_id)
    return CurrentEdge(zones=zones, tunnel=tunnel)
