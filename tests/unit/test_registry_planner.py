"""The retention planner: a pure function of an inventory and a policy (table-driven)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from homeport.model.platform import Retention, RetentionGroup
from homeport.registry.images import (
    OCI_INDEX,
    OCI_MANIFEST,
    BlobRef,
    Inventory,
    Manifest,
    RepositoryTags,
)
from homeport.registry.retention import (
    GroupRule,
    RetentionPlan,
    RetentionPolicy,
    over_threshold,
    parse_in_use,
    plan_retention,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BASE = BlobRef("sha256:" + "b" * 64, 1000)


def digest(name: str) -> str:
    return "sha256:" + name.encode().hex().ljust(64, "0")[:64]


def image(name: str, days_old: float | None, *extra: int) -> Manifest:
    """An image whose layers are the shared base plus one layer per size in ``extra``."""
    layers = (BASE, *(BlobRef(digest(f"{name}-l{i}"), s) for i, s in enumerate(extra)))
    created = None if days_old is None else NOW - timedelta(days=days_old)
    return Manifest(
        digest(name),
        OCI_MANIFEST,
        100,
        config=BlobRef(digest(f"{name}-c"), 10),
        layers=layers,
        created=created,
    )


def index(name: str, *children: Manifest) -> Manifest:
    created = max(c.created for c in children if c.created)
    refs = tuple(BlobRef(c.digest, c.size) for c in children)
    return Manifest(digest(name), OCI_INDEX, 200, children=refs, created=created)


def inventory(tags: dict[str, Manifest], *others: Manifest, repo: str = "app") -> Inventory:
    manifests = {m.digest: m for m in [*tags.values(), *others]}
    return Inventory((RepositoryTags(repo, {t: m.digest for t, m in tags.items()}),), manifests)


def policy(keep: int = 2, grace_days: float = 1.0, in_use: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    return RetentionPolicy(
        (GroupRule("dev", "^dev-", keep), GroupRule("prod", "^prod-", keep)),
        frozenset({"dev", "prod"}),
        timedelta(days=grace_days),
        NOW,
        in_use,
    )


def deleted_tags(plan: RetentionPlan) -> set[str]:
    return {t for d in plan.deletions for t in d.tags}


A, B, C, D = (image(n, age, 50) for n, age in [("a", 10), ("b", 9), ("c", 8), ("d", 7)])


@pytest.mark.parametrize(
    ("case", "tags", "kwargs", "expected"),
    [
        ("keeps the newest N", {"dev-1": A, "dev-2": B, "dev-3": C}, {}, {"dev-1"}),
        (
            "newest by creation time, not by tag string",
            {"dev-zzz": A, "dev-aaa": C, "dev-mmm": B},
            {},
            {"dev-zzz"},
        ),
        ("a moving tag keeps its image", {"dev-1": A, "dev-2": B, "dev-3": C, "dev": A}, {}, set()),
        (
            "a digest a kept tag points to stays, whatever its other tags",
            {"dev-1": A, "dev-2": B, "dev-3": C, "prod-1": A},
            {},
            set(),
        ),
        (
            "a tag in no group is kept",
            {"dev-1": A, "dev-2": B, "dev-3": C, "release-1": A},
            {},
            set(),
        ),
        ("in use is kept", {"dev-1": A, "dev-2": B, "dev-3": C}, {"in_use": {A.digest}}, set()),
        (
            "within the grace period is kept",
            {"dev-1": A, "dev-2": B, "dev-3": C},
            {"grace_days": 30},
            set(),
        ),
        (
            "groups are counted apart",
            {"dev-1": A, "prod-1": B, "prod-2": C},
            {"keep": 1},
            {"prod-1"},
        ),
        (
            "keep 0 deletes every grouped image",
            {"dev-1": A, "dev-2": B, "dev": C},
            {"keep": 0},
            {"dev-1", "dev-2"},
        ),
        (
            "an image without a creation time is kept",
            {"dev-1": image("x", None), "dev-2": B, "dev-3": C, "dev-4": D},
            {},
            {"dev-2"},
        ),
    ],
)
def test_which_tags_go(
    case: str, tags: dict[str, Manifest], kwargs: dict[str, object], expected: set[str]
) -> None:
    in_use = frozenset(kwargs.pop("in_use", set()))  # type: ignore[arg-type]
    plan = plan_retention(inventory(tags), policy(**kwargs, in_use=in_use))  # type: ignore[arg-type]
    assert deleted_tags(plan) == expected, case


def test_deleting_a_digest_takes_all_its_tags_and_frees_only_unshared_blobs() -> None:
    shared = BlobRef(digest("shared"), 400)
    old = Manifest(
        digest("old"),
        OCI_MANIFEST,
        100,
        BlobRef(digest("oc"), 10),
        (BASE, shared),
        created=NOW - timedelta(days=9),
    )
    mid = Manifest(
        digest("mid"),
        OCI_MANIFEST,
        100,
        BlobRef(digest("mc"), 10),
        (BASE, shared),
        created=NOW - timedelta(days=7.5),
    )
    plan = plan_retention(
        inventory({"dev-old": old, "dev-old2": old, "dev-mid": mid, "dev-new": C}),
        policy(),
    )
    (deletion,) = plan.deletions
    assert deletion.tags == ("dev-old", "dev-old2")
    assert plan.bytes_freed == 100 + 10  # manifest and config; base and shared are kept by mid
    kept = {d.tag for d in plan.decisions if d.keep}
    assert kept == {"dev-mid", "dev-new"}


def test_an_index_goes_whole_and_a_kept_index_keeps_its_tagged_child() -> None:
    amd, arm = image("amd", 20, 300), image("arm", 20, 400)
    old_index = index("old-index", amd, arm)
    plan = plan_retention(
        inventory({"prod-1": old_index, "prod-2": B, "prod-3": C}, amd, arm), policy()
    )
    (deletion,) = plan.deletions
    assert deletion.digest == old_index.digest
    assert set(deletion.children) == {amd.digest, arm.digest}
    assert plan.bytes_freed == 200 + (100 + 10 + 300) + (100 + 10 + 400)

    kept_index = index("kept-index", amd, arm)
    plan = plan_retention(
        inventory({"prod": kept_index, "prod-old-amd": amd, "prod-2": B, "prod-3": C}, arm),
        policy(),
    )
    assert "prod-old-amd" not in deleted_tags(plan)
    reasons = {d.tag: d.reasons for d in plan.decisions}
    assert any("child of kept index" in r for r in reasons["prod-old-amd"])


def test_an_in_use_child_keeps_its_whole_index() -> None:
    amd, arm = image("amd", 20, 300), image("arm", 20, 400)
    old_index = index("old-index", amd, arm)
    plan = plan_retention(
        inventory({"prod-1": old_index, "prod-2": B, "prod-3": C}, amd, arm),
        policy(in_use=frozenset({arm.digest})),
    )
    assert plan.deletions == ()


def test_the_plan_round_trips_through_json_with_its_checksum() -> None:
    plan = plan_retention(inventory({"dev-1": A, "dev-2": B, "dev-3": C}), policy())
    data = json.loads(json.dumps(plan.as_dict()))
    again = RetentionPlan.from_dict(data)
    assert again == plan
    assert again.checksum == data["checksum"]


def test_policy_from_the_platform_file() -> None:
    retention = Retention(
        keep_last=3,
        groups=[
            RetentionGroup(name="dev"),
            RetentionGroup(name="prod", pattern="^v\\d", keep_last=5),
        ],
    )
    built = RetentionPolicy.from_model(retention, now=NOW)
    assert [(g.name, g.pattern, g.keep_last) for g in built.groups] == [
        ("dev", "^dev-", 3),
        ("prod", "^v\\d", 5),
    ]
    assert built.grace == timedelta(hours=24)
    assert built.moving_tags == {"dev", "prod", "latest"}


def test_in_use_file_accepts_bare_digests_and_references() -> None:
    a, b = "a" * 64, "b" * 64
    text = f"sha256:{a}\nregistry/app@sha256:{b}  # prod\n# sha256:{'c' * 64}\n\n"
    assert parse_in_use(text) == {f"sha256:{a}", f"sha256:{b}"}


def test_the_safety_threshold_names_repositories_that_would_lose_too_much() -> None:
    many = {f"dev-{i}": image(f"m{i}", 10 + i, 5) for i in range(12)}
    plan = plan_retention(inventory(many), policy(keep=2))
    assert over_threshold(plan, 0.5) == ["app: 10 of 12 tags (83%)"]
    assert over_threshold(plan, 0.9) == []
    small = plan_retention(inventory({"dev-1": A, "dev-2": B, "dev-3": C}), policy(keep=0))
    assert over_threshold(small, 0.1) == []  # fewer than 10 tags: never refused
