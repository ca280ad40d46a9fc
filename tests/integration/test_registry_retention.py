"""Retention against a real distribution registry, with images pushed by skopeo.

The scenario (tests/support/registry.py) has per-environment tags, moving tags, shared layers and
two multi-arch indexes; each test pushes it into a repository of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.registry import (
    DELETED_IMAGES,
    DELETED_TAGS,
    KEPT_IMAGES,
    Index,
    RegistryProcess,
    Scenario,
    jobboard_scenario,
    push_scenario,
    retag,
    start_registry,
)

from homeport.registry.apply import apply_plan
from homeport.registry.cache import ManifestCache
from homeport.registry.client import RegistryClient
from homeport.registry.retention import GroupRule, RetentionPolicy, plan_retention
from homeport.registry.scan import read_inventory

NOW = datetime.now(UTC)


def policy(scenario: Scenario) -> RetentionPolicy:
    return RetentionPolicy(
        groups=(GroupRule("dev", "^dev-", 2), GroupRule("prod", "^prod-", 1)),
        moving_tags=frozenset({"dev", "prod"}),
        grace=timedelta(hours=24),
        now=NOW,
        in_use=frozenset({scenario.images["D1"].digest}),
    )


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return jobboard_scenario(NOW)


@pytest.fixture(scope="module")
def layout(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scenario.layout(tmp_path_factory.mktemp("oci-layout"))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    server = start_registry(tmp_path_factory.mktemp("registry"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def repository(registry: RegistryProcess, scenario: Scenario, layout: Path) -> str:
    name = f"jobboard/api-{uuid.uuid4().hex[:8]}"
    push_scenario(scenario, layout, registry, name)
    return name


def test_retention_keeps_exactly_the_right_set(
    registry: RegistryProcess, scenario: Scenario, repository: str
) -> None:
    cache = ManifestCache()
    with RegistryClient(registry.url) as client:
        inventory = read_inventory(client, [repository], cache=cache)
        requests = dict(client.requests)
    with RegistryClient(registry.url) as client:  # a second run: one HEAD per tag, nothing else
        assert read_inventory(client, [repository], cache=cache) == inventory
        assert dict(client.requests) == {"tags": 1, "manifest_head": len(scenario.tags)}
    plan = plan_retention(inventory, policy(scenario))

    deleted_tags = {tag for d in plan.deletions for tag in d.tags}
    assert deleted_tags == DELETED_TAGS
    assert {d.digest for d in plan.deletions} == {scenario.images[n].digest for n in DELETED_IMAGES}
    kept = {d.tag for d in plan.decisions if d.keep}
    assert kept == set(scenario.tags) - DELETED_TAGS
    # newest by creation time, not by tag string: dev-a4 (6 days) beats dev-b3 (7 days)
    reasons = {d.tag: d.reasons for d in plan.decisions}
    assert reasons["dev-a4"] == ("#2 newest of dev (keep 2)",)
    assert "tag release-1 is in no retention group" in reasons["dev-e0"]
    assert "in use" in reasons["dev-d1"]
    assert "moving tag dev" in reasons["dev-c2"]
    # the old index goes whole: both child manifests with it
    old_index = scenario.images["X"]
    assert isinstance(old_index, Index)
    (index_deletion,) = [d for d in plan.deletions if d.digest == old_index.digest]
    assert set(index_deletion.children) == {c.digest for c in old_index.children}
    # bytes: blobs of deleted images that no kept image shares (the base layer, D3/D4's layer)
    gone = scenario.blob_sizes(DELETED_IMAGES)
    kept_blobs = scenario.blob_sizes(KEPT_IMAGES)
    assert plan.bytes_freed == sum(s for d, s in gone.items() if d not in kept_blobs)
    # one manifest GET per tag (+ the index children), one config fetch per distinct image
    children = sum(len(i.children) for i in scenario.images.values() if isinstance(i, Index))
    assert requests["manifest_get"] == len(scenario.tags) + children
    distinct_configs = {
        c.config.digest
        for image in scenario.images.values()
        for c in (image.children if isinstance(image, Index) else [image])
    }
    assert requests["blob_get"] == len(distinct_configs)


def test_a_tag_moved_between_plan_and_apply_is_not_deleted(
    registry: RegistryProcess, scenario: Scenario, repository: str
) -> None:
    with RegistryClient(registry.url) as client:
        plan = plan_retention(read_inventory(client, [repository]), policy(scenario))
        # between plan and apply: prod is promoted to D3 (which the plan deletes), and
        # prod-s7 is pushed again with another image
        retag(registry.url, repository, scenario.digest_of("dev-b3"), "prod")
        retag(registry.url, repository, scenario.digest_of("dev-a4"), "prod-s7")
        outcomes = {o.digest: o for o in apply_plan(client, plan)}
        tags_after = set(client.tags(repository))
        prod_now = client.head_manifest(repository, "prod")

    d3, single, old_index = (scenario.images[n].digest for n in ("D3", "P_single", "X"))
    assert not outcomes[d3].deleted
    assert outcomes[d3].detail.startswith("skipped: tag prod now points to")
    assert not outcomes[single].deleted
    assert "tag prod-s7 moved since the plan" in outcomes[single].detail
    assert outcomes[old_index].deleted
    assert prod_now is not None and prod_now.digest == d3
    assert {"prod", "dev-b3", "prod-b3", "prod-s7"} <= tags_after
    assert "prod-x9" not in tags_after
