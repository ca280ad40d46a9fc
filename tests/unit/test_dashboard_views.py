"""The dashboard's pure rendering: span trees, graph layers, tables that escape what they show."""

from __future__ import annotations

from typing import Any

from homeport.dashboard.graph_svg import graph_svg, layers
from homeport.dashboard.views import logs_table, resources_table, visitors_table
from homeport.dashboard.waterfall import tree_order, waterfall


def span(span_id: str, parent: str, start: int, **extra: Any) -> dict[str, Any]:
    return {
        "span_id": span_id,
        "parent_span_id": parent,
        "service": extra.get("service", "jobs"),
        "name": extra.get("name", span_id),
        "kind": 2,
        "start_ns": start,
        "end_ns": start + 10,
        "duration_ms": 1e-5,
        "status_code": extra.get("status_code", 0),
        "attributes": extra.get("attributes", {}),
        "events": [],
    }


def test_spans_come_in_depth_first_order_and_orphans_start_at_the_left() -> None:
    spans = [
        span("c2", "b", 5),
        span("a", "", 0),
        span("b", "a", 1),
        span("c1", "b", 2),
        span("lost", "not-here", 3),
    ]
    assert [(d, s["span_id"]) for d, s in tree_order(spans)] == [
        (0, "a"),
        (1, "b"),
        (2, "c1"),
        (2, "c2"),
        (0, "lost"),
    ]


def test_waterfall_marks_failed_spans_and_escapes_attributes() -> None:
    html = waterfall(
        [
            span("a", "", 0, name="<b>POST</b>"),
            span("b", "a", 2, status_code=2, attributes={"db.statement": "<script>"}),
        ]
    )
    assert "&lt;b&gt;POST&lt;/b&gt;" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'class="span error"' in html
    assert "2 spans across jobs" in html


def test_graph_layers_put_dependencies_left_of_what_waits_on_them() -> None:
    edges = [
        {"from": "seed", "to": "postgres"},
        {"from": "jobs", "to": "seed"},
        {"from": "gateway", "to": "jobs"},
        {"from": "landing", "to": "gateway", "condition": "started"},
    ]
    nodes = ["landing", "gateway", "jobs", "seed", "postgres", "redis"]
    assert layers(nodes, edges) == {
        "postgres": 0,
        "redis": 0,
        "seed": 1,
        "jobs": 2,
        "gateway": 3,
        "landing": 4,
    }
    svg = graph_svg({"nodes": nodes, "edges": edges}, {"jobs": "bad"})
    assert svg.count('class="node"') == 6
    assert 'stroke-dasharray="5,4"' in svg  # landing only waits for the gateway to start
    assert "#c62828" in svg  # jobs drawn as failed


def test_resource_rows_link_http_ports_and_offer_the_right_buttons() -> None:
    rows = [
        {"name": "jobs", "kind": "executable", "state": "running", "health": "healthy",
         "port": 8001, "url": "http://127.0.0.1:8001", "restarts": 2, "waiting_on": []},
        {"name": "postgres", "kind": "postgres", "state": "stopped", "health": None,
         "port": 5432, "url": "postgresql://postgres@127.0.0.1:5432", "restarts": 0,
         "waiting_on": [], "reason": "<oops>"},
    ]  # fmt: skip
    html = resources_table(rows, now=0.0)
    assert '<a href="http://127.0.0.1:8001"' in html
    assert 'href="postgresql' not in html
    assert 'data-action="stop" data-name="jobs"' in html
    assert 'data-action="start" data-name="postgres"' in html
    assert "&lt;oops&gt;" in html


def test_log_rows_link_to_their_trace_only_when_they_have_one() -> None:
    rows = [
        {"time_ns": 0, "service": "ai", "severity_text": "INFO", "body": "tagged",
         "trace_id": "ab" * 16},
        {"time_ns": 0, "service": "ai", "severity_text": "ERROR", "body": "lost", "trace_id": ""},
    ]  # fmt: skip
    html = logs_table(rows)
    assert html.count('href="/traces/') == 1
    assert f'href="/traces/{"ab" * 16}"' in html


def test_visitors_table_lists_places_by_requests() -> None:
    html = visitors_table([("GB", "Willesden", 3), ("SE", "", 1)])
    assert html.index("Willesden") < html.index("SE")
    assert "(unknown city)" in html
    assert "No requests" in visitors_table([])
