"""Client spans for what the services call: one span per PostgreSQL statement and per Redis
command, named and attributed as OpenTelemetry's semantic conventions ask.

Only work done inside a trace (a request, a consumed message) is recorded: the health checks'
``SELECT 1`` and the worker's blocking reads would otherwise each start a trace of their own.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from psycopg import AsyncCursor
from redis.asyncio import Redis

STATEMENT_LIMIT = 2000

tracer = trace.get_tracer("jobboard")


def in_trace() -> bool:
    """Whether some span is active (so a client span has a parent to hang from)."""
    return trace.get_current_span().get_span_context().is_valid


class TracedCursor(AsyncCursor[Any]):
    """A psycopg cursor that records each ``execute`` as a ``db.system=postgresql`` span."""

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> TracedCursor:
        if not in_trace():
            await super().execute(query, params, **kwargs)
            return self
        statement = query if isinstance(query, str) else str(getattr(query, "_obj", query))
        statement = " ".join(statement.split())[:STATEMENT_LIMIT]
        operation = statement.split(" ", 1)[0].upper() if statement else "QUERY"
        info = self.connection.info
        attributes = {
            "db.system": "postgresql",
            "db.statement": statement,
            "db.operation": operation,
            "db.name": info.dbname,
            "server.address": info.host,
            "server.port": int(info.port),
        }
        with tracer.start_as_current_span(
            f"{operation} {info.dbname}", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            try:
                await super().execute(query, params, **kwargs)
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            if self.rowcount >= 0:
                span.set_attribute("db.response.returned_rows", self.rowcount)
        return self


class TracedRedis(Redis):
    """A Redis client that records each command as a ``db.system=redis`` span."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if not in_trace() or not args:
            return await super().execute_command(*args, **options)
        command = str(args[0]).upper()
        key = str(args[1]) if len(args) > 1 else ""
        attributes = {"db.system": "redis", "db.operation": command, "db.statement": command}
        if key:
            attributes["db.statement"] = f"{command} {key}"
        with tracer.start_as_current_span(
            command, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            try:
                return await super().execute_command(*args, **options)
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
