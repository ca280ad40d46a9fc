"""The telemetry store: traces group their spans, queries filter, limits hold."""

from __future__ import annotations

from pathlib import Path

from homeport.dashboard.otlp import LogRow, SpanRow
from homeport.dashboard.store import Limits, TelemetryStore

SECOND = 1_000_000_000


def span(
    trace: str, span_id: str, parent: str, service: str, start: int, ms: int, **attrs: object
) -> SpanRow:
    return SpanRow(
        trace_id=trace,
        span_id=span_id,
        parent_span_id=parent,
        service=service,
        name=f"{service} op",
        kind=2,
        start_ns=start,
        end_ns=start + ms * 1_000_000,
        status_code=2 if attrs.pop("error", False) else 0,
        status_message="",
        attributes=dict(attrs),
        resource={"service.name": service},
        events=[],
        links=[],
    )


def test_a_trace_lists_its_spans_in_order_and_summarises(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "t.db")
    now = 1_700_000_000 * SECOND
    store.add_spans(
        [
            span("aa" * 16, "02" * 8, "01" * 8, "jobs", now + 5_000_000, 10),
            span("aa" * 16, "01" * 8, "", "gateway", now, 20),
            span("bb" * 16, "03" * 8, "", "monolith", now + SECOND, 3, error=True),
        ]
    )
    spans = store.trace("AA" * 16)
    assert [s["service"] for s in spans] == ["gateway", "jobs"]
    assert spans[1]["parent_span_id"] == spans[0]["span_id"]
    summaries = store.traces()
    assert [t.trace_id for t in summaries] == ["bb" * 16, "aa" * 16]
    first = summaries[1]
    assert (first.root_service, first.span_count, first.services) == (
        "gateway",
        2,
        ["gateway", "jobs"],
    )
    assert first.duration_ms == 20
    assert [t.trace_id for t in store.traces(service="jobs")] == ["aa" * 16]
    assert [t.trace_id for t in store.traces(errors_only=True)] == ["bb" * 16]
    assert [t.trace_id for t in store.traces(min_duration_ms=15)] == ["aa" * 16]


def test_limits_by_count_and_age_keep_the_newest(tmp_path: Path) -> None:
    store = TelemetryStore(
        tmp_path / "t.db", Limits(max_spans=50, max_logs=5, max_age_seconds=3600)
    )
    now = 1_700_000_000 * SECOND
    store.add_spans(
        span(f"{i:032x}", f"{i:016x}", "", "s", now + i * SECOND, 1) for i in range(120)
    )
    store.add_spans([span("ff" * 16, "ff" * 8, "", "old", now - 7200 * SECOND, 1)])
    store.add_logs(LogRow(now + i, "s", "INFO", 9, f"line {i}", "", "", {}) for i in range(9))
    removed = store.prune(now_ns=now + 120 * SECOND)
    assert store.counts()["spans"] == 50
    assert removed["spans"] == 71
    assert store.trace("ff" * 16) == []
    assert store.trace(f"{119:032x}") != []
    assert [r["body"] for r in store.logs()] == [f"line {i}" for i in (8, 7, 6, 5, 4)]


def test_telemetry_survives_reopening(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "t.db")
    store.add_spans([span("cc" * 16, "01" * 8, "", "gateway", 10 * SECOND, 1)])
    store.close()
    assert len(TelemetryStore(tmp_path / "t.db").trace("cc" * 16)) == 1


def test_visitors_count_requests_by_country_and_city(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "t.db")
    rows = [
        span(
            f"{i:032x}",
            f"{i:016x}",
            "",
            "gateway",
            i * SECOND,
            1,
            **{
                "geo.country.iso_code": "SE",
                "geo.locality.name": "Stockholm" if i % 3 else "Malmö",
            },
        )
        for i in range(1, 7)
    ]
    store.add_spans(rows)
    assert store.visitors() == [("SE", "Stockholm", 4), ("SE", "Malmö", 2)]
