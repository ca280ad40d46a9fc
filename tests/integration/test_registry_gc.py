"""Safe garbage collection against a real distribution registry (Debian's docker-registry).

Each registry here is started by the test itself, so gc restarts it read-only through a
CallableControl (the same seam ``homeport up`` uses); tests/e2e covers ``--restart-cmd``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tests.support.binaries import require_binary
from tests.support.registry import (
    DELETED_TAGS,
    Index,
    RegistryProcess,
    Scenario,
    http_push,
    jobboard_scenario,
    make_image,
    push_scenario,
    random_layer,
    skopeo_pull,
    start_registry,
)

from homeport.registry.apply import apply_plan
from homeport.registry.client import RegistryClient
from homeport.registry.control import CallableControl, MarkerControl
from homeport.registry.errors import GcError, VerificationError
from homeport.registry.gc import collect_garbage
from homeport.registry.retention import GroupRule, RetentionPolicy, plan_retention
from homeport.registry.scan import read_inventory
from homeport.registry.server import managed_paths

NOW = datetime.now(UTC)
REPO = "jobboard/api"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return jobboard_scenario(NOW)


@pytest.fixture(scope="module")
def registry(
    scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryProcess]:
    server = start_registry(tmp_path_factory.mktemp("gc-registry"))
    try:
        push_scenario(scenario, scenario.layout(tmp_path_factory.mktemp("layout")), server, REPO)
        yield server
    finally:
        server.stop()


@pytest.fixture
def small_registry(tmp_path: Path) -> Iterator[RegistryProcess]:
    server = start_registry(tmp_path / "registry")
    try:
        yield server
    finally:
        server.stop()


def policy(scenario: Scenario) -> RetentionPolicy:
    return RetentionPolicy(
        groups=(GroupRule("dev", "^dev-", 2), GroupRule("prod", "^prod-", 1)),
        moving_tags=frozenset({"dev", "prod"}),
        grace=timedelta(hours=24),
        now=NOW,
        in_use=frozenset({scenario.images["D1"].digest}),
    )


def test_distributions_delete_untagged_would_break_the_index(
    registry: RegistryProcess, scenario: Scenario
) -> None:
    """Why homeport withholds -m: distribution 2.8 deletes an index's (untagged) children."""
    binary = require_binary("docker-registry")
    done = subprocess.run(
        [binary, "garbage-collect", "--dry-run", "--delete-untagged", str(registry.config)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    kept_index = scenario.images["P_idx"]
    assert isinstance(kept_index, Index)
    for child in kept_index.children:
        assert f"manifest eligible for deletion: {child.digest}" in done.stdout


def test_apply_then_gc_frees_what_the_plan_said_and_every_kept_tag_pulls(
    registry: RegistryProcess, scenario: Scenario, tmp_path: Path
) -> None:
    with RegistryClient(registry.url) as client:
        plan = plan_retention(read_inventory(client), policy(scenario))
        assert {t for d in plan.deletions for t in d.tags} == DELETED_TAGS
        outcomes = apply_plan(client, plan)
        assert all(o.deleted for o in outcomes), outcomes
        report = collect_garbage(
            client,
            CallableControl(registry.restart),
            registry.config,
            registry.storage,
            delete_untagged=True,
        )
        writable_again = client.writable()

    # -m was asked for but withheld: the kept multi-arch index has untagged children
    assert not report.delete_untagged
    assert any(scenario.digest_of("prod")[:19] in r for r in report.untagged_refused)
    assert abs(report.bytes_freed - plan.bytes_freed) <= 0.05 * plan.bytes_freed
    assert report.bytes_freed > 0
    assert writable_again
    kept_tags = sorted(set(scenario.tags) - DELETED_TAGS)
    assert report.verified_tags == len(kept_tags)

    def pull(tag: str) -> None:
        image = scenario.image_of(tag)
        skopeo_pull(
            f"{registry.address}/{REPO}:{tag}",
            tmp_path / tag,
            all_platforms=isinstance(image, Index),
        )

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(pull, kept_tags))  # raises if any blob is missing
    # the multi-arch index survived whole: both platforms' blobs are in the pulled layout
    index = scenario.image_of("prod")
    assert isinstance(index, Index)
    pulled = {p.name for p in (tmp_path / "prod" / "blobs" / "sha256").iterdir()}
    assert {b.digest.removeprefix("sha256:") for b in index.blobs} <= pulled


def test_delete_untagged_is_used_when_no_index_would_lose_children(
    small_registry: RegistryProcess,
) -> None:
    base = random_layer(7, 30_000)
    old = make_image([base, random_layer(8, 20_000)], NOW - timedelta(days=3))
    new = make_image([base, random_layer(9, 21_000)], NOW)
    with httpx.Client(base_url=small_registry.url) as http:
        http_push(http, "web", "dev", old)
        http_push(http, "web", "dev", new)  # the old image is now untagged
    with RegistryClient(small_registry.url) as client:
        report = collect_garbage(
            client,
            CallableControl(small_registry.restart),
            small_registry.config,
            small_registry.storage,
            delete_untagged=True,
        )
        assert client.head_manifest("web", old.digest) is None
    assert report.delete_untagged
    assert old.digest in report.collected.manifests
    assert report.bytes_freed == old.manifest.size + old.config.size + old.layers[1].size


def test_a_missing_blob_after_gc_fails_loudly_with_its_digest(
    small_registry: RegistryProcess,
) -> None:
    image = make_image([random_layer(5, 10_000)], NOW)
    with httpx.Client(base_url=small_registry.url) as http:
        http_push(http, "web", "prod", image)
    layer = image.layers[0].digest.removeprefix("sha256:")
    blob = small_registry.storage / f"docker/registry/v2/blobs/sha256/{layer[:2]}/{layer}/data"

    def restart_and_lose_a_blob(readonly: bool) -> None:
        if not readonly:
            blob.unlink()  # what a collector bug would do
        small_registry.restart(readonly)

    with RegistryClient(small_registry.url) as client, pytest.raises(VerificationError) as raised:
        collect_garbage(
            client,
            CallableControl(restart_and_lose_a_blob),
            small_registry.config,
            small_registry.storage,
            delete_untagged=False,
        )
    assert raised.value.missing == [f"web@{image.layers[0].digest}"]
    assert "gc verification FAILED" in str(raised.value)


def test_gc_refuses_when_the_registry_stays_writable(small_registry: RegistryProcess) -> None:
    calls: list[bool] = []
    with (
        RegistryClient(small_registry.url) as client,
        pytest.raises(GcError, match="still accepts"),
    ):
        collect_garbage(
            client,
            CallableControl(calls.append),  # "restarts" without going read-only
            small_registry.config,
            small_registry.storage,
            delete_untagged=False,
        )
    assert calls == [True, False]  # writes were "restored" even though gc refused


def test_gc_of_a_registry_that_homeport_up_runs_uses_its_marker_and_restart(
    small_registry: RegistryProcess, tmp_path: Path
) -> None:
    """The launcher renders read-only while the marker exists; the supervisor restarts it."""
    paths = managed_paths(tmp_path / ".homeport", "registry")
    seen: list[bool] = []

    def supervisor_restart() -> None:  # what POST /api/resources/registry/restart does
        seen.append(paths.readonly_requested)
        small_registry.restart(readonly=paths.readonly_requested)

    image = make_image([random_layer(6, 5_000)], NOW)
    with httpx.Client(base_url=small_registry.url) as http:
        http_push(http, "web", "prod", image)
    with RegistryClient(small_registry.url) as client:
        report = collect_garbage(
            client,
            MarkerControl(paths.readonly_marker, supervisor_restart, client),
            small_registry.config,
            small_registry.storage,
            delete_untagged=False,
        )
        assert client.writable()
    assert seen == [True, False]
    assert not paths.readonly_marker.exists()
    assert report.verified_tags == 1 and report.bytes_freed == 0
