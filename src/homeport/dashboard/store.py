"""Telemetry kept in SQLite in the state directory, bounded by count and by age.

One connection, used from one thread at a time (the receiver hands writes to a single worker).
Spans and logs survive a restart of ``homeport up``; ``prune`` keeps the database from growing
without bound: past ``max_spans``/``max_logs`` the rows that arrived first go, and so does
anything older than ``max_age`` seconds.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeport.dashboard.otlp import LogRow, MetricRow, SpanRow

SCHEMA = """
CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT NOT NULL,
    service TEXT NOT NULL, name TEXT NOT NULL, kind INTEGER NOT NULL,
    start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
    status_code INTEGER NOT NULL, status_message TEXT NOT NULL,
    attributes TEXT NOT NULL, resource TEXT NOT NULL, events TEXT NOT NULL, links TEXT NOT NULL,
    received_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS spans_trace ON spans (trace_id);
CREATE INDEX IF NOT EXISTS spans_start ON spans (start_ns);
CREATE INDEX IF NOT EXISTS spans_service ON spans (service, start_ns);
CREATE TABLE IF NOT EXISTS logs (
    time_ns INTEGER NOT NULL, service TEXT NOT NULL, severity_text TEXT NOT NULL,
    severity_number INTEGER NOT NULL, body TEXT NOT NULL, trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL, attributes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_time ON logs (time_ns);
CREATE INDEX IF NOT EXISTS logs_trace ON logs (trace_id);
CREATE TABLE IF NOT EXISTS metrics (
    time_ns INTEGER NOT NULL, service TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    value REAL NOT NULL, attributes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_time ON metrics (time_ns);
"""

GEO_COUNTRY = "geo.country.iso_code"
GEO_CITY = "geo.locality.name"


@dataclass(frozen=True)
class TraceSummary:
    """One trace in a list: its root, its services, its duration and whether it failed."""

    trace_id: str
    root_service: str
    root_name: str
    start_ns: int
    duration_ms: float
    span_count: int
    services: list[str]
    error: bool


@dataclass(frozen=True)
class Limits:
    """How much telemetry the store keeps."""

    max_spans: int = 200_000
    max_logs: int = 200_000
    max_metrics: int = 200_000
    max_age_seconds: float = 24 * 3600


class TelemetryStore:
    """Spans, logs and metric points in one SQLite file."""

    def __init__(self, path: Path | str, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or Limits()
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def add_spans(self, rows: Iterable[SpanRow]) -> int:
        """Store spans; returns how many."""
        now = time.time_ns()
        resources: dict[int, str] = {}  # spans of one batch share their resource's dict

        def resource_json(resource: dict[str, Any]) -> str:
            text = resources.get(id(resource))
            if text is None:
                text = resources[id(resource)] = json.dumps(resource)
            return text

        values = [
            (
                r.trace_id,
                r.span_id,
                r.parent_span_id,
                r.service,
                r.name,
                r.kind,
                r.start_ns,
                r.end_ns,
                r.status_code,
                r.status_message,
                json.dumps(r.attributes),
                resource_json(r.resource),
                json.dumps(r.events) if r.events else "[]",
                json.dumps(r.links) if r.links else "[]",
                now,
            )
            for r in rows
        ]
        self._write("INSERT INTO spans VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", values)
        return len(values)

    def add_logs(self, rows: Iterable[LogRow]) -> int:
        """Store log records; returns how many."""
        values = [
            (
                r.time_ns,
                r.service,
                r.severity_text,
                r.severity_number,
                r.body,
                r.trace_id,
                r.span_id,
                json.dumps(r.attributes),
            )
            for r in rows
        ]
        self._write("INSERT INTO logs VALUES (?,?,?,?,?,?,?,?)", values)
        return len(values)

    def add_metrics(self, rows: Iterable[MetricRow]) -> int:
        """Store metric points; returns how many."""
        values = [
            (r.time_ns, r.service, r.name, r.kind, r.value, json.dumps(r.attributes)) for r in rows
        ]
        self._write("INSERT INTO metrics VALUES (?,?,?,?,?,?)", values)
        return len(values)

    def _write(self, sql: str, values: list[tuple[Any, ...]]) -> None:
        if not values:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(sql, values)
            self._db.execute("COMMIT")

    def prune(self, now_ns: int | None = None) -> dict[str, int]:
        """Drop what is past the limits; returns how many rows of each kind went."""
        cutoff = (now_ns or time.time_ns()) - int(self.limits.max_age_seconds * 1e9)
        removed = {}
        plan = (
            ("spans", "start_ns", self.limits.max_spans),
            ("logs", "time_ns", self.limits.max_logs),
            ("metrics", "time_ns", self.limits.max_metrics),
        )
        # Rows only ever get appended (rowid = max + 1) and go from the low end, so the newest
        # ``keep`` rows are those above ``max(rowid) - keep``: no count, no sort, each prune costs
        # what it deletes. (Rows gone for their age leave gaps, which only leave fewer rows.)
        with self._lock:
            for table, column, keep in plan:
                aged = self._db.execute(
                    f"DELETE FROM {table} WHERE {column} < ?",  # noqa: S608
                    (cutoff,),
                ).rowcount
                top = self._db.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0]  # noqa: S608
                excess = 0
                if top is not None and top > keep:
                    excess = self._db.execute(
                        f"DELETE FROM {table} WHERE rowid <= ?",  # noqa: S608
                        (top - keep,),
                    ).rowcount
                removed[table] = aged + excess
        return removed

    def _count(self, table: str) -> int:
        row = self._db.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        return int(row[0])

    def counts(self) -> dict[str, int]:
        """How many spans, logs and metric points are stored."""
        with self._lock:
            return {t: self._count(t) for t in ("spans", "logs", "metrics")}

    def traces(
        self,
        *,
        service: str | None = None,
        errors_only: bool = False,
        min_duration_ms: float = 0.0,
        limit: int = 100,
    ) -> list[TraceSummary]:
        """Recent traces, newest first, filtered by a service they touch, status and duration."""
        where, args = ["1=1"], []
        if service:
            where.append("trace_id IN (SELECT trace_id FROM spans WHERE service = ?)")
            args.append(service)
        sql = f"""
            SELECT trace_id, min(start_ns), max(end_ns), count(*),
                   group_concat(DISTINCT service), max(status_code = 2)
            FROM spans WHERE {" AND ".join(where)}
            GROUP BY trace_id ORDER BY min(start_ns) DESC LIMIT ?
        """  # noqa: S608
        with self._lock:
            rows = self._db.execute(sql, (*args, limit * 4)).fetchall()
            summaries = []
            for trace_id, start, end, count, services, error in rows:
                duration = (end - start) / 1e6
                if duration < min_duration_ms or (errors_only and not error):
                    continue
                root = self._db.execute(
                    "SELECT service, name FROM spans WHERE trace_id = ? "
                    "ORDER BY (parent_span_id = '') DESC, start_ns LIMIT 1",
                    (trace_id,),
                ).fetchone()
                summaries.append(
                    TraceSummary(
                        trace_id,
                        root[0],
                        root[1],
                        start,
                        duration,
                        count,
                        sorted(services.split(",")),
                        bool(error),
                    )
                )
        return summaries[:limit]

    def services(self) -> list[str]:
        """Every service that sent a span, by name."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT service FROM spans ORDER BY service")
            return [str(row[0]) for row in rows.fetchall()]

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """Every span of one trace, ordered by start time (empty when unknown)."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT trace_id, span_id, parent_span_id, service, name, kind, start_ns, end_ns, "
                "status_code, status_message, attributes, events, links FROM spans "
                "WHERE trace_id = ? ORDER BY start_ns",
                (trace_id.lower(),),
            )
            columns = [c[0] for c in cursor.description]
            spans = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        for span in spans:
            for key in ("attributes", "events", "links"):
                span[key] = json.loads(span[key])
            span["duration_ms"] = (span["end_ns"] - span["start_ns"]) / 1e6
        return spans

    def logs(
        self,
        *,
        trace_id: str | None = None,
        service: str | None = None,
        search: str | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Structured log records, newest first."""
        where, args = ["1=1"], []
        for column, value in (("trace_id", trace_id), ("service", service)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if search:
            where.append("body LIKE ?")
            args.append(f"%{search}%")
        with self._lock:
            cursor = self._db.execute(
                f"SELECT time_ns, service, severity_text, body, trace_id, span_id, attributes "  # noqa: S608
                f"FROM logs WHERE {' AND '.join(where)} ORDER BY time_ns DESC LIMIT ?",
                (*args, limit),
            )
            columns = [c[0] for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            row["attributes"] = json.loads(row["attributes"])
        return rows

    def visitors(self, service: str | None = None) -> list[tuple[str, str, int]]:
        """(country, city, requests) from the spans that carry geo attributes.

        The gateway names them as OpenTelemetry's semantic conventions do:
        ``geo.country.iso_code`` and ``geo.locality.name``.
        """
        sql = (
            "SELECT json_extract(attributes, ?) AS country, "
            "json_extract(attributes, ?) AS city, count(*) FROM spans "
            "WHERE country IS NOT NULL AND country != '' AND (? IS NULL OR service = ?) "
            "GROUP BY country, city ORDER BY count(*) DESC, country, city"
        )
        with self._lock:
            paths = (f'$."{GEO_COUNTRY}"', f'$."{GEO_CITY}"')
            rows = self._db.execute(sql, (*paths, service, service)).fetchall()
        return [(str(c), str(city or ""), int(n)) for c, city, n in rows]
