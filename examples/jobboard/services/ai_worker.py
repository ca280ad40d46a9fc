"""The AI worker: reads ``job.created`` from the Redis Stream in a consumer group, tags the job
from its text, writes the tags onto the job, then acknowledges the entry.

An entry is acknowledged only after its tags are committed, so a worker that dies mid-way gets
the entry again (its own pending entries are re-read first on start). Serves /healthz on PORT;
SIGTERM finishes the entry in hand and stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

import psycopg
from opentelemetry.trace import SpanKind
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from starlette.applications import Starlette

from homeport import telemetry
from services.common import store
from services.common.events import JOB_CREATED, messaging_attributes
from services.common.settings import Settings
from services.common.tags import tags_for
from services.common.tracing import tracer
from services.common.web import create_app, serve

GROUP = "ai-worker"
BATCH = 16
BLOCK_MS = 500
RETRY_SECONDS = 1.0

log = logging.getLogger("jobboard.ai_worker")


async def ensure_group(redis: Redis, stream: str) -> None:
    """Create the consumer group (and the stream) unless it exists; it starts at the stream's
    beginning so that events published before the first worker started are tagged too."""
    try:
        await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


async def tag_job(pool: AsyncConnectionPool, fields: dict[str, str]) -> list[str] | None:
    """Tag the job an event names; None when the event is not for us or the job is gone."""
    if fields.get("type") != JOB_CREATED or not fields.get("job_id", "").isdigit():
        return None
    job_id = int(fields["job_id"])
    async with pool.connection() as conn:
        job = await store.get_job(conn, job_id)
        if job is None:
            return None
        tags = tags_for(job["title"], job["description"])
        await store.set_tags(conn, job_id, tags)
    return tags


async def consume(app: Starlette, stop: asyncio.Event) -> None:
    """Read, tag, acknowledge, until ``stop`` is set; on a failure, wait and re-read pending."""
    redis: Redis = app.state.redis
    pool: AsyncConnectionPool = app.state.pool
    stream: str = app.state.stream
    consumer = os.environ.get("CONSUMER_NAME") or app.state.service
    cursor = "0"  # first this consumer's pending entries, then new ones (">")
    while not stop.is_set():
        try:
            if cursor == "0":
                await ensure_group(redis, stream)
            reply = await redis.xreadgroup(
                GROUP, consumer, {stream: cursor}, count=BATCH, block=BLOCK_MS
            )
            entries = _entries(reply)
            if cursor == "0" and not entries:
                cursor = ">"
            for entry_id, entry_fields in entries:
                fields = entry_fields or {}  # a pending entry deleted since has no fields
                await handle(redis, pool, stream, entry_id, fields)
        except (RedisError, psycopg.Error, OSError) as exc:
            log.warning("consume failed (%s); retrying in %ss", exc, RETRY_SECONDS)
            cursor = "0"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_SECONDS)


async def handle(
    redis: Redis, pool: AsyncConnectionPool, stream: str, entry_id: str, fields: dict[str, str]
) -> None:
    """Tag and acknowledge one entry in a CONSUMER span continuing the producer's trace."""
    attributes = {**messaging_attributes(stream, "process"), "messaging.message.id": entry_id}
    parent = telemetry.extract_fields(fields)
    with telemetry.span(
        tracer, f"{stream} process", SpanKind.CONSUMER, attributes, parent=parent
    ) as span:
        tags = await tag_job(pool, fields)
        await redis.xack(stream, GROUP, entry_id)
        span.set_attribute("jobboard.tags", ",".join(tags or []))
        log.info("entry %s job %s tags %s", entry_id, fields.get("job_id"), tags)


def _entries(reply: Any) -> list[tuple[str, dict[str, str]]]:
    # XREADGROUP over RESP2 answers [[stream, [(id, {field: value}), ...]]], or None on timeout
    return list(reply[0][1]) if reply else []


def main() -> None:
    """Consume the stream and serve /healthz on PORT."""
    settings = Settings.from_env("ai_worker")
    serve(create_app(settings, [], database=True, redis=True, worker=consume), settings)


if __name__ == "__main__":
    main()
