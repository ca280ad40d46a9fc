"""homeport.telemetry in a real process: server spans continue the caller's trace, and a trace
crosses a Redis Stream message through the traceparent field, arriving at a real OTLP receiver."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.support.otlp import otlp_receiver

from homeport.dashboard.store import TelemetryStore

__all__ = ["otlp_receiver"]

SCRIPT = textwrap.dedent(
    """
    from opentelemetry.trace import SpanKind
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from homeport import telemetry
    from homeport.telemetry.asgi import ServerSpanMiddleware

    tel = telemetry.configure()
    message = {}

    async def create(request):
        with telemetry.span(tel.tracer, "XADD jobs.events", SpanKind.PRODUCER):
            telemetry.inject_fields(message)
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/api/jobs", create, methods=["POST"])])
    app.add_middleware(ServerSpanMiddleware, tracer=tel.tracer)
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with TestClient(app) as client:
        assert client.post("/api/jobs", headers={"traceparent": parent}).status_code == 200
    with telemetry.span(tel.tracer, "consume job.created", SpanKind.CONSUMER,
                        parent=telemetry.extract_fields(message)):
        pass
    tel.shutdown()
    """
)


def test_trace_runs_from_caller_through_stream_message(
    otlp_receiver: tuple[str, TelemetryStore],
) -> None:
    url, store = otlp_receiver
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SERVICE_NAME": "jobs"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    spans = {s["name"]: s for s in store.trace("0af7651916cd43dd8448eb211c80319c")}
    assert set(spans) == {"POST /api/jobs", "XADD jobs.events", "consume job.created"}
    server, producer, consumer = (
        spans["POST /api/jobs"],
        spans["XADD jobs.events"],
        spans["consume job.created"],
    )
    assert server["parent_span_id"] == "b7ad6b7169203331"
    assert server["attributes"]["http.response.status_code"] == 200
    assert producer["parent_span_id"] == server["span_id"]
    assert consumer["parent_span_id"] == producer["span_id"]
    assert {s["service"] for s in spans.values()} == {"jobs"}
