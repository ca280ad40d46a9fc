"""One spelling for every value, so that the plan after an apply is empty.

Names become fully qualified, lowercase, punycode, without a trailing dot. Proxied records have
TTL 1 (automatic). Hostname-like contents follow the names' rules; IPv6 addresses are compressed.
The defaults the server adds to a tunnel's ``originRequest`` are dropped.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from homeport.edge.state import Record

PROXIABLE = frozenset({"A", "AAAA", "CNAME"})
HOSTNAME_CONTENT = frozenset({"CNAME", "MX", "NS"})

ORIGIN_REQUEST_DEFAULTS: dict[str, Any] = {
    "connectTimeout": 30,
    "tlsTimeout": 10,
    "tcpKeepAlive": 30,
    "noHappyEyeballs": False,
    "keepAliveConnections": 100,
    "keepAliveTimeout": 90,
    "httpHostHeader": "",
    "originServerName": "",
    "caPool": "",
    "noTLSVerify": False,
    "disableChunkedEncoding": False,
    "bastionMode": False,
    "proxyType": "",
    "http2Origin": False,
}


def hostname(value: str) -> str:
    """A hostname in one spelling: lowercase, punycode labels, no trailing dot."""
    labels = value.strip().rstrip(".").split(".")
    return ".".join(_label(label) for label in labels)


def _label(label: str) -> str:
    if label.isascii():
        return label.lower()
    return "xn--" + label.lower().encode("punycode").decode("ascii")


def fqdn(name: str, zone: str) -> str:
    """``@``, a name relative to ``zone`` or a fully qualified one -> the FQDN."""
    zone_name = hostname(zone)
    raw = name.strip()
    if raw in ("@", ""):
        return zone_name
    if raw.endswith("."):
        return hostname(raw)
    full = hostname(raw)
    if full == zone_name or full.endswith("." + zone_name):
        return full
    return f"{full}.{zone_name}"


def relative(name: str, zone: str) -> str:
    """The FQDN ``name`` written as the platform file prefers: ``@`` or relative to ``zone``."""
    if name == zone:
        return "@"
    suffix = "." + zone
    return name[: -len(suffix)] if name.endswith(suffix) else name


def content(record_type: str, value: str) -> str:
    """A record's content in one spelling."""
    text = value.strip()
    if record_type in HOSTNAME_CONTENT:
        return hostname(text)
    if record_type == "AAAA":
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            return text
    if record_type == "TXT" and len(text) >= 2 and text[0] == text[-1] == '"' and '" "' not in text:
        return text[1:-1]
    return text


def record(
    zone: str,
    *,
    name: str,
    type: str,
    content_value: str,
    proxied: bool | None = None,
    ttl: int | None = None,
    priority: int | None = None,
    comment: str | None = None,
    id: str | None = None,
) -> Record:
    """A normalised Record from its parts (either side)."""
    record_type = type.upper()
    is_proxied = bool(proxied) if record_type in PROXIABLE else False
    return Record(
        name=fqdn(name, zone),
        type=record_type,
        content=content(record_type, content_value),
        proxied=is_proxied,
        ttl=1 if is_proxied or not ttl else int(ttl),
        priority=priority if record_type in ("MX", "SRV", "URI") else None,
        comment=comment or None,
        id=id,
    )


def api_record(zone: str, data: dict[str, Any]) -> Record:
    """A Record from Cloudflare's JSON for one DNS record."""
    priority = data.get("priority")
    return record(
        zone,
        name=str(data["name"]) + ".",
        type=str(data["type"]),
        content_value=str(data.get("content", "")),
        proxied=data.get("proxied"),
        ttl=data.get("ttl"),
        priority=int(priority) if priority is not None else None,
        comment=data.get("comment"),
        id=data.get("id"),
    )


def origin_request(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """``originRequest`` without the keys whose value is the server's default."""
    if not value:
        return None
    kept = {
        key: item
        for key, item in sorted(value.items())
        if item is not None and ORIGIN_REQUEST_DEFAULTS.get(key, _NOT_DEFAULT) != item
    }
    return kept or None


_NOT_DEFAULT = object()


def ingress_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One ingress rule in one spelling (only present keys, hostnames normalised)."""
    out: dict[str, Any] = {}
    if rule.get("hostname"):
        out["hostname"] = hostname(str(rule["hostname"]))
    if rule.get("path"):
        out["path"] = str(rule["path"])
    out["service"] = str(rule["service"]).strip().rstrip("/")
    extra = origin_request(rule.get("originRequest") or rule.get("origin_request"))
    if extra:
        out["originRequest"] = extra
    return out


def setting_value(value: Any) -> Any:
    """A zone setting's value: YAML booleans become Cloudflare's ``on``/``off``."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
