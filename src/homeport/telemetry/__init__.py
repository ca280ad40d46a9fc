"""OpenTelemetry for homeport's own services and the example services, over standard OTLP.

``configure()`` reads the standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_SERVICE_NAME``): locally ``homeport up`` points them at its dashboard; in production the
same services export to an OpenTelemetry Collector, Jaeger or Grafana by changing that one variable.
Without an endpoint nothing is exported, but trace context still propagates.

Redis Stream messages have no headers, so a producer puts its ``traceparent`` among the message's
fields (``inject_fields``) and the consumer continues the trace from them (``extract_fields``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACEPARENT = "traceparent"
_state: dict[str, Telemetry] = {}


@dataclass
class Telemetry:
    """The configured tracer of this process and how to flush it."""

    service_name: str
    tracer: trace.Tracer
    provider: TracerProvider | None

    def shutdown(self) -> None:
        """Flush and stop exporting (call on exit so the last spans are not lost)."""
        if self.provider is not None:
            self.provider.shutdown()


def configure(service_name: str | None = None) -> Telemetry:
    """Set up tracing (and OTLP log export) once per process; later calls return the same."""
    if "current" in _state:
        return _state["current"]
    name = service_name or os.environ.get("OTEL_SERVICE_NAME") or "unknown_service"
    endpoint = os.environ.get(ENDPOINT_VARIABLE, "").rstrip("/")
    provider: TracerProvider | None = None
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )

        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"),
                schedule_delay_millis=_int_env("OTEL_BSP_SCHEDULE_DELAY", 200),
            )
        )
        trace.set_tracer_provider(provider)
        _export_logs(endpoint, name)
    tracer = (provider or trace.get_tracer_provider()).get_tracer("homeport")
    _state["current"] = Telemetry(name, tracer, provider)
    return _state["current"]


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _export_logs(endpoint: str, name: str) -> None:
    """Send Python log records as OTLP logs, each carrying the active trace and span ids."""
    from opentelemetry.exporter.otlp.proto.http._log_exporter import (  # noqa: PLC0415
        OTLPLogExporter,
    )
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler  # noqa: PLC0415
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor  # noqa: PLC0415

    logger_provider = LoggerProvider(resource=Resource.create({"service.name": name}))
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{endpoint}/v1/logs"))
    )
    logging.getLogger().addHandler(LoggingHandler(logger_provider=logger_provider))


def inject_headers(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Add the current trace context (``traceparent``) to outgoing HTTP headers."""
    propagate.inject(headers)
    return headers


def inject_fields(fields: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Add the current ``traceparent`` to a Redis Stream message's fields."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if TRACEPARENT in carrier:
        fields[TRACEPARENT] = carrier[TRACEPARENT]
    return fields


def extract_fields(fields: Mapping[str, str]) -> otel_context.Context:
    """The trace context a producer put in a Redis Stream message (empty when none)."""
    carrier = {TRACEPARENT: fields[TRACEPARENT]} if TRACEPARENT in fields else {}
    return propagate.extract(carrier)


@contextmanager
def span(
    tracer: trace.Tracer,
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int | float | bool] | None = None,
    parent: otel_context.Context | None = None,
) -> Iterator[Span]:
    """A span that records an exception and marks itself failed when the block raises."""
    with tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes=dict(attributes or {})
    ) as current:
        try:
            yield current
        except BaseException as exc:
            current.record_exception(exc)
            current.set_status(Status(StatusCode.ERROR, str(exc)))
            raise
