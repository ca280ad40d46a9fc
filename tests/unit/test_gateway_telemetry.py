"""W3C traceparent parsing and carrying; metrics by route and status."""

from __future__ import annotations

import time

from prometheus_client import generate_latest

from homeport.gateway.telemetry import Metrics, Tracing, format_traceparent, parse_traceparent

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_parse_and_format_round_trip() -> None:
    parsed = parse_traceparent(CALLER)
    assert parsed is not None
    assert format_traceparent(*parsed) == CALLER


def test_invalid_traceparents_are_ignored() -> None:
    for bad in ["", "garbage", "00-" + "0" * 32 + "-b7ad6b7169203331-01", CALLER.upper()[:-1]]:
        assert parse_traceparent(bad) is None


def test_carried_trace_keeps_the_trace_id_with_a_new_parent() -> None:
    trace = Tracing(None).start("GET", "jobs", CALLER.encode(), "/api/jobs")
    version, trace_id, span_id, flags = trace.traceparent.split("-")
    assert trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert span_id != "b7ad6b7169203331"
    assert (version, flags) == ("00", "01")


def test_a_request_without_traceparent_starts_a_trace() -> None:
    trace = Tracing(None).start("GET", "jobs", None, "/")
    assert parse_traceparent(trace.traceparent) is not None


def test_metrics_count_by_route_and_status() -> None:
    metrics = Metrics()
    metrics.observe("jobs", 200, time.perf_counter())
    metrics.upstream_error("jobs", "refused")
    text = generate_latest(metrics.registry).decode()
    assert 'homeport_gateway_requests_total{route="jobs",status="200"} 1.0' in text
    assert 'homeport_gateway_upstream_errors_total{kind="refused",route="jobs"} 1.0' in text
    assert "homeport_gateway_request_duration_seconds_bucket" in text
