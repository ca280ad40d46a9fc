"""Benchmark: planning retention over 20 repositories x 100 tags against a real registry.

Starts Debian's ``docker-registry`` on a free loopback port, fills it through the distribution
API (per repository: 70 ``dev-<sha>`` builds, 28 ``prod-<sha>`` tags of which 20 promote a dev
build, and the moving ``dev``/``prod``), then times:

* homeport: ``read_inventory`` + ``plan_retention`` (one manifest GET per tag, one config
  fetch per distinct image, 8 threads), cold and with a warm manifest cache;
* the named peer, "naive script": what hand-written cleanup scripts do: for every tag, GET the
  manifest and GET its config blob, one request after another; and the same with 8 threads, so
  that the saving from fewer requests shows apart from the one from concurrency;
* for the record, homeport cold with the client on httpx (as before keep-alive http.client)
  and against the registry without homeport's Go collector settings.

The registry is configured as homeport renders it: ``render_config`` (via
``tests.support.registry``) and the environment of ``registry_environment``. Both cold runs
start from a freshly restarted registry (its in-memory blob descriptor cache empty).

Run: ``.venv/bin/python benchmarks/registry_retention.py`` from the repository root.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.registry import (
    Image,
    _put_manifest,
    _upload_blob,
    make_image,
    random_layer,
    start_registry,
)

from homeport.model.platform import Retention, RetentionGroup
from homeport.registry.cache import ManifestCache
from homeport.registry.client import ACCEPT_MANIFESTS, RegistryClient
from homeport.registry.images import parse_created
from homeport.registry.retention import RetentionPolicy, plan_retention
from homeport.registry.scan import read_inventory
from homeport.registry.server import GO_RUNTIME_DEFAULTS, registry_environment

REPOSITORIES = 20
DEV_BUILDS = 70
PROD_PROMOTED = 20
PROD_OWN = 8


def populate(url: str, repository: str, seed: int) -> int:
    """Push one repository's 100 tags; returns its number of distinct images."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    base = random_layer(seed, 20_000)
    images: list[tuple[str, Image]] = []
    for i in range(DEV_BUILDS):
        image = make_image([base], now - timedelta(hours=DEV_BUILDS - i), label=f"{seed}-d{i}")
        images.append((f"dev-{rng.getrandbits(40):010x}", image))
    prod: list[tuple[str, Image]] = []
    for i in range(PROD_OWN):
        image = make_image([base], now - timedelta(days=30 + i), label=f"{seed}-p{i}")
        prod.append((f"prod-{rng.getrandbits(40):010x}", image))
    with httpx.Client(base_url=url, timeout=30) as client:
        _upload_blob(client, repository, _blob(base))
        for tag, image in images + prod:
            _upload_blob(client, repository, image.config)
            _put_manifest(client, repository, tag, image.manifest)
        for tag, image in rng.sample(images, PROD_PROMOTED):
            _put_manifest(client, repository, "prod-" + tag.removeprefix("dev-"), image.manifest)
        _put_manifest(client, repository, "dev", images[-1][1].manifest)
        _put_manifest(client, repository, "prod", prod[0][1].manifest)
    return len(images) + len(prod)


def _blob(data: bytes):  # type: ignore[no-untyped-def]
    from tests.support.registry import OCI_LAYER, Blob  # noqa: PLC0415

    return Blob(OCI_LAYER, data)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc), load-independent-ish."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, run):  # type: ignore[no-untyped-def]
    """Run ``run()``; its result with the registry's and this process's CPU seconds."""
    registry_before, own_before = cpu_seconds(pid), time.process_time()
    result = run()
    return result, {
        "registry_cpu_s": round(cpu_seconds(pid) - registry_before, 2),
        "client_cpu_s": round(time.process_time() - own_before, 2),
    }


def homeport_plan(
    url: str, cache: ManifestCache, *, on_httpx: bool = False
) -> tuple[float, dict[str, int], dict[str, str | None], int]:
    """Time homeport's read + plan; its request counts, tag->created, and deletions."""
    policy = RetentionPolicy.from_model(
        Retention(keep_last=10, groups=[RetentionGroup(name="dev"), RetentionGroup(name="prod")]),
        now=datetime.now(UTC),
    )
    started = time.perf_counter()
    transport = httpx.HTTPTransport() if on_httpx else None  # a transport: every request on httpx
    with RegistryClient(url, transport=transport) as client:
        inventory = read_inventory(client, cache=cache)
        plan = plan_retention(inventory, policy)
        counts = dict(client.requests)
    elapsed = time.perf_counter() - started
    created = {
        f"{r.name}:{tag}": _iso(inventory.manifests[digest].created)
        for r in inventory.repositories
        for tag, digest in r.tags.items()
    }
    return elapsed, counts, created, len(plan.deletions)


