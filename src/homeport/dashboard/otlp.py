"""Decode OTLP/HTTP export requests (protobuf or JSON) into plain rows for the telemetry store."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from homeport.errors import HomeportError

_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


class OtlpDecodeError(HomeportError):
    """An OTLP request body that is neither valid protobuf nor valid OTLP/JSON."""


@dataclass(frozen=True)
class SpanRow:
    """One span as stored: ids in lowercase hex, times in Unix nanoseconds."""

    trace_id: str
    span_id: str
    parent_span_id: str
    service: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    status_code: int
    status_message: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    events: list[dict[str, Any]]
    links: list[dict[str, str]]


@dataclass(frozen=True)
class LogRow:
    """One log record as stored."""

    time_ns: int
    service: str
    severity_text: str
    severity_number: int
    body: str
    trace_id: str
    span_id: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class MetricRow:
    """One metric data point, flattened to a number (sum, gauge, histogram count)."""

    time_ns: int
    service: str
    name: str
    kind: str
    value: float
    attributes: dict[str, Any]


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as a plain Python value."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, which)


def attributes(pairs: Any) -> dict[str, Any]:
    """OTLP KeyValue pairs as a dict."""
    result: dict[str, Any] = {}
    pair: KeyValue
    for pair in pairs:
        result[pair.key] = any_value(pair.value)
    return result


def _parse(body: bytes, content_type: str, message: Message) -> None:
    try:
        if "json" in content_type:
            data = json.loads(body or b"{}")
            _hex_ids_to_base64(data)
            json_format.ParseDict(data, message, ignore_unknown_fields=True)
        else:
            message.ParseFromString(body)
    except (DecodeError, json_format.ParseError, ValueError) as exc:
        raise OtlpDecodeError(f"not a valid OTLP request ({content_type}): {exc}") from exc


def _hex_ids_to_base64(node: Any) -> None:
    """OTLP/JSON writes ids as hex; protobuf's JSON mapping wants base64 for bytes."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str) and value:
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                _hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids_to_base64(item)


def _scoped(
    resources: Any, scope_field: str, items_field: str
) -> Iterator[tuple[dict[str, Any], str, Any]]:
    """(resource attributes, service name, item) for every item under resources and scopes:
    the same two-level nesting that spans, log records and metrics share in OTLP."""
    for resource_entry in resources:
        resource = attributes(resource_entry.resource.attributes)
        service = str(resource.get("service.name", "unknown"))
        for scope in getattr(resource_entry, scope_field):
            for item in getattr(scope, items_field):
                yield resource, service, item


def decode_traces(body: bytes, content_type: str) -> list[SpanRow]:
    """Every span of an ExportTraceServiceRequest."""
    request = ExportTraceServiceRequest()
    _parse(body, content_type, request)
    rows: list[SpanRow] = []
    for resource, service, span in _scoped(request.resource_spans, "scope_spans", "spans"):
        rows.append(
            SpanRow(
                trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(),
                parent_span_id=span.parent_span_id.hex(),
                service=service,
                name=span.name,
                kind=int(span.kind),
                start_ns=int(span.start_time_unix_nano),
                end_ns=int(span.end_time_unix_nano),
                status_code=int(span.status.code),
                status_message=span.status.message,
                attributes=attributes(span.attributes),
                resource=resource,
                events=[
                    {
                        "name": e.name,
                        "time_ns": int(e.time_unix_nano),
                        "attributes": attributes(e.attributes),
                    }
                    for e in span.events
                ],
                links=[
                    {"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex()}
                    for link in span.links
                ],
            )
        )
    return rows


def decode_logs(body: bytes, content_type: str) -> list[LogRow]:
    """Every log record of an ExportLogsServiceRequest."""
    request = ExportLogsServiceRequest()
    _parse(body, content_type, request)
    rows: list[LogRow] = []
    for _, service, record in _scoped(request.resource_logs, "scope_logs", "log_records"):
        body_value = any_value(record.body)
        rows.append(
            LogRow(
                time_ns=int(record.time_unix_nano or record.observed_time_unix_nano),
                service=service,
                severity_text=record.severity_text,
                severity_number=int(record.severity_number),
                body=body_value if isinstance(body_value, str) else json.dumps(body_value),
                trace_id=record.trace_id.hex(),
                span_id=record.span_id.hex(),
                attributes=attributes(record.attributes),
            )
        )
    return rows


def decode_metrics(body: bytes, content_type: str) -> list[MetricRow]:
    """Every data point of an ExportMetricsServiceRequest, as one number each."""
    request = ExportMetricsServiceRequest()
    _parse(body, content_type, request)
    rows: list[MetricRow] = []
    for _, service, metric in _scoped(request.resource_metrics, "scope_metrics", "metrics"):
        kind = metric.WhichOneof("data") or "unknown"
        data = getattr(metric, kind, None)
        for point in getattr(data, "data_points", []):
            if kind == "histogram":
                value = float(point.count)
            else:
                number = point.WhichOneof("value")
                value = float(getattr(point, number)) if number else 0.0
            rows.append(
                MetricRow(
                    int(point.time_unix_nano),
                    service,
                    metric.name,
                    kind,
                    value,
                    attributes(point.attributes),
                )
            )
    return rows
