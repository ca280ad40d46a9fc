"""The resource graph, pure: conditions, what may start, subsets, re-gating, stop order, chain."""

from __future__ import annotations

import pytest

from homeport.model import load_platform_text
from homeport.orchestrator.graph import (
    Graph,
    GraphError,
    Progress,
    Timing,
    Wait,
    blocked_by,
    build_graph,
    closure,
    critical_chain,
    make_graph,
    regated_by,
    startable,
    stop_levels,
)

RUNNING = Progress(started=True)
HEALTHY = Progress(started=True, healthy=True)
DONE = Progress(completed=True)
FAILED = Progress(failed=True)


def _graph() -> Graph:
    return make_graph(
        ["db", "cache", "migrate", "api", "tail", "web"],
        [
            Wait("migrate", "db", "healthy"),
            Wait("api", "migrate", "completed"),
            Wait("api", "cache", "healthy"),
            Wait("tail", "api", "started"),
            Wait("web", "api", "healthy"),
        ],
    )


@pytest.mark.parametrize(
    ("progress", "expected"),
    [
        ({}, ["db", "cache"]),
        ({"db": RUNNING, "cache": RUNNING}, []),
        ({"db": HEALTHY, "cache": RUNNING}, ["migrate"]),
        ({"db": HEALTHY, "cache": HEALTHY, "migrate": RUNNING}, []),
        ({"db": HEALTHY, "cache": HEALTHY, "migrate": DONE}, ["api"]),
        ({"db": HEALTHY, "cache": HEALTHY, "migrate": DONE, "api": RUNNING}, ["tail"]),
        ({"db": HEALTHY, "cache": HEALTHY, "migrate": DONE, "api": HEALTHY}, ["tail", "web"]),
    ],
)
def test_everything_whose_waits_are_met_starts_together(
    progress: dict[str, Progress], expected: list[str]
) -> None:
    assert startable(_graph(), progress) == expected


def test_a_failed_dependency_blocks_its_waiters() -> None:
    progress = {"db": HEALTHY, "cache": FAILED, "migrate": DONE}
    assert blocked_by(_graph(), "api", progress) == ["cache"]
    assert "api" not in startable(_graph(), progress)


def test_a_completed_step_satisfies_every_condition() -> None:
    for condition in ("healthy", "started", "completed"):
        assert DONE.meets(condition)  # type: ignore[arg-type]
    assert not HEALTHY.meets("completed")


def test_a_subset_is_the_services_and_all_they_wait_for() -> None:
    assert closure(_graph(), ["api"]).names == ("db", "cache", "migrate", "api")
    assert closure(_graph(), []).names == _graph().names
    with pytest.raises(GraphError, match="no service named 'nope'"):
        closure(_graph(), ["nope"])


def test_a_restart_regates_what_waits_on_it_but_not_finished_steps() -> None:
    assert regated_by(_graph(), "db") == ["migrate"]  # migrate runs while db restarts
    assert regated_by(_graph(), "migrate") == []  # a completed step does not un-complete
    assert regated_by(_graph(), "cache") == ["api", "tail", "web"]


def test_stop_order_is_reverse_dependency_order() -> None:
    assert stop_levels(_graph()) == [["tail", "web"], ["api"], ["cache", "migrate"], ["db"]]


def test_a_cycle_is_rejected_with_its_path() -> None:
    with pytest.raises(GraphError, match=r"dependency cycle: a -> b -> c -> a"):
        make_graph(
            ["a", "b", "c"],
            [Wait("a", "b", "healthy"), Wait("b", "c", "started"), Wait("c", "a", "completed")],
        )


def test_build_graph_reads_the_three_wait_keys() -> None:
    loaded = load_platform_text(
        "name: d\nservices:\n"
        "  db: {kind: postgres}\n"
        "  m: {run: x, wait_for: db}\n"
        "  a: {run: y, wait_for_completion: [m], wait_for_start: [db]}\n"
    )
    graph = build_graph(loaded.platform.services)
    assert sorted((w.waiter, w.target, w.condition) for w in graph.waits) == [
        ("a", "db", "started"),
        ("a", "m", "completed"),
        ("m", "db", "healthy"),
    ]


def test_the_critical_chain_follows_the_dependency_that_released_each_resource() -> None:
    timings = {
        "db": Timing(0.0, 1.0),
        "cache": Timing(0.0, 0.2),
        "migrate": Timing(1.0, 1.5),
        "api": Timing(1.5, 2.5),
        "tail": Timing(1.6, 1.7),
        "web": Timing(2.5, 3.0),
    }
    chain = critical_chain(_graph(), timings)
    assert [(c.name, c.at, c.took) for c in chain] == [
        ("web", 3.0, 0.5),
        ("api", 2.5, 1.0),
        ("migrate", 1.5, 0.5),
        ("db", 1.0, 1.0),
    ]
    assert critical_chain(_graph(), {}) == []
