"""``homeport edge import``: what is live on Cloudflare, written as an ``edge:`` section.

An edge built by dashboard clicks moves into the file in one step. Records keep their comments
(without homeport's marker), rules their refs as names, settings their values; a plan right after
is empty: imported records and rules are reported as not yet homeport's (``--adopt`` marks them).
"""

from __future__ import annotations

import re
from typing import Any, get_args

from homeport.edge import normalize
from homeport.edge.cloudflare import CloudflareApi
from homeport.edge.current import read_tunnel, read_zone
from homeport.edge.state import MARKER, CurrentTunnel, CurrentZone, Record, Rule
from homeport.model.edge import WafAction

SECURITY_SETTINGS = (
    "always_use_https",
    "automatic_https_rewrites",
    "browser_check",
    "hotlink_protection",
    "min_tls_version",
    "opportunistic_encryption",
    "security_level",
    "ssl",
    "tls_1_3",
)
WAF_ACTIONS = frozenset(get_args(WafAction))


def _comment(comment: str | None) -> str | None:
    if comment is None or not comment.startswith(MARKER):
        return comment
    rest = comment[len(MARKER) :].strip()
    return None if rest in ("", "managed") else rest


def record_entry(zone: str, record: Record) -> dict[str, Any]:
    """One record as the platform file writes it (relative name, defaults left out)."""
    entry: dict[str, Any] = {
        "name": normalize.relative(record.name, zone),
        "type": record.type,
        "content": record.content,
    }
    if record.proxied:
        entry["proxied"] = True
    if record.ttl != 1:
        entry["ttl"] = record.ttl
    if record.priority is not None:
        entry["priority"] = record.priority
    comment = _comment(record.comment)
    if comment:
        entry["comment"] = comment
    return entry


def rule_name(rule: Rule) -> str:
    """The file's name for a live rule: its ref (homeport's prefix dropped), else a slug."""
    if rule.owned:
        return rule.ref.split(":", 1)[1]
    if rule.ref and rule.ref != rule.id:
        return rule.ref
    slug = re.sub(r"[^a-z0-9]+", "-", rule.description.lower()).strip("-")
    return slug or f"rule-{(rule.id or 'x')[:8]}"


def rule_entry(rule: Rule) -> dict[str, Any]:
    """One WAF rule as the platform file writes it."""
    entry: dict[str, Any] = {"name": rule_name(rule)}
    if rule.description and rule.description != entry["name"]:
        entry["description"] = rule.description
    entry["expression"] = rule.expression
    entry["action"] = rule.action
    if not rule.enabled:
        entry["enabled"] = False
    return entry


def zone_section(zone: CurrentZone) -> tuple[dict[str, Any], list[str]]:
    """One zone as the file writes it, and what could not be imported."""
    skipped: list[str] = []
    rules = []
    for rule in zone.rules:
        if rule.action in WAF_ACTIONS:
            rules.append(rule_entry(rule))
        else:
            skipped.append(f"{zone.name}: WAF rule {rule.ref} has action {rule.action}")
    settings = {
        name: setting.value
        for name, setting in sorted(zone.settings.items())
        if name in SECURITY_SETTINGS and setting.editable
    }
    records = sorted(zone.records, key=lambda r: (r.name != zone.name, r.name, r.type, r.content))
    section: dict[str, Any] = {"plan": zone.plan, "settings": settings}
    if rules:
        section["waf"] = rules
    section["records"] = [record_entry(zone.name, r) for r in records]
    return section, skipped


def tunnel_section(tunnel: CurrentTunnel) -> list[dict[str, Any]]:
    """The tunnel's ingress as the file writes it."""
    return [dict(rule) for rule in tunnel.ingress]


def import_edge(
    api: CloudflareApi,
    account_id: str,
    tunnel_id: str,
    zones: list[str],
    *,
    tunnel_name: str | None = None,
    keep: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The ``edge:`` section for what is live, and what was skipped (with why)."""
    skipped: list[str] = []
    section: dict[str, Any] = {"account_id": account_id, "tunnel": {"id": tunnel_id}}
    if tunnel_name:
        section["tunnel"]["name"] = tunnel_name
    section["ingress"] = tunnel_section(read_tunnel(api, account_id, tunnel_id))
    section["zones"] = {}
    for name in zones:
        zone, missed = zone_section(read_zone(api, normalize.hostname(name)))
        section["zones"][normalize.hostname(name)] = zone
        skipped.extend(missed)
    for key, value in (keep or {}).items():
        section.setdefault(key, value)
    return section, skipped
