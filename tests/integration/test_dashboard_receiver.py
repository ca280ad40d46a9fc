"""The OTLP receiver on loopback, fed by the real OpenTelemetry SDK exporter (protobuf) and JSON."""

from __future__ import annotations

import json
import time

import httpx
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from tests.support.otlp import otlp_receiver

from homeport.dashboard.store import TelemetryStore

__all__ = ["otlp_receiver"]


def test_sdk_exported_spans_arrive_with_parents(otlp_receiver: tuple[str, TelemetryStore]) -> None:
    url, store = otlp_receiver
    provider = TracerProvider(resource=Resource.create({"service.name": "jobs"}))
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", timeout=5)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("POST /api/jobs") as parent,
        tracer.start_as_current_span("INSERT jobs", attributes={"db.system": "postgresql"}),
    ):
        pass
    provider.shutdown()
    trace_id = f"{parent.get_span_context().trace_id:032x}"
    spans = store.trace(trace_id)
    assert [s["name"] for s in spans] == ["POST /api/jobs", "INSERT jobs"]
    assert spans[1]["parent_span_id"] == spans[0]["span_id"]
    assert spans[1]["attributes"] == {"db.system": "postgresql"}
    assert {s["service"] for s in spans} == {"jobs"}


def test_json_bodies_with_hex_ids_are_accepted(otlp_receiver: tuple[str, TelemetryStore]) -> None:
    url, store = otlp_receiver
    start = time.time_ns()
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "ai"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "consume job.created",
                                "kind": 5,
                                "startTimeUnixNano": str(start),
                                "endTimeUnixNano": str(start + 1_000_000_000),
                            }
                        ]
                    }
                ],
            }
        ]
    }
    response = httpx.post(
        f"{url}/v1/traces", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {}
    [span] = store.trace("5b8efff798038103d269b633813fc60c")
    assert (span["service"], span["span_id"], span["duration_ms"]) == (
        "ai",
        "eee19b7ec3c1b174",
        1000.0,
    )


def test_garbage_gets_400_and_stores_nothing(otlp_receiver: tuple[str, TelemetryStore]) -> None:
    url, store = otlp_receiver
    response = httpx.post(
        f"{url}/v1/traces",
        content=b"\xff\x00garbage",
        headers={"Content-Type": "application/x-protobuf"},
    )
    assert response.status_code == 400
    assert store.counts()["spans"] == 0
