"""The emulator's DNS batch, as a property: all or nothing, and the same as one call per record.

Runs the route handlers on an in-memory state (no server): a random batch over a random zone
either fails and leaves the zone untouched, or succeeds and leaves it exactly as the same
operations sent one by one (deletes, patches, puts, posts) would.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.emulators.cloudflare.api import ApiError
from tests.emulators.cloudflare.call import Call
from tests.emulators.cloudflare.defaults import default_state
from tests.emulators.cloudflare.faults import FaultBook
from tests.emulators.cloudflare.routes_dns import (
    batch,
    create_record,
    delete_record,
    patch_record,
    put_record,
)
from tests.emulators.cloudflare.state import EmulatorState

NAMES = ["a", "b", "c", "d", "e", "f", "g", "h"]
contents = st.sampled_from(["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "not-an-ip"])
record_bodies = st.fixed_dictionaries(
    {"type": st.sampled_from(["A", "CNAME", "TXT"]), "name": st.sampled_from(NAMES)}
).flatmap(
    lambda r: st.fixed_dictionaries(
        {**{k: st.just(v) for k, v in r.items()},
         "content": contents if r["type"] == "A" else st.sampled_from(["x.example", "t"]),
         "ttl": st.sampled_from([1, 300])}
    )
)  # fmt: skip


def _zone_state(records: list[dict[str, Any]]) -> EmulatorState:
    data = default_state()
    data["zones"] = [{"id": "e1" * 16, "name": "elkhair.tech", "records": []}]
    state = EmulatorState(data)
    for body in records:
        try:
            _run(state, create_record, "POST", body)
        except ApiError:
            continue
    return state


def _run(state: EmulatorState, handler: Any, method: str, body: Any, **params: str) -> Any:
    call = Call(method, "/x", {"zone_id": "e1" * 16, **params}, {}, body, state, FaultBook())
    return handler(call)


def _records(state: EmulatorState) -> dict[str, tuple[str, str, str, int]]:
    zone = state.zones["e1" * 16]
    return {k: (r["type"], r["name"], r["content"], r["ttl"]) for k, r in zone["records"].items()}


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[EmulatorState, dict[str, list[dict[str, Any]]]]:
    state = _zone_state(draw(st.lists(record_bodies, max_size=6)))
    ids = sorted(state.zones["e1" * 16]["records"])
    deletes = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)) if ids else []
    kept = [i for i in ids if i not in deletes] or ["f" * 32]
    if draw(st.integers(0, 9)) == 0:
        kept.append("f" * 32)  # sometimes a record that does not exist: the batch must fail
    patches = draw(st.lists(st.tuples(st.sampled_from(kept), contents), max_size=2))
    puts = draw(st.lists(st.tuples(st.sampled_from(kept), record_bodies), max_size=2))
    posts = draw(st.lists(record_bodies, max_size=3))
    return state, {
        "deletes": [{"id": i} for i in deletes],
        "patches": [{"id": i, "content": c} for i, c in patches],
        "puts": [{"id": i, **body} for i, body in puts],
        "posts": posts,
    }


def _one_by_one(state: EmulatorState, ops: dict[str, list[dict[str, Any]]]) -> None:
    for op in ops["deletes"]:
        _run(state, delete_record, "DELETE", None, record_id=op["id"])
    for key, handler in (("patches", patch_record), ("puts", put_record)):
        for op in ops[key]:
            body = {k: v for k, v in op.items() if k != "id"}
            _run(state, handler, "PATCH", body, record_id=op["id"])
    for op in ops["posts"]:
        _run(state, create_record, "POST", op)


@settings(max_examples=80, deadline=None)
@given(scenarios())
def test_a_batch_is_all_or_nothing_and_equals_the_calls_one_by_one(
    scenario: tuple[EmulatorState, dict[str, list[dict[str, Any]]]],
) -> None:
    state, ops = scenario
    before = _records(state)
    replay = EmulatorState(copy.deepcopy(state.dump()))
    try:
        answer = _run(state, batch, "POST", ops)
    except ApiError:
        assert _records(state) == before
        return
    _one_by_one(replay, ops)
    assert sorted(_records(state).values()) == sorted(_records(replay).values())
    assert {key: len(value) for key, value in answer["result"].items()} == {
        key: len(value) for key, value in ops.items()
    }
