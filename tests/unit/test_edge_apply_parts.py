"""The pure parts of apply, rollback, preflight, import and failover."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from homeport.edge.apply import DnsOp, chunk, dns_ops, merge_rules
from homeport.edge.cloudflare import CloudflareApi
from homeport.edge.desired import STANDBY_COMMENT, desired_edge
from homeport.edge.errors import EdgeError, FailoverRefused
from homeport.edge.failover import plan_flip, zone_of
from homeport.edge.importer import record_entry, rule_entry
from homeport.edge.plan import Create, Delete, Update
from homeport.edge.preflight import limit_problems
from homeport.edge.ratelimit import read_ratelimit, retry_after
from homeport.edge.rollback import restore_ops
from homeport.edge.state import CurrentEdge, CurrentZone, Record, Rule
from homeport.model.edge import Edge

ZONE = "elkhair.tech"
MINE = "homeport: managed"


def test_dns_ops_put_deletes_before_patches_before_posts() -> None:
    ops = dns_ops(
        [
            Create("dns", ZONE, "a.elkhair.tech A", {"content": "192.0.2.1", "ttl": 1}),
            Update("dns", ZONE, "b.elkhair.tech A", {"content": "1"}, {"content": "2"}, id="rb"),
            Delete("dns", ZONE, "c.elkhair.tech A", {"content": "3"}, id="rc"),
        ]
    )
    assert [(op.op, op.body.get("id"), op.body.get("name")) for op in ops] == [
        ("delete", "rc", None),
        ("patch", "rb", "b.elkhair.tech"),
        ("post", None, "a.elkhair.tech"),
    ]


@pytest.mark.parametrize(
    ("count", "sizes"), [(0, []), (200, [200]), (1000, [200] * 5), (401, [200, 200, 1])]
)
def test_chunk(count: int, sizes: list[int]) -> None:
    ops = [DnsOp("post", str(i), {}) for i in range(count)]
    assert [len(batch) for batch in chunk(ops, 200)] == sizes


def test_merge_rules_keeps_unowned_rules_in_place_and_homeport_s_together() -> None:
    fresh: list[dict[str, Any]] = [
        {"id": "1", "ref": "skip-office", "expression": "a", "action": "skip", "version": "3"},
        {"id": "2", "ref": "homeport:old", "expression": "b", "action": "block"},
        {"id": "3", "ref": "3", "expression": "c", "action": "log"},
    ]
    owned = [Rule("homeport:new", "d", "block", "new")]
    merged = merge_rules(fresh, owned, replaced_ids=set())
    assert [r["ref"] for r in merged] == ["skip-office", "homeport:new", "3"]
    assert "version" not in merged[0]
    adopted = merge_rules(fresh, owned, replaced_ids={"3"})
    assert [r["ref"] for r in adopted] == ["skip-office", "homeport:new"]


def test_rollback_deletes_what_apply_created_and_restores_what_it_changed() -> None:
    entry = {
        "records_created": [{"key": "new.elkhair.tech A", "content": "192.0.2.9"}],
        "records_before": [
            {"name": "www.elkhair.tech", "type": "A", "content": "192.0.2.1", "proxied": False,
             "ttl": 300, "comment": MINE, "id": "w"},
            {"name": "gone.elkhair.tech", "type": "A", "content": "192.0.2.2", "proxied": False,
             "ttl": 1, "comment": MINE, "id": "g"},
        ],
    }  # fmt: skip
    now = [
        Record("new.elkhair.tech", "A", "192.0.2.9", comment=MINE, id="n"),
        Record("new.elkhair.tech", "A", "192.0.2.9", comment="by hand", id="h"),
        Record("www.elkhair.tech", "A", "192.0.2.5", comment=MINE, id="w"),
    ]
    ops = restore_ops(entry, now)
    assert [(op.op, op.body.get("id"), op.body.get("content")) for op in ops] == [
        ("delete", "n", None),
        ("patch", "w", "192.0.2.1"),
        ("post", None, "192.0.2.2"),
    ]


def _limits(zone: dict[str, Any], plan: str = "free", theirs: int = 0) -> list[str]:
    edge = Edge.model_validate({"account_id": "a", "tunnel": {"id": "t"}, "zones": {ZONE: zone}})
    rules = [Rule(f"r{i}", "(ip.src eq 192.0.2.1)", "log", id=f"r{i}") for i in range(theirs)]
    current = CurrentEdge({ZONE: CurrentZone(ZONE, "z", plan, rules=rules)}, None)
    return limit_problems(desired_edge(edge), current)


RULE = {"name": "r", "expression": "(ip.src eq 192.0.2.1)"}
REGEX = {**RULE, "expression": 'http.host matches "^a"'}


def commented(length: int) -> dict[str, Any]:
    return {
        "records": [{"name": "a", "type": "A", "content": "192.0.2.1", "comment": "x" * length}]
    }


CLASH = {
    "records": [
        {"name": "a", "type": "CNAME", "content": "x.example"},
        {"name": "a", "type": "TXT", "content": "t"},
    ]
}


@pytest.mark.parametrize(
    ("zone", "plan", "theirs", "expected"),
    [
        (commented(90), "free", 0, None),  # "homeport: " + 90 = 100 characters
        (commented(91), "free", 0, "is 101 characters"),
        (commented(200), "pro", 0, None),
        ({"waf": [RULE]}, "free", 4, None),
        ({"waf": [RULE]}, "free", 5, "6 custom WAF rules (1 in the file, 5 not homeport's)"),
        ({"waf": [REGEX]}, "pro", 0, "regex operator"),
        ({"waf": [REGEX]}, "business", 0, None),
        (CLASH, "free", 0, "has a CNAME and TXT"),
    ],
)
def test_plan_limits(zone: dict[str, Any], plan: str, theirs: int, expected: str | None) -> None:
    problems = _limits(zone, plan, theirs)
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and expected in problems[0]


def test_import_writes_records_the_way_the_file_does() -> None:
    record = Record("www.elkhair.tech", "A", "192.0.2.1", ttl=300, comment="clicked", id="x")
    assert record_entry(ZONE, record) == {
        "name": "www", "type": "A", "content": "192.0.2.1", "ttl": 300, "comment": "clicked",
    }  # fmt: skip
    owned = Record(ZONE, "CNAME", "t.example", proxied=True, comment=MINE, id="y")
    assert record_entry(ZONE, owned) == {
        "name": "@", "type": "CNAME", "content": "t.example", "proxied": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "name"),
    [
        (Rule("homeport:block-wp", "e", "block", id="1"), "block-wp"),
        (Rule("office-skip", "e", "skip", id="2"), "office-skip"),
        (Rule("3f2a9c", "e", "block", "Block the scraper!", id="3f2a9c"), "block-the-scraper"),
        (Rule("4b", "e", "block", "", id="4b"), "rule-4b"),
    ],
)
def test_imported_rule_names(rule: Rule, name: str) -> None:
    assert rule_entry(rule)["name"] == name


TARGET = "landing-backup.pages.dev"


@pytest.mark.parametrize(
    ("records", "op"),
    [
        ([], "post"),
        (
            [Record(ZONE, "CNAME", "t.cfargotunnel.com", proxied=True, comment=MINE, id="c")],
            "patch",
        ),
        ([Record(ZONE, "CNAME", TARGET, proxied=True, comment=STANDBY_COMMENT, id="c")], None),
    ],
)
def test_failover_flip(records: list[Record], op: str | None) -> None:
    flip = plan_flip(ZONE, ZONE, TARGET, STANDBY_COMMENT, records)
    assert (flip.op.op if flip.op else None) == op


def test_failover_refuses_a_name_with_other_records() -> None:
    with pytest.raises(FailoverRefused, match="has A records"):
        plan_flip(ZONE, ZONE, TARGET, STANDBY_COMMENT, [Record(ZONE, "A", "192.0.2.1", id="a")])


def test_zone_of_takes_the_longest_suffix() -> None:
    assert (
        zone_of("www.dev.elkhair.tech", ["elkhair.tech", "dev.elkhair.tech"]) == "dev.elkhair.tech"
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Ratelimit": '"default";r=1150;t=20'}, (1150, 20)),
        ({"Ratelimit": '"default";r=0;t=300'}, (0, 300)),
        ({}, None),
    ],
)
def test_ratelimit_header(headers: dict[str, str], expected: tuple[int, int] | None) -> None:
    assert read_ratelimit(httpx.Response(200, headers=headers)) == expected


@pytest.mark.parametrize(("value", "seconds"), [("300", 300.0), ("12.5", 12.5), ("soon", 60.0)])
def test_retry_after(value: str, seconds: float) -> None:
    assert retry_after(httpx.Response(429, headers={"Retry-After": value})) == seconds


def test_a_missing_token_is_a_clear_error_that_names_the_variable() -> None:
    with pytest.raises(EdgeError, match="CLOUDFLARE_API_TOKEN is not set"):
        CloudflareApi.from_env({})


def test_the_token_is_never_in_the_client_s_repr() -> None:
    with CloudflareApi.from_env({"CLOUDFLARE_API_TOKEN": "s3cret-token"}) as client:
        assert "s3cret-token" not in repr(client)
