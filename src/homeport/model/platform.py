"""The platform file's root and its smaller sections: hosts, environments, gateway, registry..."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from homeport.model.edge import Edge
from homeport.model.services import Service
from homeport.model.types import Duration, Name, Percent, Port, Section, Size, one_or_many

HostRole = Literal[
    "app",
    "runner",
    "registry",
    "mirror",
    "proxy",
    "tunnel",
    "vpn",
    "monitor",
    "vault",
    "grafana",
    "otel",
    "jaeger",
    "prometheus",
    "dns",
]


class Ssh(Section):
    """How homeport reaches a host."""

    user: str = "root"
    port: Port = 22


class Host(Section):
    """One machine of the homelab, with one job."""

    address: str
    roles: list[HostRole] = Field(default_factory=list)
    ssh: Ssh = Field(default_factory=Ssh)


class Environment(Section):
    """A deployment target (dev, prod) on one app host, with its own image tag."""

    host: str
    image_tag: str


class HeaderMatch(Section):
    """A request header condition; names are case-insensitive."""

    header: str
    equals: str | None = None
    prefix: str | None = None
    regex: str | None = None
    exists: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> HeaderMatch:
        tests = [t for t in ("equals", "prefix", "regex", "exists") if getattr(self, t) is not None]
        if len(tests) > 1:
            raise ValueError(
                f"a header match takes one of equals, prefix, regex or exists, got {tests}"
            )
        return self


class Route(Section):
    """A gateway route: every condition must hold; the first matching route wins."""

    when: Annotated[list[HeaderMatch], BeforeValidator(one_or_many)] = Field(default_factory=list)
    path: str | None = Field(None, description="path prefix")
    method: Annotated[list[str], BeforeValidator(one_or_many)] = Field(default_factory=list)
    host: str | None = None
    to: str = Field(description="a service name, or a URL")
    strip_prefix: bool = False
    name: str | None = Field(None, description="shown in errors and metrics; default the service")


class Cors(Section):
    """Origins allowed to call through the gateway from a browser."""

    origins: list[str] = Field(default_factory=list)
    credentials: bool = True
    max_age: int = 600

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"origins": value} if isinstance(value, list) else value


class Geo(Section):
    """The GeoIP database behind /api/public/geo."""

    database: str = Field(
        "bundled", description="'bundled' (GeoLite2 City from the wheel) or a path"
    )


class GatewayLimits(Section):
    """Timeouts and size limits of the gateway."""

    max_body: Size = Field(1024**3, description="largest request body; 413 beyond it")
    connect_timeout: Duration = 2.0
    read_timeout: Duration = 30.0
    total_timeout: Duration = 60.0


class Gateway(Section):
    """The edge gateway's behaviour."""

    routes: list[Route] = Field(default_factory=list)
    cors: Cors = Field(default_factory=Cors)
    trusted_proxies: list[IPv4Network | IPv6Network] = Field(default_factory=list)
    geo: Geo = Field(default_factory=Geo)
    limits: GatewayLimits = Field(default_factory=GatewayLimits)


class RetentionGroup(Section):
    """Tags of one environment: those matching ``pattern`` compete for ``keep_last`` places."""

    name: str
    pattern: str | None = Field(None, description="regex; default '^<name>-'")
    keep_last: int | None = Field(None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class Retention(Section):
    """Which images the registry keeps."""

    keep_last: int = Field(10, ge=0)
    groups: list[RetentionGroup] = Field(default_factory=list)
    grace: Duration = Field(86400.0, description="images newer than this are always kept")
    moving_tags: list[str] = Field(default_factory=lambda: ["dev", "prod", "latest"])


class RegistryGc(Section):
    """Garbage collection of the registry's blobs."""

    enabled: bool = True
    delete_untagged: bool = False
    schedule: str | None = Field(None, description="cron expression, for documentation")


class Registry(Section):
    """The private container registry."""

    url: str
    storage: str | None = Field(None, description="filesystem path of its storage, when local")
    config: str | None = Field(None, description="path of the registry's config.yml")
    delete_enabled: bool = False
    retention: Retention = Field(default_factory=Retention)
    gc: RegistryGc | None = None
    disk_alert: Percent = 85.0
    mirror: str | None = Field(None, description="URL of the pull-through cache")
    restart: str | None = Field(
        None, description="command that restarts the registry; gc uses it to go read-only"
    )


class Unseal(Section):
    """Auto-unseal of the main Vault through a transit Vault."""

    transit: str
    key_name: str = "autounseal"


class Secrets(Section):
    """Where services read their secrets."""

    vault: str
    mount: str = "secret"
    unseal: Unseal | None = None


class Observability(Section):
    """Where telemetry goes in production."""

    otlp: str | None = None
    jaeger: str | None = None
    grafana: str | None = None


class DnsOverride(Section):
    """A LAN DNS override: ``name`` (may start with ``*.``) resolves to ``address``."""

    name: str
    address: str


class LocalDns(Section):
    """The LAN resolver (Pi-hole, dnsmasq) and the proxy's certificates."""

    host: str | None = None
    overrides: list[DnsOverride] = Field(default_factory=list)
    wildcard_certs: list[str] = Field(
        default_factory=list, description="names with a wildcard certificate on the LAN proxy"
    )


class Platform(Section):
    """A whole platform: ``homeport.yaml``."""

    name: Name
    hosts: dict[Name, Host] = Field(default_factory=dict)
    environments: dict[Name, Environment] = Field(default_factory=dict)
    services: dict[Name, Service] = Field(default_factory=dict)
    gateway: Gateway | None = None
    edge: Edge | None = None
    registry: Registry | None = None
    secrets: Secrets | None = None
    observability: Observability | None = None
    dns: LocalDns | None = None
