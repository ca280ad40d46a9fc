"""One server span per request, W3C trace context upstream, and Prometheus metrics.

When ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, every request becomes an OpenTelemetry SDK span
exported over OTLP/HTTP. When it is not, nothing would receive spans, so the gateway only carries
the trace forward: it keeps the caller's trace id and gives the upstream a fresh parent span id.
"""

from __future__ import annotations

import os
import re
import time
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from random import getrandbits
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
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

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

    def start(self, method: str, route: str, traceparent: bytes | None, path: str) -> RequestTrace:
        """Begin the request's server span, child of the caller's traceparent when valid."""
        parent = parse_traceparent(traceparent.decode("latin-1")) if traceparent else None
        if self._tracer is None:
            # ids need to be unique, not secret (the OpenTelemetry SDK uses random too)
            if parent is None:  # a new trace, sampled; 192 random bits make both ids
                ids = f"{getrandbits(192) | 1 << 64 | 1:048x}"
                return CarriedTrace(f"00-{ids[:32]}-{ids[32:]}-01")
            trace_id, _, flags = parent
            return CarriedTrace(f"00-{trace_id:032x}-{getrandbits(64) or 1:016x}-{flags:02x}")
        context = None
        if parent is not None:
            remote = SpanContext(parent[0], parent[1], True, TraceFlags(parent[2]))
            context = set_span_in_context(NonRecordingSpan(remote))
        span = self._tracer.start_span(
            f"{method} {route}",
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
    """The gateway's Prometheus metrics: plain counters updated inline (a dict lookup and an
    addition per request), turned into metric families only when /metrics is scraped."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests: dict[tuple[str, int], int] = {}
        # per route: a count per bucket (the last one is +Inf), then the sum of the latencies
        self._latency: dict[str, list[float]] = {}
        self._errors: dict[tuple[str, str], int] = {}
        self.registry.register(self)

    def observe(self, route: str, status: int, started: float) -> None:
        """Count one answered request and its latency."""
        elapsed = time.perf_counter() - started
        key = (route, status)
        self._requests[key] = self._requests.get(key, 0) + 1
        histogram = self._latency.get(route)
        if histogram is None:
            histogram = self._latency[route] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        histogram[bisect_left(LATENCY_BUCKETS, elapsed)] += 1
        histogram[-1] += elapsed

    def upstream_error(self, route: str, kind: str) -> None:
        """Count one upstream failure."""
        key = (route, kind)
        self._errors[key] = self._errors.get(key, 0) + 1

    def collect(self) -> Iterator[Metric]:
        """The metric families, for the registry (called on each scrape)."""
        requests = CounterMetricFamily(
            "homeport_gateway_requests",
            "Requests answered, by route and status",
            labels=["route", "status"],
        )
        for (route, status), count in sorted(self._requests.items()):
            requests.add_metric([route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "homeport_gateway_request_duration_seconds",
            "Time to the response's headers, by route",
            labels=["route"],
        )
        bounds = [floatToGoString(bound) for bound in LATENCY_BUCKETS]  # type: ignore[no-untyped-call]
        for route, histogram in sorted(self._latency.items()):
            cumulative, buckets = 0.0, list[tuple[str, float]]()
            for bound, hits in zip([*bounds, "+Inf"], histogram[:-1], strict=True):
                cumulative += hits
                buckets.append((bound, cumulative))
            latency.add_metric([route], buckets, histogram[-1])
        yield latency
        errors = CounterMetricFamily(
            "homeport_gateway_upstream_errors",
            "Upstream failures, by route and kind (refused, timeout, broken)",
            labels=["route", "kind"],
        )
        for (route, kind), count in sorted(self._errors.items()):
            errors.add_metric([route, kind], count)
        yield errors
