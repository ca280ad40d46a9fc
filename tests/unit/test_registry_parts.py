"""The registry piece's small pure parts: manifests, collector output, config, mirror, cache."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from homeport.model.platform import Registry
from homeport.registry.cache import ManifestCache
from homeport.registry.control import with_readonly
from homeport.registry.disk import DiskUsage
from homeport.registry.errors import RegistryError
from homeport.registry.gc import parse_collector_output, untagged_risks
from homeport.registry.images import (
    DOCKER_SCHEMA1_SIGNED,
    OCI_INDEX,
    OCI_MANIFEST,
    BlobRef,
    Inventory,
    Manifest,
    RepositoryTags,
    parse_created,
    parse_manifest,
    parse_timestamp,
)
from homeport.registry.mirror import daemon_json, host_of, is_docker_hub
from homeport.registry.retention import RetentionPolicy
from homeport.registry.server import registry_environment, render_config
from homeport.registry.settings import RetentionFlags, resolve
from homeport.registry.status import human_bytes, summarize, with_alert

D = "sha256:" + "d" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T22:49:56.206956123Z", datetime(2026, 11, 26, 22, 49, 56, 206956, UTC)),
        ("2026-11-26T22:49:56Z", datetime(2026, 11, 26, 22, 49, 56, tzinfo=UTC)),
        ("2026-11-26T23:49:56.5+01:00", datetime(2026, 11, 26, 22, 49, 56, 500000, UTC)),
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
        ("yesterday", None),
        ("2026-11-26T22:49:56", None),
    ],
)
def test_go_timestamps(text: str, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


def test_created_comes_from_the_config_or_is_none() -> None:
    assert parse_created(b'{"created": "2026-01-02T03:04:05Z"}') == datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    assert parse_created(b"{}") is None
    assert parse_created(b"not json") is None


def test_media_type_from_the_body_wins_and_schema1_is_understood() -> None:
    index = parse_manifest(D, "text/plain", json.dumps({"manifests": []}).encode())
    assert index.media_type == OCI_INDEX and index.is_index
    schema1 = json.dumps({"schemaVersion": 1, "fsLayers": [{"blobSum": D}]}).encode()
    parsed = parse_manifest(D, DOCKER_SCHEMA1_SIGNED, schema1)
    assert parsed.layers == (BlobRef(D, 0),)


def test_collector_output_is_parsed() -> None:
    blob, manifest = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    text = (
        "app\napp: marking manifest sha256:" + "3" * 64 + " \n"
        f"manifest eligible for deletion: {manifest}\n\n"
        "13 blobs marked, 1 blobs and 1 manifests eligible for deletion\n"
        f"blob eligible for deletion: {blob}\n"
    )
    run = parse_collector_output(text)
    assert run.blobs == (blob,) and run.manifests == (manifest,) and run.marked == 13


def _index_inventory(child_tagged: bool) -> Inventory:
    child = Manifest("sha256:" + "c" * 64, OCI_MANIFEST, 10)
    index = Manifest(D, OCI_INDEX, 20, children=(BlobRef(child.digest, 10),))
    tags = {"prod": D, **({"prod-amd64": child.digest} if child_tagged else {})}
    return Inventory((RepositoryTags("app", tags),), {D: index, child.digest: child})


def test_delete_untagged_is_unsafe_exactly_when_an_index_child_has_no_tag() -> None:
    assert untagged_risks(_index_inventory(child_tagged=True)) == []
    (risk,) = untagged_risks(_index_inventory(child_tagged=False))
    assert risk.startswith("app: index sha256:dddddddddddd would lose its untagged child")


def test_the_rendered_config_serves_storage_on_loopback() -> None:
    text = render_config(Path("/srv/reg"), 5000, readonly=True, proxy_upstream="https://up")
    document = yaml.safe_load(text)
    assert document["http"]["addr"] == "127.0.0.1:5000"
    assert document["storage"]["filesystem"]["rootdirectory"] == "/srv/reg"
    assert document["storage"]["delete"]["enabled"] is True
    assert document["storage"]["maintenance"]["readonly"]["enabled"] is True
    assert document["proxy"] == {"remoteurl": "https://up"}
    assert "proxy" not in yaml.safe_load(render_config(Path("/s"), 1))


def test_the_registry_runs_with_the_go_collector_tuned_unless_the_user_tuned_it() -> None:
    assert registry_environment({"PATH": "/usr/bin"}) == {
        "PATH": "/usr/bin",
        "GOGC": "off",
        "GOMEMLIMIT": "128MiB",
    }
    assert registry_environment({"GOGC": "200"}) == {"GOGC": "200"}
    assert registry_environment({"GOMEMLIMIT": "1GiB"}) == {"GOMEMLIMIT": "1GiB"}


def test_readonly_is_toggled_in_a_users_config_keeping_the_rest() -> None:
    original = b"version: 0.1\nstorage:\n  filesystem: {rootdirectory: /r}\nhttp: {addr: ':5000'}\n"
    document = yaml.safe_load(with_readonly(original, True))
    assert document["storage"]["maintenance"]["readonly"] == {"enabled": True}
    assert document["storage"]["filesystem"] == {"rootdirectory": "/r"}
    assert document["http"] == {"addr": ":5000"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://192.168.1.151:5001",
            {
                "registry-mirrors": ["http://192.168.1.151:5001"],
                "insecure-registries": ["192.168.1.151:5001"],
            },
        ),
        ("https://mirror.example.com/", {"registry-mirrors": ["https://mirror.example.com"]}),
    ],
)
def test_daemon_json_fragment(url: str, expected: dict[str, list[str]]) -> None:
    assert daemon_json(url) == expected


def test_docker_hub_and_hosts() -> None:
    assert is_docker_hub("https://registry-1.docker.io")
    assert not is_docker_hub("https://mcr.microsoft.com")
    assert host_of("ghcr.io/org/app:1") == "ghcr.io"
    assert host_of("library/redis") == "docker.io"
    assert host_of("http://10.0.0.1:5001") == "10.0.0.1:5001"


def test_the_manifest_cache_round_trips(tmp_path: Path) -> None:
    manifest = Manifest(
        D,
        OCI_MANIFEST,
        99,
        config=BlobRef("sha256:" + "e" * 64, 5),
        layers=(BlobRef("sha256:" + "f" * 64, 7),),
        created=datetime(2026, 1, 1, 12, 0, 0, 123456, UTC),
    )
    cache = ManifestCache(tmp_path / "c.json")
    cache.put(manifest)
    cache.save()
    assert ManifestCache(tmp_path / "c.json").get(D) == manifest
    (tmp_path / "c.json").write_text("garbage")
    assert len(ManifestCache(tmp_path / "c.json")) == 0


def test_status_counts_a_shared_layer_once_and_alerts_over_the_threshold() -> None:
    base = BlobRef("sha256:" + "b" * 64, 1000)
    one = Manifest(
        "sha256:" + "1" * 64, OCI_MANIFEST, 10, BlobRef("sha256:" + "3" * 64, 1), (base,)
    )
    two = Manifest(
        "sha256:" + "2" * 64, OCI_MANIFEST, 10, BlobRef("sha256:" + "4" * 64, 1), (base,)
    )
    inventory = Inventory(
        (
            RepositoryTags("api", {"dev": one.digest, "dev-1": one.digest, "prod-1": two.digest}),
            RepositoryTags("web", {"dev": two.digest}),
        ),
        {one.digest: one, two.digest: two},
    )
    policy = RetentionPolicy.from_model(
        Registry(url="http://r", retention={"groups": ["dev", "prod"]}).retention,
        now=datetime.now(UTC) - timedelta(0),
    )
    disk = DiskUsage("/srv", total=100, used=90, free=10, registry_bytes=5)
    status = summarize("http://r", inventory, policy, disk)
    assert status.unique_bytes == 1000 + 2 * (10 + 1)
    assert status.repositories[0].unique_bytes == 1000 + 2 * (10 + 1)
    assert {g: [t.tag for t in tags] for g, tags in status.repositories[0].groups.items()} == {
        "moving": ["dev"],
        "dev": ["dev-1"],
        "prod": ["prod-1"],
    }
    assert with_alert(status, 95.0).alerts == []
    (alert,) = with_alert(status, 85.0).alerts
    assert "is 90.0% full (threshold 85%, 10 B free)" in alert
    assert human_bytes(1_234_567) == "1.2 MB"


def test_settings_from_flags_alone_and_from_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(render_config(tmp_path / "storage", 5000))
    settings = resolve(
        None,
        None,
        url="http://127.0.0.1:5000/",
        config=config,
        retention=RetentionFlags(keep_last=3, groups=("dev", "prod=^v[0-9]:5"), grace=60.0),
    )
    assert settings.url == "http://127.0.0.1:5000"
    assert settings.storage == tmp_path / "storage"
    groups = [(g.name, g.pattern, g.keep_last) for g in settings.retention.groups]
    assert groups == [("dev", None, None), ("prod", "^v[0-9]", 5)]
    assert settings.retention.keep_last == 3 and settings.retention.grace == 60.0

    registry = Registry(url="https://r.example", storage="data", gc={"delete_untagged": True})
    from_file = resolve(registry, tmp_path)
    assert from_file.storage == tmp_path / "data" and from_file.delete_untagged
    with pytest.raises(RegistryError, match="--url"):
        resolve(None, None)
