"""CORS: exact and label-boundary wildcard origins, matched in full; credentials never with *."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from homeport.gateway.cors import CorsPolicy, is_preflight
from homeport.gateway.errors import GatewayConfigError
from homeport.model.platform import Cors

POLICY = CorsPolicy.compile(
    Cors(origins=["https://jobs.elkhair.tech", "https://*.eelkhair.net", "http://localhost:5173"])
)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://jobs.elkhair.tech", True),
        ("HTTPS://JOBS.ELKHAIR.TECH", True),
        ("https://jobs.elkhair.tech.evil.com", False),
        ("https://evil-jobs.elkhair.tech", False),
        ("http://jobs.elkhair.tech", False),
        ("https://jobs.elkhair.tech:8443", False),
        ("https://a.eelkhair.net", True),
        ("https://a.b.eelkhair.net", True),
        ("https://eelkhair.net", False),
        ("https://evileelkhair.net", False),
        ("https://a.eelkhair.net.evil.com", False),
        ("https://a.eelkhair.netx", False),
        ("http://localhost:5173", True),
        ("http://localhost:51730", False),
        ("null", False),
        ("", False),
        (None, False),
    ],
)
def test_origins_match_in_full(origin: str | None, allowed: bool) -> None:
    assert POLICY.allows(origin) is allowed


def test_allowed_origin_is_echoed_with_credentials_and_vary() -> None:
    headers = POLICY.response_headers("https://a.eelkhair.net")
    assert headers == {
        "Access-Control-Allow-Origin": "https://a.eelkhair.net",
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def test_refused_origin_gets_only_vary() -> None:
    assert POLICY.response_headers("https://evil.com") == {"Vary": "Origin"}


def test_credentials_off_sends_no_credentials_header() -> None:
    policy = CorsPolicy.compile(Cors(origins=["https://a.test"], credentials=False))
    assert "Access-Control-Allow-Credentials" not in policy.response_headers("https://a.test")


def test_preflight_answer() -> None:
    request = CIMultiDict(
        {
            "Origin": "https://jobs.elkhair.tech",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type, x-mode",
        }
    )
    assert is_preflight("OPTIONS", request)
    headers = POLICY.preflight_headers("https://jobs.elkhair.tech", request)
    assert headers["Access-Control-Allow-Headers"] == "content-type, x-mode"
    assert "PUT" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Max-Age"] == "600"


def test_plain_options_is_not_a_preflight() -> None:
    assert not is_preflight("OPTIONS", CIMultiDict({"Origin": "https://a.test"}))
    assert not is_preflight(
        "GET", CIMultiDict({"Origin": "x", "Access-Control-Request-Method": "GET"})
    )


@pytest.mark.parametrize("origin", ["*", "https://*", "jobs.elkhair.tech", "https://a.*.net"])
def test_malformed_allowlist_entries_are_refused(origin: str) -> None:
    with pytest.raises(GatewayConfigError, match=r"gateway\.cors"):
        CorsPolicy.compile(Cors(origins=[origin]))
