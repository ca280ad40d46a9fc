"""The Cloudflare emulator's DNS record rules as pure functions (names, conflicts, filters)."""

from __future__ import annotations

import pytest
from tests.emulators.cloudflare.api import ApiError
from tests.emulators.cloudflare.records import (
    build_record,
    check_conflicts,
    matches_filters,
    qualify,
)

FREE_ZONE = {"name": "elkhair.tech", "plan": "free"}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("@", "elkhair.tech"),
        ("www", "www.elkhair.tech"),
        ("WWW.Elkhair.Tech.", "www.elkhair.tech"),
        ("elkhair.tech", "elkhair.tech"),
        ("a.b", "a.b.elkhair.tech"),
        ("www.other.net", "www.other.net.elkhair.tech"),
        ("bücher", "xn--bcher-kva.elkhair.tech"),
    ],
)
def test_names_are_qualified_like_the_live_api(given: str, stored: str) -> None:
    assert qualify(given, "elkhair.tech") == stored


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"type": "A", "name": "x", "content": "300.1.1.1"}, 9005),
        ({"type": "AAAA", "name": "x", "content": "192.0.2.1"}, 9005),
        ({"type": "A", "name": "x", "content": "192.0.2.1", "ttl": 30}, 9021),
        ({"type": "TXT", "name": "x", "content": "t", "proxied": True}, 9004),
        ({"type": "MX", "name": "x", "content": "mail.elkhair.tech"}, 9101),
        ({"type": "BOGUS", "name": "x", "content": "t"}, 9000),
        ({"type": "A", "name": "x", "content": "192.0.2.1", "tags": ["a:b"]}, 9300),
        ({"type": "A", "name": "x", "content": "192.0.2.1", "comment": "c" * 101}, 9313),
    ],
)
def test_invalid_records_are_refused_with_the_live_code(body: dict[str, object], code: int) -> None:
    with pytest.raises(ApiError) as refused:
        build_record(body, FREE_ZONE)
    codes = [refused.value.code, *(link["code"] for link in refused.value.chain)]
    assert code in codes


def test_proxied_ttl_is_automatic_and_patch_merges() -> None:
    record = build_record(
        {"type": "CNAME", "name": "www", "content": "X.example.", "proxied": True, "ttl": 300},
        FREE_ZONE,
    )
    assert (record["ttl"], record["content"], record["proxiable"]) == (1, "x.example", True)
    patched = build_record({"comment": "homeport:www"}, FREE_ZONE, record, merge=True)
    assert (patched["id"], patched["content"], patched["comment"]) == (
        record["id"], "x.example", "homeport:www",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("existing", "new", "code"),
    [
        (("A", "192.0.2.1"), ("CNAME", "x.example"), 81053),
        (("CNAME", "x.example"), ("A", "192.0.2.1"), 81053),
        (("CNAME", "x.example"), ("CNAME", "y.example"), 81053),
        (("A", "192.0.2.1"), ("A", "192.0.2.1"), 81057),
        (("A", "192.0.2.1"), ("A", "192.0.2.2"), None),
        (("TXT", "a"), ("A", "192.0.2.1"), None),
    ],
)
def test_conflicts(existing: tuple[str, str], new: tuple[str, str], code: int | None) -> None:
    old = build_record({"type": existing[0], "name": "www", "content": existing[1]}, FREE_ZONE)
    record = build_record({"type": new[0], "name": "www", "content": new[1]}, FREE_ZONE)
    if code is None:
        check_conflicts(record, [old])
        return
    with pytest.raises(ApiError) as refused:
        check_conflicts(record, [old])
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type": "A"}, ["a"]),
        ({"name": "WWW.elkhair.tech"}, ["a", "txt"]),
        ({"name.startswith": "ww", "type": "TXT"}, ["txt"]),
        ({"comment.startswith": "homeport:"}, ["a"]),
        ({"comment.absent": ""}, ["txt", "mx"]),
        ({"type": "MX", "content": "192.0.2.1", "match": "any"}, ["a", "mx"]),
        ({"proxied": "true"}, []),
        ({"page": "2", "search": "ignored"}, ["a", "txt", "mx"]),
    ],
)
def test_list_filters(query: dict[str, str], expected: list[str]) -> None:
    records = {
        "a": build_record({"type": "A", "name": "www", "content": "192.0.2.1",
                           "comment": "homeport:www"}, FREE_ZONE),
        "txt": build_record({"type": "TXT", "name": "www", "content": "hello"}, FREE_ZONE),
        "mx": build_record({"type": "MX", "name": "@", "content": "mail.elkhair.tech",
                            "priority": 10}, FREE_ZONE),
    }  # fmt: skip
    assert [key for key, record in records.items() if matches_filters(record, query)] == expected
