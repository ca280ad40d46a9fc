"""The Cloudflare emulator through the official ``cloudflare`` SDK, as homeport's edge uses it."""

from __future__ import annotations

from collections.abc import Iterator

import cloudflare
import pytest
from tests.emulators.cloudflare.defaults import TUNNEL_ID
from tests.emulators.cloudflare.fixture import Emulator, start_emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    running = start_emulator()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(emulator: Emulator) -> cloudflare.Cloudflare:
    return emulator.client()


def test_the_sdk_lists_the_default_zones(client: cloudflare.Cloudflare) -> None:
    names = [zone.name for zone in client.zones.list()]
    assert names == ["eelkhair.net", "elkhair.tech"]


def test_a_created_record_is_stored_fully_qualified_and_proxied_ttl_is_automatic(
    emulator: Emulator, client: cloudflare.Cloudflare
) -> None:
    zone_id = emulator.zone_id("elkhair.tech")
    record = client.dns.records.create(
        zone_id=zone_id, type="CNAME", name="WWW", content="x.cfargotunnel.com", proxied=True,
        ttl=300, comment="homeport:www",
    )  # fmt: skip
    assert record is not None
    assert (record.name, record.ttl, record.proxiable) == ("www.elkhair.tech", 1, True)
    assert len(record.id) == 32


def test_the_tunnel_is_healthy_with_connections(
    emulator: Emulator, client: cloudflare.Cloudflare
) -> None:
    tunnel = client.zero_trust.tunnels.cloudflared.get(
        tunnel_id=TUNNEL_ID, account_id=emulator.account_id
    )
    assert tunnel.status == "healthy"
    assert tunnel.connections and len(tunnel.connections) == 2


def test_a_stopped_emulator_answers_nothing_even_on_a_pooled_connection() -> None:
    emulator = start_emulator()
    client = cloudflare.Cloudflare(
        api_token=emulator.token, base_url=emulator.base_url, max_retries=0
    )
    try:
        assert len(list(client.zones.list())) == 2
        emulator.stop()
        with pytest.raises(cloudflare.APIConnectionError):
            client.zones.list()
    finally:
        client.close()
