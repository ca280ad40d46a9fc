"""How fast the dashboard's OTLP receiver ingests spans, and whether the store keeps its limits.

Runs the dashboard as its own process (``python -m homeport.dashboard``) with a small span limit,
then posts protobuf ExportTraceServiceRequest batches of 512 spans each, encoded by the
OpenTelemetry SDK's own encoder from real SDK spans (what a BatchSpanProcessor sends):

1. offered load: a fixed 5,000 spans/s for a few seconds; the receiver keeps up when every batch
   is answered (stored: the receiver answers after the write), latency stays flat, and the
   achieved rate matches the offered one;
2. capacity: as fast as 4 concurrent senders can go;
3. limits: the span count, sampled every 0.5 s, never passes the limit by more than the tenth
   of it after which the receiver prunes;

and compares with a named peer doing the least a collector could do with the same bytes: decode
the same batches and append them as JSON lines to a file (no HTTP, no SQLite, no indexes).

    .venv/bin/python benchmarks/dashboard_ingest.py [--seconds 5] [--max-spans 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import aiohttp
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from homeport.dashboard.otlp import decode_traces

BATCH = 512
DISTINCT_BATCHES = 8
HEADERS = {"Content-Type": "application/x-protobuf"}


def make_batches() -> list[bytes]:
    """Protobuf bodies of 512 spans each: traces of a server span and its client children."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "jobs"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    bodies = []
    for _ in range(DISTINCT_BATCHES):
        exporter.clear()
        while len(exporter.get_finished_spans()) < BATCH:
            with tracer.start_as_current_span(
                "POST /api/jobs",
                kind=SpanKind.SERVER,
                attributes={"http.request.method": "POST", "http.route": "/api/jobs"},
            ):
                for statement in ("INSERT INTO jobs VALUES ($1)", "SELECT * FROM jobs"):
                    with tracer.start_as_current_span(
                        statement.split()[0],
                        kind=SpanKind.CLIENT,
                        attributes={"db.system": "postgresql", "db.statement": statement},
                    ):
                        pass
        spans = exporter.get_finished_spans()[:BATCH]
        bodies.append(encode_spans(spans).SerializeToString())
    provider.shutdown()
    return bodies


def start_dashboard(state_dir: Path, max_spans: int) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "homeport.dashboard", "--state-dir", str(state_dir)]
    command += ["--max-spans", str(max_spans)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url:
        raise SystemExit("the dashboard did not start")
    return process, url.split("/?t=")[0]


async def offered(base: str, bodies: list[bytes], rate: float, seconds: float) -> dict[str, float]:
    """Send at a fixed rate of spans/s; every send is its own task so none waits for another."""
    interval = BATCH / rate
    latencies: list[float] = []
    failures = 0

    async def send(session: aiohttp.ClientSession, body: bytes) -> None:
        nonlocal failures
        started = time.perf_counter()
        async with session.post(f"{base}/v1/traces", data=body, headers=HEADERS) as response:
            await response.read()
            if response.status != 200:
                failures += 1
        latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession() as session:
        tasks = []
        began = time.perf_counter()
        count = int(seconds * rate / BATCH)
        for i in range(count):
            delay = began + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(session, bodies[i % len(bodies)])))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "offered_spans_per_s": rate,
        "achieved_spans_per_s": count * BATCH / elapsed,
        "batches": count,
        "failed": failures,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


async def capacity(base: str, bodies: list[bytes], seconds: float, senders: int = 4) -> float:
    """Spans/s with ``senders`` posting back to back."""
    sent = 0
    deadline = time.perf_counter() + seconds

    async def sender(session: aiohttp.ClientSession, offset: int) -> None:
        nonlocal sent
        i = offset
        while time.perf_counter() < deadline:
            body = bodies[i % len(bodies)]
            async with session.post(f"{base}/v1/traces", data=body, headers=HEADERS) as response:
                await response.read()
                if response.status == 200:
                    sent += BATCH
            i += 1

    began = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(sender(session, n) for n in range(senders)))
    return sent / (time.perf_counter() - began)


async def sample_counts(db: Path, stop: asyncio.Event, seen: list[int]) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.5)
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                seen.append(int(conn.execute("SELECT count(*) FROM spans").fetchone()[0]))
        except sqlite3.Error:
            continue


def jsonl_peer(bodies: list[bytes], path: Path, seconds: float) -> float:
    """Spans/s of the peer: decode each batch and append its spans as JSON lines."""
    written = 0
    began = time.perf_counter()
    with path.open("a", encoding="utf-8") as out:
        i = 0
        while time.perf_counter() - began < seconds:
            rows = decode_traces(bodies[i % len(bodies)], "application/x-protobuf")
            out.write("".join(json.dumps(asdict(r)) + "\n" for r in rows))
            out.flush()
            written += len(rows)
            i += 1
    return written / (time.perf_counter() - began)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=5000.0)
    parser.add_argument("--max-spans", type=int, default=50_000)
    args = parser.parse_args()
    bodies = make_batches()
    print(f"batches: {BATCH} spans, {len(bodies[0]) / 1024:.0f} KiB of protobuf each")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch)
        process, base = start_dashboard(state, args.max_spans)
        seen: list[int] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_counts(state / "telemetry.db", stop, seen))
        try:
            fixed = await offered(base, bodies, args.rate, args.seconds)
            print(
                f"offered {fixed['offered_spans_per_s']:.0f} spans/s for {args.seconds:g}s: "
                f"achieved {fixed['achieved_spans_per_s']:.0f} spans/s, "
                f"{fixed['batches']:.0f} batches, {fixed['failed']:.0f} failed, "
                f"latency p50 {fixed['p50_ms']:.1f} ms p99 {fixed['p99_ms']:.1f} ms"
            )
            most = await capacity(base, bodies, args.seconds)
            print(f"capacity (4 senders, back to back): {most:.0f} spans/s")
            await asyncio.sleep(1.0)
        finally:
            stop.set()
            await sampler
            process.terminate()
            process.wait(15)
        with sqlite3.connect(state / "telemetry.db") as conn:
            final = int(conn.execute("SELECT count(*) FROM spans").fetchone()[0])
        size = sum(f.stat().st_size for f in state.glob("telemetry.db*")) / 2**20
        bound = args.max_spans + args.max_spans // 10
        most_seen = max([*seen, final])
        print(
            f"limit {args.max_spans} spans (pruned every tenth of it, so at most {bound}): "
            f"most seen {most_seen}, final {final}, database {size:.1f} MiB: "
            f"{'kept' if most_seen <= bound else 'EXCEEDED'}"
        )
        peer = jsonl_peer(bodies, state / "peer.jsonl", args.seconds)
        print(f"peer (decode + JSON-lines append, in process, no HTTP): {peer:.0f} spans/s")
        print(f"ratio receiver/peer: {most / peer:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
