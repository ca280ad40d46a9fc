"""One server span per request, W3C trace context upstream, and Prometheus metrics.

When ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, every request becomes an OpenTelemetry SDK span
exported over OTLP/HTTP. When it is not, nothing would receive spans, so the gateway only carries
the trace forward: it keeps the caller's trace id and gives the upstream a fresh parent span id.
"""

from __future__ import annotations

import os
import random
import re
import time
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)
from prometheus_client import CollectorRegistry, Counter, Histogram

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def parse_traceparent(value: str | None) -> tuple[int, int, int] | None:
    """(trace id, parent span id, flags) of a valid W3C traceparent, or None."""
    if not value:
        return None
    found = TRACEPARENT.match(value.strip())
    if found is None:
        return None
    trace_id, span_id = int(found.group(1), 16), int(found.group(2), 16)
    if trace_id == 0 or span_id == 0:
        return None
    return trace_id, span_id, int(found.group(3), 16)


def format_traceparent(trace_id: int, span_id: int, flags: int) -> str:
    """The W3C traceparent header for a span."""
    return f"00-{trace_id:032x}-{span_id:016x}-{flags:02x}"


class RequestTrace(Protocol):
    """The trace of one request: the traceparent to send upstream, then attributes and an end."""

    traceparent: str

    def finish(self, attributes: dict[str, str | int], status: int) -> None:
        """Record the outcome and end the span."""


@dataclass
class CarriedTrace:
    """No exporter configured: carry the trace id on with a new span id, record nothing."""

    traceparent: str

    def finish(self, attributes: dict[str, str | int], status: int) -> None:
        """Nothing to record without an exporter."""


@dataclass
class ExportedTrace:
    """An SDK server span, exported over OTLP when it ends."""

    span: Span
    traceparent: str = field(init=False)

    def __post_init__(self) -> None:
        context = self.span.get_span_context()
        self.traceparent = format_traceparent(
            context.trace_id, context.span_id, int(context.trace_flags)
        )

    def finish(self, attributes: dict[str, str | int], status: int) -> None:
        """Set the route, upstream, status and geo attributes and end the span."""
        self.span.set_attributes(attributes)
        self.span.set_attribute("http.response.status_code", status)
        if status >= 500:
            self.span.set_status(Status(StatusCode.ERROR))
        self.span.end()


class Tracing:
    """Starts one trace per request; exports over OTLP when the environment asks for it."""

    def __init__(self, provider: TracerProvider | None) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("homeport.gateway") if provider else None

    @classmethod
    def from_environment(cls, service_name: str = "gateway") -> Tracing:
        """OTLP/HTTP export when OTEL_EXPORTER_OTLP_ENDPOINT is set, carrying only otherwise."""
        if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            return cls(None)
        name = os.environ.get("OTEL_SERVICE_NAME", service_name)
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        return cls(provider)

    @property
    def exporting(self) -> bool:
        """True when spans are recorded and exported."""
        return self._tracer is not None

    def start(self, name: str, traceparent: str | None, method: str, path: str) -> RequestTrace:
        """Begin the request's server span, child of the caller's traceparent when valid."""
        parent = parse_traceparent(traceparent)
        if self._tracer is None:
            # ids need to be unique, not secret (the OpenTelemetry SDK uses random too)
            trace_id = parent[0] if parent else random.getrandbits(128) or 1
            flags = parent[2] if parent else 1
            span_id = random.getrandbits(64) or 1
            return CarriedTrace(format_traceparent(trace_id, span_id, flags))
        context = None
        if parent is not None:
            remote = SpanContext(parent[0], parent[1], True, TraceFlags(parent[2]))
            context = set_span_in_context(NonRecordingSpan(remote))
        span = self._tracer.start_span(
            name,
            context=context,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        )
        return ExportedTrace(span)

    def shutdown(self) -> None:
        """Flush and stop the exporter."""
        if self.provider is not None:
            self.provider.shutdown()


class Metrics:
    """The gateway's Prometheus metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "homeport_gateway_requests",
            "Requests answered, by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "homeport_gateway_request_duration_seconds",
            "Time to the response's headers, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "homeport_gateway_upstream_errors",
            "Upstream failures, by route and kind (refused, timeout, broken)",
            ["route", "kind"],
            registry=self.registry,
        )
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}

    def observe(self, route: str, status: int, started: float) -> None:
        """Count one answered request and its latency."""
        children = self._children.get((route, status))
        if children is None:
            children = (self.requests.labels(route, str(status)), self.latency.labels(route))
            self._children[(route, status)] = children
        children[0].inc()
        children[1].observe(time.perf_counter() - started)

    def upstream_error(self, route: str, kind: str) -> None:
        """Count one upstream failure."""
        self.upstream_errors.labels(route, kind).inc()
