"""Geo lookups in process: homeport's GeoDatabase against maxminddb's C extension on its own.

Peer: ``maxminddb.open_database(..., MODE_MMAP_EXT).get(ip)`` plus the same five fields picked out
of the record, which is what a gateway does without its IPv4 index (``use_index=False``).
Both answer from the GeoLite2 City database that the ``maxminddb-geolite2`` wheel ships.
Also printed: what building the index costs (once per database version, in a child process) and
loading it (every gateway start).

Workloads (IPv4, like the visitors a gateway sees; the same addresses for both):
- distinct, cold: 50,000 addresses never looked up before, on a freshly opened database;
- distinct, steady: 300,000 more distinct addresses on the same database (records decoded once);
- repeat visitors: 300,000 lookups over 20,000 visitors, Zipf-weighted.

Run: ``.venv/bin/python benchmarks/gateway_geo.py`` (target: >= 150,000 lookups/s).
"""

from __future__ import annotations

import random
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from homeport.gateway.geo import GeoDatabase, bundled_database

TARGET = 150_000


@dataclass
class GeoFigures:
    """Lookups per second of each workload, and what the flat table cost to build."""

    build_seconds: float
    build_cpu_seconds: float
    load_seconds: float
    networks: int
    records: int
    cold: float
    steady: float
    repeat: float
    peer_cold: float
    peer_steady: float
    peer_repeat: float


def _addresses(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    while len(seen) < count:
        octets = (
            rng.randint(1, 223),
            rng.randint(0, 255),
            rng.randint(0, 255),
            rng.randint(1, 254),
        )
        seen.add(".".join(map(str, octets)))
    return sorted(seen, key=lambda _: rng.random())


def _rate(lookup: Callable[[str], object], addresses: list[str]) -> float:
    started = time.perf_counter()
    for ip in addresses:
        lookup(ip)
    return len(addresses) / (time.perf_counter() - started)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _built(index_dir: Path) -> tuple[float, float]:
    """Build the index in a fresh directory as a gateway does: (wall seconds, CPU seconds)."""
    cpu, wall = _children_cpu(), time.perf_counter()
    geo = GeoDatabase(bundled_database(), index_dir=index_dir)
    if not geo.wait_indexed(300):
        raise SystemExit(f"the IPv4 index was not built: {geo.index_error}")
    geo.close()
    return time.perf_counter() - wall, _children_cpu() - cpu


def _opened(index_dir: Path | None) -> tuple[GeoDatabase, float]:
    wall = time.perf_counter()
    geo = GeoDatabase(bundled_database(), index_dir=index_dir, use_index=index_dir is not None)
    if index_dir is not None and not geo.wait_indexed(0):
        raise SystemExit("the IPv4 index was not loaded")
    return geo, time.perf_counter() - wall


def measure(seed: int = 7) -> GeoFigures:
    """Both readers over the same addresses, workload by workload."""
    with tempfile.TemporaryDirectory(prefix="geo-index-") as scratch:
        return _measure(seed, Path(scratch))


def _measure(seed: int, index_dir: Path) -> GeoFigures:
    rng = random.Random(seed)
    everything = _addresses(rng, 350_000)
    cold, steady = everything[:50_000], everything[50_000:]
    visitors = cold[:20_000]
    weights = [1 / (rank + 1) for rank in range(len(visitors))]
    mix = rng.choices(visitors, weights, k=300_000)

    build, build_cpu = _built(index_dir)
    peer, _ = _opened(None)
    geo, load = _opened(index_dir)
    index = geo._opened.index
    assert index is not None
    figures = GeoFigures(
        build_seconds=build,
        build_cpu_seconds=build_cpu,
        load_seconds=load,
        networks=len(index),
        records=index.records,
        cold=_rate(geo.lookup, cold),
        peer_cold=_rate(peer.lookup, cold),
        steady=_rate(geo.lookup, steady),
        peer_steady=_rate(peer.lookup, steady),
        repeat=0.0,
        peer_repeat=0.0,
    )
    geo.close()
    peer.close()
    peer, _ = _opened(None)
    geo, _ = _opened(index_dir)
    figures.repeat = _rate(geo.lookup, mix)
    figures.peer_repeat = _rate(peer.lookup, mix)
    geo.close()
    peer.close()
    return figures


def report(figures: GeoFigures) -> list[str]:
    """The lines the benchmarks print."""
    rows = [
        ("distinct addresses, cold", figures.cold, figures.peer_cold),
        ("distinct addresses, steady", figures.steady, figures.peer_steady),
        ("repeat-visitor mix", figures.repeat, figures.peer_repeat),
    ]
    lines = [
        f"geo IPv4 index: {figures.networks:,} networks, {figures.records:,} records; built once "
        f"per database version in {figures.build_seconds:.1f} s ({figures.build_cpu_seconds:.1f} s "
        f"CPU, child process); opened with it in {figures.load_seconds * 1000:.0f} ms",
    ]
    for name, ours, peer in rows:
        verdict = "met" if ours >= TARGET else "NOT met"
        lines.append(
            f"geo in process, {name}: {ours:,.0f}/s vs C extension alone {peer:,.0f}/s "
            f"= {ours / peer:.2f}x (target >= {TARGET:,}/s: {verdict})"
        )
    return lines


def main() -> None:
    figures = measure()
    for line in report(figures):
        print(line)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (two readers, one index, the addresses): {peak:.0f} MB")


if __name__ == "__main__":
    main()
