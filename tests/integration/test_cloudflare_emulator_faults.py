"""Faults, the rate-limit budget and token permissions of the Cloudflare emulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import cloudflare
import httpx
import pytest
from tests.emulators.cloudflare.defaults import default_state
from tests.emulators.cloudflare.fixture import Emulator, EmulatorControlError, start_emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    state = default_state()
    state["tokens"].append(
        {"value": "dns-only", "permissions": ["zone:read", "dns:read"], "zones": ["elkhair.tech"]}
    )
    running = start_emulator(state)
    try:
        yield running
    finally:
        running.stop()


def test_a_429_fault_answers_with_retry_after_and_ratelimit_headers(emulator: Emulator) -> None:
    emulator.control.add_fault("429", retry_after=300, method="GET", path=r"^/zones$")
    client = emulator.client()
    with pytest.raises(cloudflare.RateLimitError) as limited:
        client.zones.list()
    headers = limited.value.response.headers
    assert headers["retry-after"] == "300"
    assert headers["ratelimit"] == '"default";r=0;t=300'
    assert headers["ratelimit-policy"] == '"burst";q=1200;w=300'
    assert [zone.name for zone in client.zones.list()] == ["eelkhair.net", "elkhair.tech"]


def test_faults_fire_deterministically_after_n_matching_requests(emulator: Emulator) -> None:
    zone_id = emulator.zone_id("elkhair.tech")
    emulator.control.add_fault("503", method="POST", path=r"/dns_records$", after=2, times=2)
    client = emulator.client()
    outcomes = []
    for index in range(5):
        try:
            client.dns.records.create(zone_id=zone_id, type="A", name=f"n{index}",
                                      content="192.0.2.1", ttl=1)  # fmt: skip
            outcomes.append("ok")
        except cloudflare.InternalServerError as error:
            outcomes.append(str(error.status_code))
    assert outcomes == ["ok", "ok", "503", "503", "ok"]
    [fault] = emulator.control.faults()
    assert (fault["seen"], fault["fired"]) == (4, 2)


def test_every_api_answer_carries_the_ratelimit_budget(emulator: Emulator) -> None:
    client = emulator.client()
    first = client.zones.with_raw_response.list()
    second = client.zones.with_raw_response.list()
    assert first.headers["ratelimit"].startswith('"default";r=1199;t=')
    assert second.headers["ratelimit"].startswith('"default";r=1198;t=')


def test_over_budget_every_call_is_refused_until_the_window_passes(emulator: Emulator) -> None:
    emulator.control.set_rate_limit(3, window=300)
    client = emulator.client()
    for _ in range(3):
        client.zones.list()
    with pytest.raises(cloudflare.RateLimitError) as blocked:
        client.zones.list()
    assert blocked.value.response.headers["retry-after"] == "300"
    emulator.control.advance_clock(120)
    with pytest.raises(cloudflare.RateLimitError) as still:
        client.zones.list()
    # 300 - 120 s, less the real time between the two calls (a loaded machine may take seconds)
    assert 170 <= int(still.value.response.headers["retry-after"]) <= 180
    emulator.control.advance_clock(181)
    assert len(list(client.zones.list())) == 2


def test_a_missing_permission_is_a_403_with_code_10000(emulator: Emulator) -> None:
    client = emulator.client("dns-only")
    zone_id = emulator.zone_id("elkhair.tech")
    with pytest.raises(cloudflare.PermissionDeniedError) as denied:
        client.dns.records.create(zone_id=zone_id, type="A", name="x", content="192.0.2.1", ttl=1)
    assert isinstance(denied.value.body, dict)
    assert denied.value.body["errors"][0]["code"] == 10000
    assert "dns:write" in denied.value.body["errors"][0]["error_chain"][0]["message"]


def test_a_zone_scoped_token_sees_only_its_zones(emulator: Emulator) -> None:
    client = emulator.client("dns-only")
    assert [zone.name for zone in client.zones.list()] == ["elkhair.tech"]
    with pytest.raises(cloudflare.PermissionDeniedError) as denied:
        list(client.dns.records.list(zone_id=emulator.zone_id("eelkhair.net")))
    assert isinstance(denied.value.body, dict)
    assert denied.value.body["errors"][0]["code"] == 9109


def test_unknown_tokens_and_missing_headers_are_refused(emulator: Emulator) -> None:
    with pytest.raises(cloudflare.AuthenticationError):
        emulator.client("no-such-token").zones.list()
    answer = httpx.get(f"{emulator.base_url}/zones", timeout=10)
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (400, 9106)


def test_unknown_paths_and_zones_use_the_live_codes(emulator: Emulator) -> None:
    headers = {"Authorization": f"Bearer {emulator.token}"}
    nowhere = httpx.get(f"{emulator.base_url}/nowhere", headers=headers, timeout=10)
    zone = httpx.get(
        f"{emulator.base_url}/zones/{'f' * 32}/dns_records", headers=headers, timeout=10
    )
    assert (nowhere.status_code, nowhere.json()["errors"][0]["code"]) == (404, 7000)
    assert (zone.status_code, zone.json()["errors"][0]["code"]) == (404, 7003)
    assert zone.json()["success"] is False and zone.json()["result"] is None


def test_the_request_log_records_method_path_query_and_status(emulator: Emulator) -> None:
    client = emulator.client()
    list(client.dns.records.list(zone_id=emulator.zone_id("elkhair.tech"), per_page=50))
    [entry] = emulator.control.requests(method="GET", path="/dns_records")
    assert entry["query"] == {"per_page": "50"}
    assert entry["status"] == 200
    emulator.control.reset_requests()
    assert emulator.control.requests() == []


def test_malformed_faults_are_refused_with_the_reason(emulator: Emulator) -> None:
    with pytest.raises(EmulatorControlError, match="fault kind must be one of"):
        emulator.control.add_fault("teapot")
    with pytest.raises(EmulatorControlError, match="fault key after: expected int"):
        emulator.control.add_fault("500", after="two")
    with pytest.raises(EmulatorControlError, match="fault key path: not a regex"):
        emulator.control.add_fault("500", path="(")
    assert emulator.control.faults() == []


def test_concurrent_requests_are_all_answered(emulator: Emulator) -> None:
    zone_id = emulator.zone_id("elkhair.tech")
    errors: list[BaseException] = []

    def create(index: int) -> None:
        try:
            emulator.client().dns.records.create(zone_id=zone_id, type="A", name=f"c{index}",
                                                 content="192.0.2.7", ttl=1)  # fmt: skip
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=create, args=(index,)) for index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(emulator.control.state()["zones"][0]["records"]) == 16


def test_reset_starts_over_without_a_restart(emulator: Emulator) -> None:
    client = emulator.client()
    zone_id = emulator.zone_id("elkhair.tech")
    client.dns.records.create(zone_id=zone_id, type="A", name="x", content="192.0.2.1", ttl=1)
    emulator.control.add_fault("500", times=None)
    emulator.control.set_rate_limit(1)
    emulator.control.reset()
    assert (emulator.control.faults(), emulator.control.requests()) == ([], [])
    assert list(client.dns.records.list(zone_id=zone_id)) == []
    assert len(list(client.zones.list())) == 2


def test_an_applied_5xx_makes_the_change_and_loses_the_answer(emulator: Emulator) -> None:
    client = emulator.client()
    zone_id = emulator.zone_id("elkhair.tech")
    emulator.control.add_fault("502", method="POST", path=r"/dns_records$", applied=True)
    with pytest.raises(cloudflare.InternalServerError) as lost:
        client.dns.records.create(zone_id=zone_id, type="A", name="x", content="192.0.2.1", ttl=1)
    assert lost.value.status_code == 502
    with pytest.raises(cloudflare.BadRequestError) as retried:
        client.dns.records.create(zone_id=zone_id, type="A", name="x", content="192.0.2.1", ttl=1)
    assert isinstance(retried.value.body, dict)
    assert retried.value.body["errors"][0]["code"] == 81057
