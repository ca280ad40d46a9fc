"""How long `homeport check` takes on a large platform file, next to parsing the YAML alone.

Generates a valid platform with 500 services and 5,000 DNS records (1,000 of them CNAMEs to the
tunnel, each with its ingress rule, so the doctor's tunnel checks do real work), then times
``load_platform`` + ``diagnose`` against ``yaml.load(text, Loader=yaml.CSafeLoader)``: the peer
is the cheapest way to read the same file at all. Target: the whole check under 1 s.

    .venv/bin/python benchmarks/check_large.py [--runs 3] [--keep FILE]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from homeport.doctor import diagnose
from homeport.model import load_platform

SERVICES = 500
ZONES = 10
RECORDS_PER_ZONE = 500
TUNNELED_PER_ZONE = 100
TUNNEL = "6ff42ae2-765d-4adf-8112-31c55c1551ef"


def generate() -> str:
    """A valid platform file of the benchmark's size."""
    lines = [
        "name: large",
        "hosts:",
        "  app1: {address: 10.0.0.10, roles: [app]}",
        "  app2: {address: 10.0.0.11, roles: [app]}",
        "environments:",
        "  dev: {host: app1, image_tag: dev}",
        "  prod: {host: app2, image_tag: prod}",
        "services:",
        "  postgres: {kind: postgres, databases: [app]}",
        "  redis: {kind: redis}",
    ]
    for index in range(SERVICES - 2):
        waits = "[postgres, redis]" if index < 10 else f"[svc{index - 10}]"
        lines += [
            f"  svc{index}:",
            f"    run: python -m app.svc{index} --port {{svc{index}.port}}",
            f"    image: registry.example.com/large/svc{index}",
            f"    port: {20000 + index}",
            "    health: {http: /healthz, interval: 500ms, timeout: 2s}",
            "    env:",
            '      DATABASE_URL: "{postgres.url}/app"',
            '      REDIS_URL: "{redis.url}"',
            "      LOG_LEVEL: info",
            f"      FEATURE_{index}: 'on'",
            f"    wait_for: {waits}",
            "    restart: on-failure",
        ]
    lines += [
        "gateway:",
        "  routes:",
        *(f"    - {{path: /api/svc{i}, to: svc{i}}}" for i in range(50)),
        "  cors:",
        *(f"    - https://zone{z}.example" for z in range(ZONES)),
        "edge:",
        "  account_id: 0123456789abcdef0123456789abcdef",
        f"  tunnel: {{id: {TUNNEL}, name: large}}",
        "  ingress:",
    ]
    for zone in range(ZONES):
        lines += [
            f"    - {{hostname: app{i}.zone{zone}.example, service: 'http://10.0.0.10:{8000 + i}'}}"
            for i in range(TUNNELED_PER_ZONE)
        ]
    lines += ["    - {service: 'http_status:404'}", "  zones:"]
    for zone in range(ZONES):
        lines += [f"    zone{zone}.example:", "      plan: free", "      records:"]
        lines += [
            f"        - {{name: app{i}, type: CNAME, content: {TUNNEL}.cfargotunnel.com, "
            "proxied: true}"
            for i in range(TUNNELED_PER_ZONE)
        ]
        lines += [
            f"        - {{name: host{i}, type: A, content: 203.0.113.{i % 250 + 1}, ttl: 300}}"
            for i in range(RECORDS_PER_ZONE - TUNNELED_PER_ZONE)
        ]
    lines += [
        "registry:",
        "  url: https://registry.example.com",
        "  delete_enabled: true",
        "  gc: {enabled: true}",
    ]
    return "\n".join(lines) + "\n"


def best_of(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    """The fastest of ``runs`` timings of ``action``: (wall seconds, CPU seconds).

    Both, because the machine is shared: CPU time is what the code costs, wall time what the
    user waits (more when other work competes for the cores).
    """
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    """Generate, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="also write the generated file here")
    args = parser.parse_args()
    text = generate()
    if args.keep:
        args.keep.write_text(text)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "homeport.yaml"
        path.write_text(text)
        loaded = load_platform(path)
        findings = diagnose(loaded)
        records = sum(len(z.records) for z in loaded.platform.edge.zones.values())  # type: ignore[union-attr]
        print(
            f"file: {len(text) / 1024:.0f} KiB, {len(text.splitlines())} lines, "
            f"{len(loaded.platform.services)} services, {records} DNS records, "
            f"{len(loaded.platform.edge.ingress)} ingress rules; "  # type: ignore[union-attr]
            f"{len(findings)} findings"
        )
        parse = best_of(args.runs, lambda: yaml.load(text, Loader=yaml.CSafeLoader))
        load = best_of(args.runs, lambda: load_platform(path))
        check = best_of(args.runs, lambda: diagnose(load_platform(path)))
    rows = [
        ("yaml.load (CSafeLoader) alone", parse),
        ("load_platform", load),
        ("load_platform + diagnose", check),
    ]
    print(f"{'best of ' + str(args.runs):32} {'wall':>8} {'CPU':>8}")
    for label, (wall, cpu) in rows:
        print(f"{label:32} {wall * 1000:6.0f}ms {cpu * 1000:6.0f}ms")
    print(
        f"check / yaml.load ratio:         {check[0] / parse[0]:7.2f}x {check[1] / parse[1]:7.2f}x"
    )
    print(f"target: check under 1000 ms; {'met' if check[0] < 1 else 'NOT met'} (wall)")


if __name__ == "__main__":
    main()
