"""Compute the plan: a pure function of the desired and the current edge.

Ownership decides what may change: homeport updates or deletes only records whose comment starts
with its marker and WAF rules whose ref starts with its prefix. Something in the file that exists
unmarked is a Conflict, left alone unless ``adopt``. The tunnel configuration is owned whole.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from homeport.edge.desired import STANDBY_COMMENT, cname_clashes
from homeport.edge.plan import Change, Conflict, Create, Delete, Plan, Update
from homeport.edge.state import (
    CurrentEdge,
    CurrentTunnel,
    CurrentZone,
    DesiredEdge,
    DesiredZone,
    Record,
)

SINGLE_VALUED = frozenset({"A", "AAAA", "CNAME"})
"""Types where an unowned record at the same name blocks ours (a second value would be served)."""


def plan_edge(desired: DesiredEdge, current: CurrentEdge, *, adopt: bool = False) -> Plan:
    """The changes that make ``current`` match ``desired``, touching only what homeport owns."""
    changes: list[Change] = []
    conflicts: list[Conflict] = []
    warnings: list[str] = []
    owned: dict[str, int] = {}
    for name, want in desired.zones.items():
        have = current.zones.get(name)
        if have is None:
            warnings.append(f"zone {name} is not in the Cloudflare account; add it first")
            continue
        owned[name] = sum(1 for record in have.records if record.owned)
        warnings.extend(cname_clashes(want))
        plan_records(
            want,
            have,
            failover=desired.failover_hostnames,
            adopt=adopt,
            changes=changes,
            conflicts=conflicts,
            warnings=warnings,
        )
        plan_rules(want, have, adopt, changes, conflicts)
        plan_settings(want, have, changes, warnings)
    if desired.ingress is not None:
        changes.extend(plan_tunnel(desired, current.tunnel))
    return Plan.build(
        changes,
        conflicts,
        warnings,
        tunnel_id=desired.tunnel_id,
        tunnel_version=current.tunnel.version if current.tunnel else None,
        owned_records=owned,
        zone_ids={name: zone.id for name, zone in current.zones.items()},
    )


def _compared(record: Record) -> dict[str, Any]:
    data = record.fields()
    del data["name"], data["type"]
    return data


def _pair(
    zone: str,
    want: Record,
    have: Record,
    failover: frozenset[str],
    warnings: list[str],
) -> Change | None:
    if _compared(want) == _compared(have):
        return None
    if have.comment == STANDBY_COMMENT and have.name in failover and have.type == "CNAME":
        warnings.append(
            f"{have.name} points at the standby (homeport failover standby); "
            "run 'homeport failover home' to move it back"
        )
        return None
    return Update("dns", zone, want.key, _compared(have), _compared(want), id=have.id)


def plan_records(
    want: DesiredZone,
    have: CurrentZone,
    *,
    failover: frozenset[str],
    adopt: bool,
    changes: list[Change],
    conflicts: list[Conflict],
    warnings: list[str],
) -> None:
    """DNS changes of one zone, paired within each ``name TYPE`` group."""
    desired: dict[str, list[Record]] = defaultdict(list)
    for record in want.records:
        desired[record.key].append(record)
    current: dict[str, list[Record]] = defaultdict(list)
    names_with: dict[str, set[str]] = defaultdict(set)
    for record in have.records:
        current[record.key].append(record)
        if not record.owned:
            names_with[record.name].add(record.type)
    zone = want.name
    for key in sorted(set(desired) | set(current)):
        wanted = sorted(desired.get(key, []), key=lambda r: (r.content, r.priority or 0))
        present = current.get(key, [])
        mine = sorted((r for r in present if r.owned), key=lambda r: (r.content, r.id or ""))
        theirs = [r for r in present if not r.owned]
        leftover: list[Record] = []
        for record in wanted:
            match = next((r for r in mine if r.content == record.content), None)
            if match is not None:
                mine.remove(match)
                _append(changes, _pair(zone, record, match, failover, warnings))
                continue
            match = next((r for r in theirs if r.content == record.content), None)
            if match is not None:
                theirs.remove(match)
                _claim(zone, record, match, adopt=adopt, changes=changes, conflicts=conflicts)
                continue
            leftover.append(record)
        for record in leftover:
            if mine:
                _append(changes, _pair(zone, record, mine.pop(0), failover, warnings))
            elif theirs and record.type in SINGLE_VALUED:
                _claim(
                    zone, record, theirs.pop(0), adopt=adopt, changes=changes, conflicts=conflicts
                )
            elif _blocked(record, names_with[record.name]):
                conflicts.append(
                    Conflict(
                        "dns",
                        zone,
                        record.key,
                        "a CNAME cannot share its name with other records that homeport "
                        "does not own",
                    )
                )
            else:
                changes.append(Create("dns", zone, record.key, _compared(record)))
        for record in mine:
            changes.append(Delete("dns", zone, record.key, _compared(record), id=record.id))


def _blocked(record: Record, types_at_name: set[str]) -> bool:
    others = types_at_name - {record.type}
    return bool(others) and (record.type == "CNAME" or "CNAME" in others)


def _claim(
    zone: str,
    want: Record,
    have: Record,
    *,
    adopt: bool,
    changes: list[Change],
    conflicts: list[Conflict],
) -> None:
    if adopt:
        changes.append(Update("dns", zone, want.key, _compared(have), _compared(want), id=have.id))
        return
    same = {k: v for k, v in _compared(want).items() if k != "comment"} == {
        k: v for k, v in _compared(have).items() if k != "comment"
    }
    reason = "exists without the homeport marker" + (
        " (same value)" if same else f" with content {have.content}"
    )
    conflicts.append(Conflict("dns", zone, want.key, reason, id=have.id, matches=same))


def _append(changes: list[Change], change: Change | None) -> None:
    if change is not None:
        changes.append(change)


def plan_rules(
    want: DesiredZone,
    have: CurrentZone,
    adopt: bool,
    changes: list[Change],
    conflicts: list[Conflict],
) -> None:
    """WAF custom-rule changes of one zone, matched by ref."""
    zone = want.name
    mine = {rule.ref: rule for rule in have.rules if rule.owned}
    theirs = [rule for rule in have.rules if not rule.owned]
    for rule in want.rules:
        existing = mine.pop(rule.ref, None)
        if existing is not None:
            if existing.fields() != rule.fields():
                changes.append(
                    Update("waf", zone, rule.ref, existing.fields(), rule.fields(), id=existing.id)
                )
            continue
        short = rule.ref.split(":", 1)[1]
        other = next(
            (r for r in theirs if r.ref == short or r.expression == rule.expression),
            None,
        )
        if other is None:
            changes.append(Create("waf", zone, rule.ref, rule.fields()))
        elif adopt:
            changes.append(
                Update("waf", zone, rule.ref, other.fields(), rule.fields(), id=other.id)
            )
        else:
            same = (other.expression, other.action, other.enabled) == (
                rule.expression,
                rule.action,
                rule.enabled,
            )
            conflicts.append(
                Conflict(
                    "waf",
                    zone,
                    rule.ref,
                    "a rule homeport does not own has this name or expression",
                    id=other.id,
                    matches=same,
                )
            )
    for ref, rule in sorted(mine.items()):
        changes.append(Delete("waf", zone, ref, rule.fields(), id=rule.id))


def plan_settings(
    want: DesiredZone, have: CurrentZone, changes: list[Change], warnings: list[str]
) -> None:
    """Zone-setting changes; settings the plan cannot change are skipped with a warning."""
    for name, value in sorted(want.settings.items()):
        setting = have.settings.get(name)
        if setting is None:
            warnings.append(f"{want.name}: Cloudflare has no zone setting {name!r}; check its name")
            continue
        if setting.value == value:
            continue
        if not setting.editable:
            warnings.append(
                f"{want.name}: setting {name} is not editable on this zone's plan; "
                f"left at {setting.value!r}"
            )
            continue
        changes.append(
            Update("setting", want.name, name, {"value": setting.value}, {"value": value})
        )


def plan_tunnel(desired: DesiredEdge, tunnel: CurrentTunnel | None) -> list[Change]:
    """The tunnel configuration, owned whole: one Update when its ingress differs."""
    ingress = desired.ingress or []
    before = tunnel.ingress if tunnel else []
    if before == ingress:
        return []
    diff_before = {f"ingress[{i}]": rule for i, rule in enumerate(before)}
    diff_after = {f"ingress[{i}]": rule for i, rule in enumerate(ingress)}
    return [Update("tunnel", "", desired.tunnel_id, diff_before, diff_after, id=desired.tunnel_id)]
