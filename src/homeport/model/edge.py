"""The ``edge:`` section: Cloudflare tunnel ingress, zones with DNS, WAF and settings, failover."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from homeport.model.types import Duration, Section

RecordType = Literal["A", "AAAA", "CNAME", "TXT", "MX", "NS", "CAA", "SRV"]
ZonePlan = Literal["free", "pro", "business", "enterprise"]
WafAction = Literal["block", "challenge", "js_challenge", "managed_challenge", "log", "skip"]


class Tunnel(Section):
    """The Cloudflare Tunnel the ingress rules belong to."""

    id: str = Field(description="tunnel UUID")
    name: str | None = None


class IngressRule(Section):
    """One rule of the tunnel's ingress, in order; the last must be a catch-all."""

    hostname: str | None = None
    path: str | None = Field(None, description="an unanchored regular expression")
    service: str = Field(description="http://host:port, https://..., tcp://..., http_status:404")
    origin_request: dict[str, Any] | None = Field(None, alias="originRequest")


class DnsRecord(Section):
    """One DNS record of a zone; ``name`` is relative to the zone or fully qualified."""

    name: str
    type: RecordType
    content: str
    proxied: bool | None = None
    ttl: int = Field(1, description="seconds; 1 means automatic")
    priority: int | None = Field(None, ge=0, le=65535)
    comment: str | None = None


class WafRule(Section):
    """A custom WAF rule; homeport owns it through a ``homeport:`` ref."""

    name: str = Field(description="unique within the zone; becomes the rule's ref")
    description: str | None = None
    expression: str
    action: WafAction = "block"
    enabled: bool = True


class Zone(Section):
    """A Cloudflare zone: its plan, security settings, WAF rules and DNS records."""

    plan: ZonePlan = "free"
    settings: dict[str, str | int | bool] = Field(default_factory=dict)
    waf: list[WafRule] = Field(default_factory=list)
    records: list[DnsRecord] = Field(default_factory=list)
    frontends: list[str] = Field(
        default_factory=list, description="hostnames of browser apps, for the CORS check"
    )


class Standby(Section):
    """The cold standby the apex and www flip to."""

    pages_project: str


class Failover(Section):
    """Which hostnames of each environment ``homeport failover`` moves."""

    standby: Standby
    hostnames: dict[str, list[str]] = Field(default_factory=dict)
    ttl: Duration = 300.0


class Edge(Section):
    """The public edge as code."""

    account_id: str
    tunnel: Tunnel
    ingress: list[IngressRule] = Field(default_factory=list)
    zones: dict[str, Zone] = Field(default_factory=dict)
    failover: Failover | None = None
