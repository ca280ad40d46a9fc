"""Safety: big or NS-touching plans are refused unless forced; unowned things survive every plan."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeport.edge.desired import desired_edge
from homeport.edge.diff import plan_edge
from homeport.edge.errors import UnsafePlanError
from homeport.edge.plan import Create, Delete, Plan, Update
from homeport.edge.safety import check_safety, unsafe_reasons
from homeport.edge.state import CurrentEdge, CurrentZone, Record, Rule
from homeport.model.edge import Edge

ZONE = "elkhair.tech"
MINE = "homeport: managed"


def owned(count: int) -> list[Record]:
    return [Record(f"h{i}.{ZONE}", "A", "1.1.1.1", comment=MINE, id=f"r{i}") for i in range(count)]


def file_keeping(count: int, total: int, extra: list[dict[str, Any]] | None = None) -> Edge:
    records = [{"name": f"h{i}", "type": "A", "content": "1.1.1.1"} for i in range(count)]
    records += [{"name": f"h{i}", "type": "A", "content": "2.2.2.2"} for i in range(count, total)]
    return Edge.model_validate(
        {
            "account_id": "a",
            "tunnel": {"id": "t"},
            "zones": {ZONE: {"records": records + (extra or [])}},
        }
    )


def plan_for(file: Edge, records: list[Record]) -> Plan:
    zone = CurrentZone(name=ZONE, id="z", plan="free", records=records)
    return plan_edge(desired_edge(file), CurrentEdge({ZONE: zone}, None))


@pytest.mark.parametrize(
    ("owned_count", "changed", "unsafe"),
    [
        (10, 3, False),  # 30 % is allowed
        (10, 4, True),  # 40 % is not
        (9, 9, False),  # small zones are never refused for size
        (100, 31, True),
        (100, 30, False),
    ],
)
def test_threshold(owned_count: int, changed: int, unsafe: bool) -> None:
    plan = plan_for(file_keeping(owned_count - changed, owned_count), owned(owned_count))
    assert bool(unsafe_reasons(plan)) == unsafe
    if unsafe:
        with pytest.raises(UnsafePlanError) as caught:
            check_safety(plan)
        assert caught.value.exit_code == 3
        assert "--force" in str(caught.value)
        check_safety(plan, force=True)


def test_creates_do_not_count_towards_the_threshold() -> None:
    extra = [{"name": f"new{i}", "type": "A", "content": "1.1.1.1"} for i in range(50)]
    plan = plan_for(file_keeping(10, 10, extra), owned(10))
    assert plan.counts()["create"] == 50
    assert unsafe_reasons(plan) == []


def test_any_ns_change_is_refused() -> None:
    extra = [{"name": "sub", "type": "NS", "content": "ns1.example.net"}]
    plan = plan_for(file_keeping(1, 1, extra), owned(1))
    (reason,) = unsafe_reasons(plan)
    assert "NS records (sub.elkhair.tech NS)" in reason


# Property: whatever the file says, what homeport does not own comes through untouched.

names = st.sampled_from(["@", "www", "api", "mail", "dev", "x.y"])
types = st.sampled_from(["A", "TXT", "CNAME", "MX"])
contents = st.sampled_from(["1.1.1.1", "2.2.2.2", "t.example", "v=spf1 -all"])
comments = st.sampled_from([None, "by hand", MINE, "homeport: other"])


def _content(kind: str, value: str) -> str:
    if kind == "A":
        return value if value[0].isdigit() else "3.3.3.3"
    if kind in ("CNAME", "MX"):
        return value if not value[0].isdigit() else "m.example"
    return value


@st.composite
def zone_records(draw: st.DrawFn) -> list[Record]:
    out = []
    for i, (name, kind, value, comment) in enumerate(
        draw(st.lists(st.tuples(names, types, contents, comments), max_size=12))
    ):
        fqdn = ZONE if name == "@" else f"{name}.{ZONE}"
        priority = 10 if kind == "MX" else None
        out.append(
            Record(
                fqdn, kind, _content(kind, value), comment=comment, priority=priority, id=f"id{i}"
            )
        )
    return out


@st.composite
def file_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for name, kind, value in draw(st.lists(st.tuples(names, types, contents), max_size=10)):
        entry: dict[str, Any] = {"name": name, "type": kind, "content": _content(kind, value)}
        if kind == "MX":
            entry["priority"] = 10
        out.append(entry)
    return out


rules = st.lists(
    st.builds(
        Rule,
        ref=st.sampled_from(["homeport:a", "homeport:b", "theirs-1", "theirs-2"]),
        expression=st.sampled_from(["(ip.src eq 1.1.1.1)", '(http.host eq "x")']),
        action=st.sampled_from(["block", "log"]),
        id=st.uuids().map(str),
    ),
    max_size=4,
    unique_by=lambda r: r.ref,
)
waf = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(["a", "b", "c", "theirs-1"]),
            "expression": st.sampled_from(["(ip.src eq 1.1.1.1)", "(ip.src eq 2.2.2.2)"]),
        }
    ),
    max_size=3,
    unique_by=lambda r: r["name"],
)


@settings(max_examples=300, deadline=None)
@given(present=zone_records(), wanted=file_records(), present_rules=rules, wanted_rules=waf)
def test_unowned_records_and_rules_are_never_touched(
    present: list[Record],
    wanted: list[dict[str, Any]],
    present_rules: list[Rule],
    wanted_rules: list[dict[str, Any]],
) -> None:
    file = Edge.model_validate(
        {
            "account_id": "a",
            "tunnel": {"id": "t"},
            "zones": {ZONE: {"records": wanted, "waf": wanted_rules}},
        }
    )
    zone = CurrentZone(name=ZONE, id="z", plan="free", records=present, rules=present_rules)
    plan = plan_edge(desired_edge(file), CurrentEdge({ZONE: zone}, None))
    unowned_ids = {r.id for r in present if not r.owned} | {
        r.id for r in present_rules if not r.owned
    }
    for change in plan.changes:
        if isinstance(change, (Update, Delete)):
            assert change.id not in unowned_ids, change
        if isinstance(change, Create) and change.resource == "dns":
            assert str(change.after["comment"]).startswith("homeport:")
    touched = [c for c in plan.changes if isinstance(c, (Update, Delete))]
    assert all(c.id is not None for c in touched)
