"""Plain values for the edge as it should be (desired) and as it is (current).

Both sides are normalised (see ``normalize``) before they are compared, so equal means equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MARKER = "homeport:"
"""Records whose comment starts with this are homeport's (fits the Free plan's 100 chars)."""

RULE_REF_PREFIX = "homeport:"
"""WAF rules whose ``ref`` starts with this are homeport's."""

WAF_PHASE = "http_request_firewall_custom"


@dataclass(frozen=True)
class Record:
    """One DNS record; ``id`` is None on the desired side."""

    name: str
    type: str
    content: str
    proxied: bool = False
    ttl: int = 1
    priority: int | None = None
    comment: str | None = None
    id: str | None = None

    @property
    def owned(self) -> bool:
        """True when homeport's marker starts the comment."""
        return (self.comment or "").startswith(MARKER)

    @property
    def key(self) -> str:
        """``name TYPE``: records are paired within this group."""
        return f"{self.name} {self.type}"

    def fields(self) -> dict[str, Any]:
        """The fields compared by a plan (not the id)."""
        data: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "content": self.content,
            "proxied": self.proxied,
            "ttl": self.ttl,
            "comment": self.comment,
        }
        if self.priority is not None:
            data["priority"] = self.priority
        return data


@dataclass(frozen=True)
class Rule:
    """A custom WAF rule, reduced to the fields homeport compares."""

    ref: str
    expression: str
    action: str
    description: str = ""
    enabled: bool = True
    id: str | None = None

    @property
    def owned(self) -> bool:
        """True when the ref carries homeport's prefix."""
        return self.ref.startswith(RULE_REF_PREFIX)

    def fields(self) -> dict[str, Any]:
        """The fields compared by a plan."""
        return {
            "ref": self.ref,
            "description": self.description,
            "expression": self.expression,
            "action": self.action,
            "enabled": self.enabled,
        }


@dataclass(frozen=True)
class Setting:
    """A zone setting's current value and whether the plan allows changing it."""

    value: Any
    editable: bool = True


@dataclass
class DesiredZone:
    """What the file asks of one zone."""

    name: str
    plan: str
    records: list[Record] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class DesiredEdge:
    """What the file asks of the whole edge."""

    account_id: str
    tunnel_id: str
    tunnel_name: str | None
    ingress: list[dict[str, Any]] | None
    zones: dict[str, DesiredZone]
    failover_hostnames: frozenset[str] = frozenset()


@dataclass
class CurrentZone:
    """One zone as Cloudflare has it now."""

    name: str
    id: str
    plan: str
    records: list[Record] = field(default_factory=list)
    ruleset_id: str | None = None
    rules: list[Rule] = field(default_factory=list)
    raw_rules: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Setting] = field(default_factory=dict)


@dataclass
class CurrentTunnel:
    """The tunnel's configuration as Cloudflare has it now."""

    id: str
    name: str | None
    ingress: list[dict[str, Any]]
    version: int
    raw_config: dict[str, Any] = field(default_factory=dict)


@dataclass
class CurrentEdge:
    """The whole edge as Cloudflare has it now."""

    zones: dict[str, CurrentZone]
    tunnel: CurrentTunnel | None
