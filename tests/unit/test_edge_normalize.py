"""Normalisation: one spelling for names, contents, TTLs and tunnel rules on both sides."""

from __future__ import annotations

from typing import Any

import pytest

from homeport.edge import normalize

ZONE = "elkhair.tech"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("@", "elkhair.tech"),
        ("", "elkhair.tech"),
        ("www", "www.elkhair.tech"),
        ("WWW", "www.elkhair.tech"),
        ("www.elkhair.tech", "www.elkhair.tech"),
        ("www.elkhair.tech.", "www.elkhair.tech"),
        ("Elkhair.Tech", "elkhair.tech"),
        ("a.b", "a.b.elkhair.tech"),
        ("*.dev", "*.dev.elkhair.tech"),
        ("_dmarc", "_dmarc.elkhair.tech"),
        ("café", "xn--caf-dma.elkhair.tech"),
        ("bücher.elkhair.tech.", "xn--bcher-kva.elkhair.tech"),
        ("other.example.", "other.example"),
    ],
)
def test_fqdn(name: str, expected: str) -> None:
    assert normalize.fqdn(name, ZONE) == expected


@pytest.mark.parametrize(
    ("record_type", "content", "expected"),
    [
        ("CNAME", "Target.Example.COM.", "target.example.com"),
        ("MX", "mail.eelkhair.net.", "mail.eelkhair.net"),
        ("AAAA", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("A", " 203.0.113.25 ", "203.0.113.25"),
        ("TXT", '"v=spf1 -all"', "v=spf1 -all"),
        ("TXT", "v=spf1 -all", "v=spf1 -all"),
        ("TXT", '"part one" "part two"', '"part one" "part two"'),
    ],
)
def test_content(record_type: str, content: str, expected: str) -> None:
    assert normalize.content(record_type, content) == expected


@pytest.mark.parametrize(
    ("fields", "proxied", "ttl"),
    [
        ({"type": "CNAME", "proxied": True, "ttl": 300}, True, 1),
        ({"type": "A", "proxied": None, "ttl": 300}, False, 300),
        ({"type": "A", "proxied": False, "ttl": None}, False, 1),
        ({"type": "TXT", "proxied": True, "ttl": 3600}, False, 3600),
        ({"type": "MX", "proxied": None, "ttl": 1}, False, 1),
    ],
)
def test_proxied_records_have_automatic_ttl(
    fields: dict[str, Any], proxied: bool, ttl: int
) -> None:
    record = normalize.record(
        ZONE,
        name="x",
        type=fields["type"],
        content_value="v",
        proxied=fields["proxied"],
        ttl=fields["ttl"],
    )
    assert (record.proxied, record.ttl) == (proxied, ttl)


def test_api_record_and_file_record_are_equal_after_normalisation() -> None:
    from_api = normalize.api_record(
        ZONE,
        {
            "id": "r1",
            "name": "WWW.elkhair.tech",
            "type": "CNAME",
            "content": "ABC.cfargotunnel.com",
            "proxied": True,
            "ttl": 1,
            "comment": "homeport: managed",
        },
    )
    from_file = normalize.record(
        ZONE, name="www", type="cname", content_value="abc.cfargotunnel.com.", proxied=True,
        ttl=300, comment="homeport: managed",
    )  # fmt: skip
    assert from_api.fields() == from_file.fields()
    assert from_api.id == "r1"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"hostname": "Jobs.Elkhair.Tech.", "service": "http://1.2.3.4:80", "originRequest": {}},
            {"hostname": "jobs.elkhair.tech", "service": "http://1.2.3.4:80"},
        ),
        (
            {"service": "http_status:404", "originRequest": {"connectTimeout": 30}},
            {"service": "http_status:404"},
        ),
        (
            {"hostname": "a.b", "service": "https://x/", "originRequest": {"noTLSVerify": True}},
            {"hostname": "a.b", "service": "https://x", "originRequest": {"noTLSVerify": True}},
        ),
        (
            {"hostname": "a.b", "path": "^/api", "service": "http://x:1"},
            {"hostname": "a.b", "path": "^/api", "service": "http://x:1"},
        ),
    ],
)
def test_ingress_rule(rule: dict[str, Any], expected: dict[str, Any]) -> None:
    assert normalize.ingress_rule(rule) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(True, "on"), (False, "off"), ("1.2", "1.2"), (1800.0, 1800)]
)
def test_setting_value(value: Any, expected: Any) -> None:
    assert normalize.setting_value(value) == expected


def test_relative_is_the_inverse_of_fqdn() -> None:
    for name in ("@", "www", "a.b", "_dmarc"):
        assert normalize.relative(normalize.fqdn(name, ZONE), ZONE) == name
