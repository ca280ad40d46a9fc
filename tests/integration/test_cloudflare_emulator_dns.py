"""DNS records in the Cloudflare emulator: the live API's rules, pagination, plans and the batch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cloudflare
import pytest
from tests.emulators.cloudflare.defaults import default_state
from tests.emulators.cloudflare.fixture import Emulator, start_emulator


def _records(count: int, zone: str = "elkhair.tech") -> list[dict[str, object]]:
    return [
        {"type": "A", "name": f"h{index}.{zone}", "content": f"192.0.2.{index % 250}", "ttl": 1}
        for index in range(count)
    ]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    state = default_state()
    state["zones"][0]["records"] = _records(25)
    running = start_emulator(state)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def zone_id(emulator: Emulator) -> str:
    return emulator.zone_id("elkhair.tech")


def _error_codes(error: cloudflare.APIStatusError) -> list[int]:
    body = error.body if isinstance(error.body, dict) else {}
    codes = []
    for entry in body.get("errors", []):
        codes.append(entry["code"])
        codes.extend(chained["code"] for chained in entry.get("error_chain", []))
    return codes


def test_the_sdk_pager_reads_every_record_and_stops_at_the_empty_page(
    emulator: Emulator, zone_id: str
) -> None:
    records = list(emulator.client().dns.records.list(zone_id=zone_id, per_page=10))
    assert len(records) == 25
    pages = emulator.control.requests(method="GET", path=r"/dns_records$")
    assert [entry["query"].get("page", "1") for entry in pages] == ["1", "2", "3", "4"]
    assert [entry["status"] for entry in pages] == [200] * 4


def test_past_the_last_page_result_is_empty_with_result_info(
    emulator: Emulator, zone_id: str
) -> None:
    page = emulator.client().dns.records.list(zone_id=zone_id, per_page=5000, page=2)
    assert page.result == []
    assert page.result_info is not None
    assert (page.result_info.page, page.result_info.per_page) == (2, 5000)


def test_one_large_page_holds_the_whole_zone(emulator: Emulator, zone_id: str) -> None:
    first = emulator.client().dns.records.list(zone_id=zone_id, per_page=5000)
    assert len(first.result) == 25


def test_a_page_size_above_the_contract_maximum_is_refused(
    emulator: Emulator, zone_id: str
) -> None:
    with pytest.raises(cloudflare.BadRequestError):
        emulator.client().dns.records.list(zone_id=zone_id, per_page=5_000_001)


def test_names_are_stored_fully_qualified_lowercase_punycode(
    emulator: Emulator, zone_id: str
) -> None:
    client = emulator.client()
    apex = client.dns.records.create(
        zone_id=zone_id, type="TXT", name="@", content="v=spf1 -all", ttl=1
    )
    rel = client.dns.records.create(
        zone_id=zone_id, type="A", name="Jobs", content="192.0.2.9", ttl=300
    )
    idn = client.dns.records.create(zone_id=zone_id, type="A", name="bücher.elkhair.tech.",
                                    content="192.0.2.10", ttl=300)  # fmt: skip
    assert apex is not None and rel is not None and idn is not None
    assert (apex.name, rel.name, idn.name) == (
        "elkhair.tech", "jobs.elkhair.tech", "xn--bcher-kva.elkhair.tech",
    )  # fmt: skip


def test_name_and_type_filters(emulator: Emulator, zone_id: str) -> None:
    client = emulator.client()
    client.dns.records.create(zone_id=zone_id, type="TXT", name="h3", content="x", ttl=1)
    found = client.dns.records.list(zone_id=zone_id, name={"exact": "h3.elkhair.tech"}, type="A")
    assert [(r.type, r.name) for r in found] == [("A", "h3.elkhair.tech")]


def test_proxied_records_get_automatic_ttl_and_unproxiable_types_are_refused(
    emulator: Emulator, zone_id: str
) -> None:
    client = emulator.client()
    record = client.dns.records.create(zone_id=zone_id, type="A", name="p", content="192.0.2.1",
                                       proxied=True, ttl=3600)  # fmt: skip
    assert record is not None and (record.ttl, record.proxied, record.proxiable) == (1, True, True)
    with pytest.raises(cloudflare.BadRequestError) as refused:
        client.dns.records.create(
            zone_id=zone_id, type="TXT", name="t", content="x", ttl=1, proxied=True
        )
    assert _error_codes(refused.value) == [9004]


def test_a_cname_beside_another_record_and_an_exact_duplicate_are_refused(
    emulator: Emulator, zone_id: str
) -> None:
    client = emulator.client()
    with pytest.raises(cloudflare.BadRequestError) as cname:
        client.dns.records.create(
            zone_id=zone_id, type="CNAME", name="h1", content="x.example", ttl=1
        )
    with pytest.raises(cloudflare.BadRequestError) as duplicate:
        client.dns.records.create(zone_id=zone_id, type="A", name="h1", content="192.0.2.1", ttl=1)
    assert (_error_codes(cname.value), _error_codes(duplicate.value)) == ([81053], [81057])


def test_free_plan_refuses_tags_and_comments_over_100_characters(
    emulator: Emulator, zone_id: str
) -> None:
    client = emulator.client()
    with pytest.raises(cloudflare.BadRequestError) as tags:
        client.dns.records.create(zone_id=zone_id, type="A", name="t", content="192.0.2.1", ttl=1,
                                  tags=["owner:homeport"])  # fmt: skip
    with pytest.raises(cloudflare.BadRequestError) as comment:
        client.dns.records.create(zone_id=zone_id, type="A", name="c", content="192.0.2.1", ttl=1,
                                  comment="homeport:" + "x" * 92)  # fmt: skip
    assert _error_codes(tags.value) == [1004, 9300]
    assert _error_codes(comment.value) == [9313]
    kept = client.dns.records.create(zone_id=zone_id, type="A", name="c", content="192.0.2.1",
                                     ttl=1, comment="homeport:" + "x" * 91)  # fmt: skip
    assert kept is not None and kept.comment is not None and len(kept.comment) == 100


def test_pro_plan_accepts_tags_and_longer_comments() -> None:
    with start_emulator(plan="pro") as emulator:
        record = emulator.client().dns.records.create(
            zone_id=emulator.zone_id("elkhair.tech"), type="A", name="t", content="192.0.2.1",
            ttl=1, tags=["owner:homeport"], comment="homeport:" + "x" * 200,
        )  # fmt: skip
    assert record is not None and record.tags == ["owner:homeport"]


def test_patch_changes_fields_and_put_replaces_the_record_whole(
    emulator: Emulator, zone_id: str
) -> None:
    client = emulator.client()
    created = client.dns.records.create(zone_id=zone_id, type="A", name="w", content="192.0.2.1",
                                        ttl=300, comment="homeport:w")  # fmt: skip
    assert created is not None
    patched = client.dns.records.edit(dns_record_id=created.id, zone_id=zone_id, type="A",
                                      name="w", content="192.0.2.2", ttl=300)  # fmt: skip
    assert patched is not None and (patched.content, patched.comment) == ("192.0.2.2", "homeport:w")
    put = client.dns.records.update(dns_record_id=created.id, zone_id=zone_id, type="A", name="w",
                                    content="192.0.2.3", ttl=300)  # fmt: skip
    assert put is not None and (put.content, put.comment, put.id) == ("192.0.2.3", None, created.id)
    client.dns.records.delete(dns_record_id=created.id, zone_id=zone_id)
    with pytest.raises(cloudflare.NotFoundError) as gone:
        client.dns.records.get(dns_record_id=created.id, zone_id=zone_id)
    assert _error_codes(gone.value) == [81044]


def test_batch_runs_deletes_patches_puts_then_posts(emulator: Emulator, zone_id: str) -> None:
    client = emulator.client()
    existing = {r.name: r.id for r in client.dns.records.list(zone_id=zone_id, per_page=100)}
    # The post reuses the deleted name with a CNAME: valid only because deletes run first.
    result = client.dns.records.batch(
        zone_id=zone_id,
        deletes=[{"id": existing["h1.elkhair.tech"]}],
        patches=[{"id": existing["h2.elkhair.tech"], "content": "198.51.100.2"}],
        puts=[{"id": existing["h3.elkhair.tech"], "type": "A", "name": "h3", "ttl": 1,
               "content": "198.51.100.3"}],
        posts=[{"type": "CNAME", "name": "h1", "content": "x.cfargotunnel.com", "proxied": True}],
    )  # fmt: skip
    assert result is not None
    assert [len(result.deletes or []), len(result.patches or []), len(result.puts or []),
            len(result.posts or [])] == [1, 1, 1, 1]  # fmt: skip
    by_name = {r.name: r for r in client.dns.records.list(zone_id=zone_id, per_page=100)}
    assert by_name["h1.elkhair.tech"].type == "CNAME"
    assert by_name["h2.elkhair.tech"].content == "198.51.100.2"


def test_a_failing_batch_applies_nothing(emulator: Emulator, zone_id: str) -> None:
    client = emulator.client()
    before = emulator.control.state()["zones"][0]["records"]
    first = before[0]["id"]
    with pytest.raises(cloudflare.BadRequestError):
        client.dns.records.batch(
            zone_id=zone_id,
            deletes=[{"id": first}],
            posts=[{"type": "A", "name": "new", "content": "192.0.2.50", "ttl": 1},
                   {"type": "A", "name": "bad", "content": "not-an-ip", "ttl": 1}],
        )  # fmt: skip
    assert emulator.control.state()["zones"][0]["records"] == before


def test_batch_fail_fault_refuses_every_write_of_its_record_only(
    emulator: Emulator, zone_id: str
) -> None:
    client = emulator.client()
    emulator.control.add_fault("batch_fail", record_name="bad.elkhair.tech", times=None)
    posts = [{"type": "A", "name": n, "content": "192.0.2.60", "ttl": 1} for n in ("ok", "bad")]
    with pytest.raises(cloudflare.BadRequestError):
        client.dns.records.batch(zone_id=zone_id, posts=posts)  # type: ignore[arg-type]
    ok = client.dns.records.create(
        zone_id=zone_id, type="A", name="ok", content="192.0.2.60", ttl=1
    )
    assert ok is not None
    with pytest.raises(cloudflare.BadRequestError) as single:
        client.dns.records.create(
            zone_id=zone_id, type="A", name="bad", content="192.0.2.60", ttl=1
        )
    assert _error_codes(single.value) == [1004, 9005]
    names = {r.name for r in client.dns.records.list(zone_id=zone_id, per_page=100)}
    assert "ok.elkhair.tech" in names and "bad.elkhair.tech" not in names


@pytest.mark.parametrize(("plan", "limit"), [("free", 200), ("pro", 3500)])
def test_batch_size_is_capped_by_plan(plan: str, limit: int) -> None:
    # The SDK's typed ``batch()`` spends seconds transforming thousands of records client-side;
    # its generic ``post`` sends the same body to the same endpoint.
    with start_emulator(plan=plan) as emulator:
        client = emulator.client()
        path = f"/zones/{emulator.zone_id('eelkhair.net')}/dns_records/batch"
        posts = _records(limit + 1, "eelkhair.net")
        with pytest.raises(cloudflare.BadRequestError) as refused:
            client.post(path, body={"posts": posts}, cast_to=object)
        assert _error_codes(refused.value) == [81002]
        result = client.post(path, body={"posts": posts[:limit]}, cast_to=dict[str, Any])
        assert len(result["result"]["posts"]) == limit
