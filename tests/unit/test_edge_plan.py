"""Planning: creates, updates with field diffs and deletes, touching only what homeport owns."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from homeport.edge.desired import STANDBY_COMMENT, desired_edge
from homeport.edge.diff import plan_edge
from homeport.edge.plan import Create, Delete, Plan, Update
from homeport.edge.render import render_plan
from homeport.edge.state import CurrentEdge, CurrentTunnel, CurrentZone, Record, Rule, Setting
from homeport.model.edge import Edge

ZONE = "elkhair.tech"
TUNNEL = "6ff42ae2-765d-4adf-8112-31c55c1551ef"
MINE = "homeport: managed"


def edge(records: list[dict[str, Any]] | None = None, **zone: Any) -> Edge:
    return Edge.model_validate(
        {
            "account_id": "acc",
            "tunnel": {"id": TUNNEL},
            "zones": {ZONE: {"records": records or [], **zone}},
        }
    )


def rec(name: str, type: str, content: str, comment: str | None = MINE, **more: Any) -> Record:
    return Record(
        name=name, type=type, content=content, comment=comment, id=f"id-{name}-{content}", **more
    )


def current(
    records: list[Record], rules: list[Rule] | None = None, **settings: Setting
) -> CurrentEdge:
    zone = CurrentZone(
        name=ZONE, id="z1", plan="free", records=records, rules=rules or [], settings=dict(settings)
    )
    return CurrentEdge(zones={ZONE: zone}, tunnel=None)


def plan(file: Edge, now: CurrentEdge, adopt: bool = False) -> Plan:
    return plan_edge(desired_edge(file), now, adopt=adopt)


def summary(result: Plan) -> list[tuple[str, str, str]]:
    return [(c.kind, c.resource, c.key) for c in result.changes]


CASES: list[tuple[str, list[dict[str, Any]], list[Record], list[tuple[str, str, str]]]] = [
    (
        "empty zone: every record is created",
        [
            {"name": "@", "type": "A", "content": "1.2.3.4"},
            {"name": "www", "type": "A", "content": "1.2.3.4"},
        ],
        [],
        [("create", "dns", "elkhair.tech A"), ("create", "dns", "www.elkhair.tech A")],
    ),
    (
        "in sync: nothing to do",
        [{"name": "www", "type": "A", "content": "1.2.3.4"}],
        [rec("www.elkhair.tech", "A", "1.2.3.4")],
        [],
    ),
    (
        "content changed: one update",
        [{"name": "www", "type": "A", "content": "1.2.3.5"}],
        [rec("www.elkhair.tech", "A", "1.2.3.4")],
        [("update", "dns", "www.elkhair.tech A")],
    ),
    (
        "owned record gone from the file: deleted",
        [],
        [rec("old.elkhair.tech", "A", "1.2.3.4")],
        [("delete", "dns", "old.elkhair.tech A")],
    ),
    (
        "unowned record not in the file: left alone",
        [],
        [rec("theirs.elkhair.tech", "A", "1.2.3.4", comment=None)],
        [],
    ),
    (
        "unowned TXT beside ours: ours is created, theirs kept",
        [{"name": "@", "type": "TXT", "content": "v=spf1 -all"}],
        [rec("elkhair.tech", "TXT", "google-site-verification=x", comment="by hand")],
        [("create", "dns", "elkhair.tech TXT")],
    ),
    (
        "two values of one name: paired by content",
        [
            {"name": "@", "type": "MX", "content": "a.mx", "priority": 10},
            {"name": "@", "type": "MX", "content": "c.mx", "priority": 20},
        ],
        [
            rec("elkhair.tech", "MX", "a.mx", priority=10),
            rec("elkhair.tech", "MX", "b.mx", priority=20),
        ],
        [("update", "dns", "elkhair.tech MX")],
    ),
    (
        "deletes sort before updates before creates",
        [
            {"name": "b", "type": "A", "content": "2.2.2.2"},
            {"name": "c", "type": "A", "content": "3.3.3.3"},
        ],
        [rec("a.elkhair.tech", "A", "1.1.1.1"), rec("b.elkhair.tech", "A", "1.1.1.1")],
        [
            ("delete", "dns", "a.elkhair.tech A"),
            ("update", "dns", "b.elkhair.tech A"),
            ("create", "dns", "c.elkhair.tech A"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("what", "records", "present", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_dns_plan(
    what: str,
    records: list[dict[str, Any]],
    present: list[Record],
    expected: list[tuple[str, str, str]],
) -> None:
    assert summary(plan(edge(records), current(present))) == expected


def test_update_carries_a_field_diff() -> None:
    result = plan(
        edge([{"name": "www", "type": "A", "content": "1.2.3.4", "ttl": 300}]),
        current([rec("www.elkhair.tech", "A", "1.2.3.4", ttl=120)]),
    )
    (change,) = result.changes
    assert isinstance(change, Update)
    assert [(d.field, d.before, d.after) for d in change.diff()] == [("ttl", 120, 300)]
    assert change.id == "id-www.elkhair.tech-1.2.3.4"


def test_unmarked_record_in_the_file_is_a_conflict_and_left_alone() -> None:
    result = plan(
        edge([{"name": "www", "type": "A", "content": "1.2.3.4"}]),
        current([rec("www.elkhair.tech", "A", "9.9.9.9", comment=None)]),
    )
    assert result.changes == ()
    (conflict,) = result.conflicts
    assert conflict.key == "www.elkhair.tech A"
    assert "without the homeport marker" in conflict.reason
    assert not conflict.matches


def test_adopt_turns_the_conflict_into_an_update_that_marks_it() -> None:
    result = plan(
        edge([{"name": "www", "type": "A", "content": "1.2.3.4"}]),
        current([rec("www.elkhair.tech", "A", "1.2.3.4", comment=None)]),
        adopt=True,
    )
    (change,) = result.changes
    assert isinstance(change, Update)
    assert [(d.field, d.after) for d in change.diff()] == [("comment", MINE)]
    assert result.conflicts == ()


def test_cname_cannot_join_a_name_held_by_records_homeport_does_not_own() -> None:
    result = plan(
        edge([{"name": "www", "type": "CNAME", "content": "x.example"}]),
        current([rec("www.elkhair.tech", "A", "1.2.3.4", comment=None)]),
    )
    assert result.changes == ()
    assert "CNAME cannot share" in result.conflicts[0].reason


def test_record_comment_from_the_file_follows_the_marker() -> None:
    result = plan(
        edge([{"name": "a", "type": "A", "content": "1.1.1.1", "comment": "the API"}]), current([])
    )
    (change,) = result.changes
    assert isinstance(change, Create)
    assert change.after["comment"] == "homeport: the API"


def test_failover_standby_is_not_drift() -> None:
    file = Edge.model_validate(
        {
            "account_id": "acc",
            "tunnel": {"id": TUNNEL},
            "zones": {
                ZONE: {
                    "records": [
                        {
                            "name": "@",
                            "type": "CNAME",
                            "content": f"{TUNNEL}.cfargotunnel.com",
                            "proxied": True,
                        }
                    ]
                }
            },
            "failover": {"standby": {"pages_project": "landing"}, "hostnames": {"prod": [ZONE]}},
        }
    )
    standby = rec(ZONE, "CNAME", "landing.pages.dev", comment=STANDBY_COMMENT, proxied=True)
    result = plan(file, current([standby]))
    assert result.changes == ()
    assert any("failover home" in w for w in result.warnings)


RULE = {
    "name": "block-wp",
    "expression": '(http.request.uri.path contains "/wp-login.php")',
    "action": "block",
}


def mine_rule(**more: Any) -> Rule:
    base = {
        "ref": "homeport:block-wp",
        "expression": RULE["expression"],
        "action": "block",
        "description": "block-wp",
        "id": "r1",
    }
    return Rule(**{**base, **more})


@pytest.mark.parametrize(
    ("waf", "rules", "expected"),
    [
        ([RULE], [], [("create", "waf", "homeport:block-wp")]),
        ([RULE], [mine_rule()], []),
        (
            [{**RULE, "action": "managed_challenge"}],
            [mine_rule()],
            [("update", "waf", "homeport:block-wp")],
        ),
        ([], [mine_rule()], [("delete", "waf", "homeport:block-wp")]),
        ([], [mine_rule(ref="by-hand", id="r9")], []),
    ],
    ids=["create", "in sync", "update", "delete owned", "keep unowned"],
)
def test_waf_plan(
    waf: list[dict[str, Any]], rules: list[Rule], expected: list[tuple[str, str, str]]
) -> None:
    assert summary(plan(edge(waf=waf), current([], rules))) == expected


def test_unowned_rule_with_the_same_expression_is_a_conflict() -> None:
    result = plan(edge(waf=[RULE]), current([], [mine_rule(ref="abc", id="r9")]))
    assert result.changes == ()
    assert result.conflicts[0].matches


@pytest.mark.parametrize(
    ("wanted", "present", "expected", "warns"),
    [
        ({"ssl": "strict"}, {"ssl": Setting("full")}, [("update", "setting", "ssl")], False),
        ({"ssl": "strict"}, {"ssl": Setting("strict")}, [], False),
        ({"always_use_https": True}, {"always_use_https": Setting("on")}, [], False),
        ({"waf": "on"}, {"waf": Setting("off", editable=False)}, [], True),
        ({"nonsense": "on"}, {}, [], True),
    ],
)
def test_settings_plan(
    wanted: dict[str, Any],
    present: dict[str, Setting],
    expected: list[tuple[str, str, str]],
    warns: bool,
) -> None:
    result = plan(edge(settings=wanted), current([], **present))
    assert summary(result) == expected
    assert bool(result.warnings) == warns


def test_tunnel_is_updated_only_when_its_ingress_differs() -> None:
    file = Edge.model_validate(
        {
            "account_id": "acc",
            "tunnel": {"id": TUNNEL},
            "ingress": [
                {"hostname": "Jobs.elkhair.tech", "service": "http://1.2.3.4:80"},
                {"service": "http_status:404"},
            ],
        }
    )
    same = [
        {"hostname": "jobs.elkhair.tech", "service": "http://1.2.3.4:80"},
        {"service": "http_status:404"},
    ]
    tunnel = CurrentTunnel(id=TUNNEL, name=None, ingress=same, version=7)
    assert plan_edge(desired_edge(file), CurrentEdge({}, tunnel)).changes == ()
    tunnel.ingress = [{"service": "http_status:404"}]
    result = plan_edge(desired_edge(file), CurrentEdge({}, tunnel))
    assert summary(result) == [("update", "tunnel", TUNNEL)]
    assert result.tunnel_version == 7


def test_plan_json_and_checksum_are_stable() -> None:
    file = edge([{"name": "a", "type": "A", "content": "1.1.1.1"}])
    first, second = plan(file, current([])), plan(file, current([]))
    assert first.checksum == second.checksum
    data = first.to_json()
    assert data["counts"] == {"create": 1, "update": 0, "delete": 0}
    assert data["changes"][0]["after"]["content"] == "1.1.1.1"
    other = plan(edge([{"name": "a", "type": "A", "content": "1.1.1.2"}]), current([]))
    assert other.checksum != first.checksum


def test_rendering_names_every_change() -> None:
    result = plan(
        edge(
            [
                {"name": "a", "type": "A", "content": "1.1.1.1"},
                {"name": "b", "type": "A", "content": "2.2.2.2"},
            ]
        ),
        current([rec("b.elkhair.tech", "A", "1.1.1.1"), rec("c.elkhair.tech", "A", "1.1.1.1")]),
    )
    console = Console(record=True, width=200)
    console.print(render_plan(result))
    text = console.export_text()
    assert "+ create dns     a.elkhair.tech A" in text
    assert "content: 1.1.1.1 -> 2.2.2.2" in text
    assert "- delete dns     c.elkhair.tech A" in text
    assert "Plan: 1 to create, 1 to update, 1 to delete." in text
    assert isinstance(result.changes[0], Delete)
