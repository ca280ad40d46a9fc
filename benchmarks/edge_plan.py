"""Edge plan and apply at scale: homeport against octoDNS (with octodns-cloudflare), same emulator.

Two zones of 5,000 A records each. For each tool: a plan while in sync (time, DNS GETs per zone),
then applying 1,000 record changes per zone (400 updates, 300 creates, 300 deletes): time and
write calls per zone. Both talk HTTP to the same Cloudflare API emulator on loopback; its rate
limit is raised for the run (octoDNS writes one record per call: on the real API its 2,000 writes
alone would exceed the 1,200-requests-per-5-minutes budget and stall for 5 minutes at a time).

Run: .venv/bin/python -m benchmarks.edge_plan   (from the repository root)
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from octodns.record import Record as OctoRecord
from octodns.zone import Zone as OctoZone
from octodns_cloudflare import CloudflareProvider
from tests.emulators.cloudflare.defaults import default_state
from tests.emulators.cloudflare.fixture import Emulator, start_emulator

from homeport.edge.apply import Applier
from homeport.edge.cloudflare import CloudflareApi
from homeport.edge.current import read_current
from homeport.edge.desired import desired_edge
from homeport.edge.diff import plan_edge
from homeport.model.edge import Edge

ZONES = ("elkhair.tech", "eelkhair.net")
RECORDS = 5000
UPDATES, CREATES, DELETES = 400, 300, 300
STATE_DIR = Path("/tmp/homeport-edge-bench")


def ip(i: int, variant: int = 1) -> str:
    return f"10.{variant}.{i // 256}.{i % 256}"


def state(comment: str | None) -> dict[str, Any]:
    data = default_state("free")
    for zone in data["zones"]:
        zone["records"] = [
            {"name": f"h{i}.{zone['name']}", "type": "A", "content": ip(i), "ttl": 300,
             **({"comment": comment} if comment else {})}
            for i in range(RECORDS)
        ]  # fmt: skip
    return data


def wanted(changed: bool) -> list[tuple[str, str]]:
    """(name, content) per zone: in sync, or with the 1,000 changes."""
    if not changed:
        return [(f"h{i}", ip(i)) for i in range(RECORDS)]
    keep = [(f"h{i}", ip(i, 2) if i < UPDATES else ip(i)) for i in range(RECORDS - DELETES)]
    return keep + [(f"n{i}", ip(i, 3)) for i in range(CREATES)]


def per_zone(emulator: Emulator, method: str, pattern: str) -> dict[str, int]:
    ids = {emulator.zone_id(z): z for z in ZONES}
    counts: Counter[str] = Counter()
    for entry in emulator.control.requests(method=method, path=pattern):
        found = re.search(r"/zones/([^/]+)/", entry["path"])
        if found and found[1] in ids:
            counts[ids[found[1]]] += 1
    return dict(counts)


def homeport_edge(changed: bool) -> Edge:
    records = [{"name": n, "type": "A", "content": c, "ttl": 300} for n, c in wanted(changed)]
    zones = {z: {"records": records} for z in ZONES}
    return Edge.model_validate({"account_id": "0123456789abcdef0123456789abcdef",
                                "tunnel": {"id": "6ff42ae2-765d-4adf-8112-31c55c1551ef"},
                                "zones": zones})  # fmt: skip


def run_homeport(emulator: Emulator) -> dict[str, Any]:
    emulator.control.reset(state("homeport: managed"))
    out: dict[str, Any] = {}
    with CloudflareApi(emulator.token, emulator.base_url) as api:
        for label in ("plan_cold", "plan"):
            emulator.control.reset_requests()
            start = time.perf_counter()
            desired = desired_edge(homeport_edge(False))
            plan = plan_edge(desired, read_current(api, desired))
            out[label] = time.perf_counter() - start
            assert not plan.has_changes, plan.counts()
        out["plan_dns_gets"] = per_zone(emulator, "GET", r"/dns_records$")
        out["plan_requests"] = len(emulator.control.requests())
        emulator.control.reset_requests()
        start = time.perf_counter()
        desired = desired_edge(homeport_edge(True))
        current = read_current(api, desired)
        plan = plan_edge(desired, current)
        Applier(api, plan, desired, current).run(STATE_DIR)
        out["apply"] = time.perf_counter() - start
        out["apply_changes"] = plan.counts()
        out["apply_writes"] = per_zone(emulator, "POST", r"/dns_records(/batch)?$")
        out["apply_requests"] = len(emulator.control.requests())
        desired = desired_edge(homeport_edge(True))
        assert not plan_edge(desired, read_current(api, desired)).has_changes
    return out


def octo_zone(name: str, changed: bool) -> OctoZone:
    zone = OctoZone(f"{name}.", [])
    for host, content in wanted(changed):
        zone.add_record(OctoRecord.new(zone, host, {"type": "A", "ttl": 300, "value": content}))
    return zone


def run_octodns(emulator: Emulator) -> dict[str, Any]:
    emulator.control.reset(state(None))
    out: dict[str, Any] = {}
    provider = CloudflareProvider(
        "cloudflare", token=emulator.token, api_url=emulator.base_url, pagerules=False
    )
    emulator.control.reset_requests()
    start = time.perf_counter()
    plans = [provider.plan(octo_zone(z, False)) for z in ZONES]
    out["plan"] = time.perf_counter() - start
    assert all(p is None for p in plans), "octoDNS sees changes in a synced zone"
    out["plan_dns_gets"] = per_zone(emulator, "GET", r"/dns_records$")
    out["plan_requests"] = len(emulator.control.requests())
    provider = CloudflareProvider(
        "cloudflare", token=emulator.token, api_url=emulator.base_url, pagerules=False
    )
    emulator.control.reset_requests()
    start = time.perf_counter()
    count = 0
    for z in ZONES:
        plan = provider.plan(octo_zone(z, True))
        count += len(plan.changes)
        provider.apply(plan)
    out["apply"] = time.perf_counter() - start
    out["apply_changes"] = count
    writes = Counter()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for zone, n in per_zone(emulator, method, r"/dns_records").items():
            writes[zone] += n
    out["apply_writes"] = dict(writes)
    out["apply_requests"] = len(emulator.control.requests())
    return out


def main() -> None:
    logging.disable(logging.WARNING)
    emulator = start_emulator(rate_limit=1_000_000)
    try:
        home = run_homeport(emulator)
        octo = run_octodns(emulator)
    finally:
        emulator.stop()
    print(f"2 zones x {RECORDS} records; apply = {UPDATES} updates + {CREATES} creates + "
          f"{DELETES} deletes per zone\n")  # fmt: skip
    print(f"{'':34}{'homeport':>22}{'octoDNS':>22}{'ratio':>10}")
    rows = [
        ("plan, in sync (s)", home["plan"], octo["plan"]),
        ("plan, first in process (s)", home["plan_cold"], octo["plan"]),
        ("plan: requests, total", home["plan_requests"], octo["plan_requests"]),
        ("apply 2 x 1,000 changes (s)", home["apply"], octo["apply"]),
        ("apply: requests, total", home["apply_requests"], octo["apply_requests"]),
    ]
    for label, a, b in rows:
        ratio = b / a if a else float("inf")
        fmt = "{:>22.2f}" if isinstance(a, float) else "{:>22}"
        print(f"{label:34}" + fmt.format(a) + fmt.format(b) + f"{ratio:>9.1f}x")
    for label, key in (("plan: DNS GETs per zone", "plan_dns_gets"),
                       ("apply: DNS write calls per zone", "apply_writes")):  # fmt: skip
        print(f"{label:34}homeport {home[key]}  octoDNS {octo[key]}")


if __name__ == "__main__":
    main()
