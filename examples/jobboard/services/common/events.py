"""The ``job.created`` event on the Redis Stream that feeds the AI worker.

Redis Stream entries have no headers, so the producer span's ``traceparent`` travels among the
entry's fields and the worker continues the trace from there.
"""

from __future__ import annotations

from opentelemetry.trace import SpanKind
from redis.asyncio import Redis

from homeport import telemetry
from services.common.tracing import tracer

JOB_CREATED = "job.created"


def messaging_attributes(stream: str, operation: str) -> dict[str, str]:
    """The semantic-convention attributes of a span that publishes to or reads from ``stream``."""
    return {
        "messaging.system": "redis",
        "messaging.destination.name": stream,
        "messaging.operation": operation,
    }


async def publish_job_created(redis: Redis, stream: str, job_id: int, title: str) -> str:
    """XADD a ``job.created`` entry in a PRODUCER span; returns the entry's id."""
    attributes = messaging_attributes(stream, "publish")
    with telemetry.span(tracer, f"{stream} publish", SpanKind.PRODUCER, attributes) as span:
        fields = telemetry.inject_fields(
            {"type": JOB_CREATED, "job_id": str(job_id), "title": title}
        )
        entry_id = str(await redis.xadd(stream, fields))  # type: ignore[arg-type]
        span.set_attribute("messaging.message.id", entry_id)
    return entry_id
