"""The edge plan: a sorted, printable, checksummed value of Create, Update and Delete changes.

A plan never does anything. ``diff.plan_edge`` computes it from desired and current state; the
CLI prints it (``render``) or serialises it (``Plan.to_json``); ``apply`` carries it out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Resource = Literal["tunnel", "dns", "waf", "setting"]
RESOURCE_ORDER: dict[str, int] = {"tunnel": 0, "dns": 1, "waf": 2, "setting": 3}
KIND_ORDER: dict[str, int] = {"delete": 0, "update": 1, "create": 2}


@dataclass(frozen=True)
class FieldDiff:
    """One field that an Update changes."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Create:
    """Something the file has and Cloudflare does not."""

    resource: Resource
    zone: str
    key: str
    after: Mapping[str, Any]
    kind: Literal["create"] = "create"

    @property
    def id(self) -> None:
        """Creates have no id yet."""
        return None


@dataclass(frozen=True)
class Update:
    """Something both have, with different fields."""

    resource: Resource
    zone: str
    key: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    id: str | None = None
    kind: Literal["update"] = "update"

    def diff(self) -> list[FieldDiff]:
        """The fields that change, in a stable order."""
        names = sorted(set(self.before) | set(self.after), key=_natural)
        return [
            FieldDiff(name, self.before.get(name), self.after.get(name))
            for name in names
            if self.before.get(name) != self.after.get(name)
        ]


@dataclass(frozen=True)
class Delete:
    """Something homeport owns on Cloudflare that the file no longer has."""

    resource: Resource
    zone: str
    key: str
    before: Mapping[str, Any]
    id: str | None = None
    kind: Literal["delete"] = "delete"


Change = Create | Update | Delete


def _natural(name: str) -> list[Any]:
    """``ingress[2]`` before ``ingress[10]``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class Conflict:
    """Something the file has that exists on Cloudflare without homeport's ownership mark."""

    resource: Resource
    zone: str
    key: str
    reason: str
    id: str | None = None
    matches: bool = False


def sort_key(change: Change | Conflict) -> tuple[str, int, int, str]:
    """Zones in name order, the tunnel first, deletes before updates before creates."""
    kind = change.kind if not isinstance(change, Conflict) else "update"
    return (change.zone, RESOURCE_ORDER[change.resource], KIND_ORDER[kind], change.key)


@dataclass(frozen=True)
class Plan:
    """Every change the edge needs, plus what was left alone and why."""

    changes: tuple[Change, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    warnings: tuple[str, ...] = ()
    tunnel_id: str | None = None
    tunnel_version: int | None = None
    owned_records: Mapping[str, int] = field(default_factory=dict)
    zone_ids: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        changes: list[Change],
        conflicts: list[Conflict],
        warnings: list[str],
        **context: Any,
    ) -> Plan:
        """A plan with its changes and conflicts sorted."""
        return cls(
            changes=tuple(sorted(changes, key=sort_key)),
            conflicts=tuple(sorted(conflicts, key=sort_key)),
            warnings=tuple(warnings),
            **context,
        )

    @property
    def has_changes(self) -> bool:
        """True when applying would change anything on Cloudflare."""
        return bool(self.changes)

    def select(self, zone: str | None = None, resource: str | None = None) -> Iterator[Change]:
        """The changes of one zone and/or one resource kind, in plan order."""
        for change in self.changes:
            if (zone is None or change.zone == zone) and (
                resource is None or change.resource == resource
            ):
                yield change

    def zones(self) -> list[str]:
        """The zones with changes, in order (the tunnel's empty zone excluded)."""
        return sorted({change.zone for change in self.changes if change.zone})

    def counts(self) -> dict[str, int]:
        """How many creates, updates and deletes."""
        out = {"create": 0, "update": 0, "delete": 0}
        for change in self.changes:
            out[change.kind] += 1
        return out

    @property
    def checksum(self) -> str:
        """SHA-256 of the changes and the tunnel version they were planned against."""
        body = json.dumps(
            {
                "changes": [change_json(change) for change in self.changes],
                "tunnel_version": self.tunnel_version,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON-ready data (what ``--json`` prints)."""
        return {
            "checksum": self.checksum,
            "has_changes": self.has_changes,
            "counts": self.counts(),
            "tunnel": {"id": self.tunnel_id, "version": self.tunnel_version},
            "changes": [change_json(change) for change in self.changes],
            "conflicts": [
                {
                    "resource": c.resource,
                    "zone": c.zone,
                    "key": c.key,
                    "reason": c.reason,
                    "id": c.id,
                    "matches": c.matches,
                }
                for c in self.conflicts
            ],
            "warnings": list(self.warnings),
        }


def change_json(change: Change) -> dict[str, Any]:
    """One change as JSON-ready data."""
    data: dict[str, Any] = {
        "kind": change.kind,
        "resource": change.resource,
        "zone": change.zone,
        "key": change.key,
        "id": change.id,
    }
    if isinstance(change, Update):
        data["before"] = dict(change.before)
        data["after"] = dict(change.after)
        data["diff"] = [
            {"field": d.field, "before": d.before, "after": d.after} for d in change.diff()
        ]
    elif isinstance(change, Create):
        data["after"] = dict(change.after)
    else:
        data["before"] = dict(change.before)
    return data