def naive_scan(url: str, workers: int = 1) -> tuple[float, dict[str, int], dict[str, str | None]]:
    """The peer: GET every manifest and its config, tag by tag (``workers`` tags at a time)."""
    counts = {"catalog": 0, "tags": 0, "manifest_get": 0, "blob_get": 0}
    created: dict[str, str | None] = {}
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=30) as client:
        counts["catalog"] += 1
        repositories = client.get("/v2/_catalog", params={"n": 1000}).json()["repositories"]

        def one(item: tuple[str, str]) -> tuple[str, str | None]:
            repository, tag = item
            manifest = client.get(
                f"/v2/{repository}/manifests/{tag}", headers={"accept": ACCEPT_MANIFESTS}
            ).json()
            config = client.get(f"/v2/{repository}/blobs/{manifest['config']['digest']}")
            return f"{repository}:{tag}", _iso(parse_created(config.content))

        pairs = []
        for repository in repositories:
            counts["tags"] += 1
            tags = client.get(f"/v2/{repository}/tags/list").json()["tags"]
            pairs.extend((repository, tag) for tag in tags)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            created.update(pool.map(one, pairs))
        counts["manifest_get"] += len(pairs)
        counts["blob_get"] += len(pairs)
    return time.perf_counter() - started, counts, created


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def main() -> None:
    """Fill a registry, run both, print figures and ratios."""
    workdir = Path(tempfile.mkdtemp(prefix="homeport-bench-registry-"))
    os.environ.update(registry_environment(os.environ))  # the registry inherits it
    registry = start_registry(workdir)
    try:
        started = time.perf_counter()
        names = [f"jobboard/service-{i:02d}" for i in range(REPOSITORIES)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            distinct = sum(pool.map(lambda i: populate(registry.url, names[i], i), range(20)))
        print(f"filled {REPOSITORIES} repositories in {time.perf_counter() - started:.1f}s")
        tags = REPOSITORIES * (DEV_BUILDS + PROD_OWN + PROD_PROMOTED + 2)
        cache = ManifestCache()  # in memory; the CLI keeps it in ~/.cache/homeport/registry
        registry.restart(readonly=False)
        pid = registry.process.pid if registry.process else 0
        (ours, our_counts, our_created, deletions), our_cpu = measured(
            pid, lambda: homeport_plan(registry.url, cache)
        )
        (warm, warm_counts, warm_created, _), warm_cpu = measured(
            pid, lambda: homeport_plan(registry.url, cache)
        )
        (theirs, their_counts, their_created), their_cpu = measured(
            pid, lambda: naive_scan(registry.url)
        )
        (threaded, _, threaded_created), threaded_cpu = measured(
            pid, lambda: naive_scan(registry.url, workers=8)
        )
        (on_httpx, _, httpx_created, _), httpx_cpu = measured(
            pid, lambda: homeport_plan(registry.url, ManifestCache(), on_httpx=True)
        )
        for name in GO_RUNTIME_DEFAULTS:
            os.environ.pop(name, None)
        registry.restart(readonly=False)
        pid = registry.process.pid if registry.process else 0
        (untuned, _, untuned_created, _), untuned_cpu = measured(
            pid, lambda: homeport_plan(registry.url, ManifestCache())
        )
        assert our_created == their_created == warm_created == threaded_created, "scans disagree"
        assert our_created == httpx_created == untuned_created, "scans disagree"
        manifest_requests = our_counts.get("manifest_get", 0) + our_counts.get("manifest_head", 0)
        result = {
            "tags": tags,
            "distinct_images": distinct,
            "homeport_cold": {"seconds": round(ours, 3), "requests": our_counts, **our_cpu},
            "homeport_warm_cache": {
                "seconds": round(warm, 3),
                "requests": warm_counts,
                **warm_cpu,
            },
            "naive_peer": {"seconds": round(theirs, 3), "requests": their_counts, **their_cpu},
            "naive_peer_8_threads": {"seconds": round(threaded, 3), **threaded_cpu},
            "homeport_cold_client_on_httpx": {"seconds": round(on_httpx, 3), **httpx_cpu},
            "homeport_cold_registry_default_gc": {"seconds": round(untuned, 3), **untuned_cpu},
            "deletions_planned": deletions,
            "manifest_requests_per_tag": round(manifest_requests / tags, 3),
            "config_fetches_per_distinct_image": round(our_counts["blob_get"] / distinct, 3),
            "speedup_cold_vs_naive": round(theirs / ours, 2),
            "speedup_warm_vs_naive": round(theirs / warm, 2),
            "speedup_cold_vs_naive_8_threads": round(threaded / ours, 2),
            "requests_cold_vs_naive": round(
                sum(our_counts.values()) / sum(their_counts.values()), 3
            ),
            "requests_warm_vs_naive": round(
                sum(warm_counts.values()) / sum(their_counts.values()), 3
            ),
            "cold_under_5s": ours < 5.0,
            "warm_under_5s": warm < 5.0,
            "within_request_budget": manifest_requests <= tags
            and our_counts["blob_get"] <= distinct,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        print(json.dumps(result, indent=2))
    finally:
        registry.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
