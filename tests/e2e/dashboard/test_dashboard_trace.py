"""With the example platform up, one request through the gateway to the microservices becomes
one trace: gateway → jobs service → PostgreSQL and the stream producer → the AI worker."""

from __future__ import annotations

from typing import Any

import httpx
from tests.support.dashboard import (
    RunningPlatform,
    create_job,
    new_traceparent,
    wait_for_spans,
)
from tests.support.example import poll

SERVER, CLIENT, PRODUCER, CONSUMER = 2, 3, 4, 5


def test_a_created_job_is_one_trace_from_the_gateway_to_the_ai_worker(
    platform: RunningPlatform,
) -> None:
    trace_id, caller = create_job(platform, "Platform engineer (trace test)")

    spans = wait_for_spans(platform, trace_id)
    by_id = {s["span_id"]: s for s in spans}

    [gateway] = [s for s in spans if s["service"] == "gateway"]
    assert (gateway["kind"], gateway["parent_span_id"]) == (SERVER, caller)
    assert gateway["attributes"]["homeport.upstream"] == "jobs"
    assert gateway["attributes"]["geo.country.iso_code"] == "GB"

    [jobs] = [s for s in spans if s["service"] == "jobs" and s["kind"] == SERVER]
    assert jobs["name"] == "POST /api/jobs"
    assert jobs["parent_span_id"] == gateway["span_id"]
    assert jobs["attributes"]["http.response.status_code"] == 201

    insert = next(s for s in spans if s["attributes"].get("db.operation") == "INSERT")
    assert insert["attributes"]["db.system"] == "postgresql"
    assert insert["attributes"]["db.statement"].startswith("INSERT INTO jobs")
    assert (insert["service"], insert["kind"]) == ("jobs", CLIENT)
    assert insert["parent_span_id"] == jobs["span_id"]

    [producer] = [s for s in spans if s["kind"] == PRODUCER]
    assert (producer["service"], producer["name"]) == ("jobs", "jobs.events publish")
    assert producer["parent_span_id"] == jobs["span_id"]
    [xadd] = [s for s in spans if s["name"] == "XADD"]
    assert (xadd["attributes"]["db.system"], xadd["parent_span_id"]) == (
        "redis",
        producer["span_id"],
    )

    [consumer] = [s for s in spans if s["kind"] == CONSUMER]
    assert (consumer["service"], consumer["name"]) == ("ai", "jobs.events process")
    assert consumer["parent_span_id"] == producer["span_id"]
    update = next(s for s in spans if s["attributes"].get("db.operation") == "UPDATE")
    assert (update["service"], update["parent_span_id"]) == ("ai", consumer["span_id"])

    # Every span hangs from the caller through the chain above: one trace, no orphans.
    for span in spans:
        parent = span["parent_span_id"]
        assert parent == caller or parent in by_id, f"{span['name']} has an unknown parent"
    assert {s["service"] for s in spans} == {"gateway", "jobs", "ai"}


def test_homeport_traces_shows_the_same_trace_as_a_tree(platform: RunningPlatform) -> None:
    trace_id, _ = create_job(platform, "Site reliability engineer (cli test)")
    wait_for_spans(platform, trace_id)
    shown = platform.homeport("traces", "--trace-id", trace_id)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"trace {trace_id}"
    order = [
        next(i for i, line in enumerate(lines) if marker in line)
        for marker in ("gateway POST jobs", "jobs POST /api/jobs", "jobs.events publish", "ai ")
    ]
    assert order == sorted(order)


def test_up_prints_the_dashboard_url_and_homeport_dashboard_prints_it_again(
    platform: RunningPlatform,
) -> None:
    assert f"dashboard: {platform.dashboard_url}" in platform.up_output
    shown = platform.homeport("dashboard")
    assert (shown.returncode, shown.stdout.strip()) == (0, platform.dashboard_url)


def test_the_landing_page_calls_the_gateway_inside_the_visitors_trace(
    platform: RunningPlatform,
) -> None:
    traceparent, trace_id, caller = new_traceparent()
    page = httpx.get(
        f"{platform.endpoints['gateway']}/", headers={"traceparent": traceparent}, timeout=10
    )
    assert page.status_code == 200, page.text
    assert "Job board" in page.text

    def chain(spans: list[dict[str, Any]], span: dict[str, Any]) -> list[str]:
        """service:kind of each ancestor of ``span``, nearest first."""
        by_id = {s["span_id"]: s for s in spans}
        names = []
        while span["parent_span_id"] in by_id:
            span = by_id[span["parent_span_id"]]
            names.append(f"{span['service']}:{span['kind']}")
        return names

    expected = [
        f"monolith:{SERVER}",
        f"gateway:{SERVER}",
        f"landing:{CLIENT}",
        f"landing:{SERVER}",
        f"gateway:{SERVER}",
    ]

    def complete() -> list[dict[str, Any]] | None:
        spans = platform.trace(trace_id)
        queries = [s for s in spans if s["service"] == "monolith" and s["kind"] == CLIENT]
        return spans if queries and chain(spans, queries[0]) == expected else None

    spans = poll(complete, 20, f"the chain {expected} above the monolith's query")
    first_gateway = next(s for s in spans if s["parent_span_id"] == caller)
    assert first_gateway["service"] == "gateway"
