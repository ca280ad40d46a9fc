"""Geo lookups from the bundled GeoLite2 City database; clear empty answers; reload on replace."""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from homeport.gateway.errors import GeoDatabaseError
from homeport.gateway.geo import (
    GeoDatabase,
    bundled_database,
    install_database,
    resolve_database,
    update_target,
)
from homeport.gateway.geo_index import NO_ROW


@pytest.fixture(scope="module")
def geo() -> GeoDatabase:
    return GeoDatabase(bundled_database())


def test_public_address_has_country_city_and_coordinates(geo: GeoDatabase) -> None:
    answer = geo.lookup("81.2.69.160")
    assert answer.found
    assert (answer.country, answer.city, answer.region) == ("GB", "Willesden", "England")
    assert answer.latitude == pytest.approx(51.53, abs=0.01)
    assert answer.longitude == pytest.approx(-0.23, abs=0.01)


@pytest.mark.parametrize("ip", ["10.1.2.3", "192.168.1.150", "127.0.0.1", "::1", "fd00::1"])
def test_private_addresses_get_a_clear_empty_answer(geo: GeoDatabase, ip: str) -> None:
    answer = geo.lookup(ip)
    assert not answer.found
    assert answer.reason == "private or reserved address"
    assert answer.as_json()["country"] is None


def test_not_an_address(geo: GeoDatabase) -> None:
    assert geo.lookup("nope").reason == "not an IP address"


def test_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "x.mmdb"
    bogus.write_bytes(b"not a database")
    with pytest.raises(GeoDatabaseError, match="not a readable MaxMind database"):
        GeoDatabase(bogus)


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(GeoDatabaseError, match="does not exist"):
        GeoDatabase(tmp_path / "absent.mmdb")


def test_state_copy_wins_over_the_bundled_file(tmp_path: Path) -> None:
    state = tmp_path / "gateway" / "GeoLite2-City.mmdb"
    assert resolve_database("bundled", state) == bundled_database()
    assert update_target("bundled", state) == state
    install_database(bundled_database(), state)
    assert resolve_database("bundled", state) == state
    assert resolve_database("/srv/geo.mmdb", state) == Path("/srv/geo.mmdb")


def test_replaced_file_is_picked_up_after_a_second(tmp_path: Path) -> None:
    now = [0.0]
    path = tmp_path / "geo.mmdb"
    shutil.copyfile(bundled_database(), path)
    geo = GeoDatabase(path, clock=lambda: now[0])
    first_inode = os.stat(path).st_ino
    install_database(bundled_database(), path)
    assert os.stat(path).st_ino != first_inode
    geo.lookup("81.2.69.160")
    assert geo._identity[0] == first_inode  # within the second: not checked yet
    now[0] = 1.5
    assert geo.lookup("81.2.69.160").found
    assert geo._identity[0] == os.stat(path).st_ino
    geo.close()


def _c_extension_only(path: Path) -> GeoDatabase:
    return GeoDatabase(path, use_index=False)


def _indexed(path: Path, index_dir: Path | None = None) -> GeoDatabase:
    geo = GeoDatabase(path, index_dir=index_dir)
    assert geo.wait_indexed(180), geo.index_error
    return geo


def _every_kind_of_address(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    addresses = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(count)]
    # the edges of the address space and of the special ranges, where an off-by-one would show
    addresses += ["0.0.0.0", "0.0.0.1", "1.0.0.0", "9.255.255.255", "10.0.0.0", "11.0.0.0"]
    addresses += ["126.255.255.255", "127.0.0.1", "223.255.255.255", "224.0.0.0"]
    addresses += ["255.255.255.254", "255.255.255.255", "81.2.69.160", "81.2.69.0", "81.2.68.255"]
    addresses += ["::1", "2001:4860:4860::8888", "::ffff:81.2.69.160", "nope", "1.2.3", ""]
    return addresses


def _assert_same_answers(indexed: GeoDatabase, reference: GeoDatabase, ips: list[str]) -> None:
    """The answers, and the index itself (a network without a row falls back to the C extension,
    which would hide a wrong row)."""
    index = indexed._opened.index
    assert index is not None
    reader = reference._opened.reader
    for ip in ips:
        answer = indexed.lookup(ip)
        expected = reference.lookup(ip)
        assert answer == expected, ip
        try:
            address = int(ipaddress.IPv4Address(ip))
        except ValueError:
            continue
        row = index.row(address)
        assert (row == NO_ROW) == (reader.get(ip) is None), ip
        if row != NO_ROW:
            assert index.fields(row) == expected[2:8], ip


def test_the_ipv4_index_answers_exactly_as_the_c_extension_does() -> None:
    indexed = _indexed(bundled_database())  # the default cache: built once per machine
    reference = _c_extension_only(bundled_database())
    index = indexed._opened.index
    assert index is not None
    assert len(index) > 2_000_000  # GeoLite2 City: about 2.2 million IPv4 networks
    assert index.records > 400_000  # and about 450,000 distinct records
    probes = _every_kind_of_address(seed=11, count=8_000)
    # both sides of every 1000th network boundary
    for position in range(1, len(index), 1000):
        start = index.starts[position]
        probes += [str(ipaddress.IPv4Address(start - 1)), str(ipaddress.IPv4Address(start))]
    _assert_same_answers(indexed, reference, probes)


def _small_database(path: Path, ip_version: int, networks: list[str]) -> None:
    writer = MMDBWriter(
        ip_version=ip_version, database_type="GeoLite2-City", ipv4_compatible=ip_version == 6
    )
    for number, network in enumerate(networks):
        record = {
            "country": {"iso_code": f"C{number}", "names": {"en": f"Country {number}"}},
            "city": {"names": {"en": f"City {number}"}},
            "location": {"latitude": float(number), "longitude": -float(number)},
        }
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))


@pytest.mark.parametrize("ip_version", [4, 6])
def test_the_index_of_a_small_database_with_short_records(tmp_path: Path, ip_version: int) -> None:
    path = tmp_path / "small.mmdb"
    _small_database(path, ip_version, ["81.2.69.0/24", "1.0.0.0/8", "200.1.2.3/32", "8.8.8.0/23"])
    indexed = _indexed(path, tmp_path / "index")
    reference = _c_extension_only(path)
    assert reference._opened.reader.metadata().record_size == 24
    probes = _every_kind_of_address(seed=ip_version, count=2_000)
    probes += ["200.1.2.2", "200.1.2.3", "200.1.2.4", "8.8.7.255", "8.8.8.0", "8.8.9.255"]
    probes += ["8.8.10.0", "1.255.255.255", "2.0.0.0"]
    _assert_same_answers(indexed, reference, probes)
    assert indexed.lookup("200.1.2.3")[2:] == ("C2", "Country 2", None, "City 2", 2.0, -2.0, None)
    assert indexed.lookup("8.8.9.9").country == "C3"


def test_index_status_says_building_then_ready_or_why_not(tmp_path: Path) -> None:
    path = tmp_path / "small.mmdb"
    _small_database(path, 6, ["81.2.69.0/24", "8.8.8.0/24"])
    geo = GeoDatabase(path, index_dir=tmp_path / "index")
    assert geo.index_status.startswith("building")
    assert geo.wait_indexed(30)
    assert geo.index_status == "ready: 5 IPv4 networks"  # two with data, three gaps around them
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    failing = GeoDatabase(path, index_dir=blocked)
    assert not failing.wait_indexed(30)
    assert failing.index_status.startswith("unavailable (geo index of ")
    assert failing.lookup("8.8.8.8").found  # the C extension still answers
    assert GeoDatabase(path, use_index=False).index_status == "off"


def test_a_built_index_is_loaded_by_the_next_gateway_and_a_bad_one_is_rebuilt(
    tmp_path: Path,
) -> None:
    path = tmp_path / "small.mmdb"
    _small_database(path, 6, ["81.2.69.0/24"])
    first = _indexed(path, tmp_path / "index")
    assert first._opened.builder is not None  # built by a child process
    (written,) = (tmp_path / "index").iterdir()
    second = GeoDatabase(path, index_dir=tmp_path / "index")
    assert second._opened.builder is None  # loaded, nothing to build
    assert second.wait_indexed(0)
    written.write_bytes(written.read_bytes()[:-3])  # cut short, as by a full disk
    third = _indexed(path, tmp_path / "index")
    assert third._opened.builder is not None
    assert third.lookup("81.2.69.1").city == "City 0"


def test_closing_stops_an_index_build_still_running(tmp_path: Path) -> None:
    geo = GeoDatabase(bundled_database(), index_dir=tmp_path / "index")
    builder = geo._opened.builder
    assert builder is not None
    assert geo.lookup("81.2.69.160").city == "Willesden"  # the C extension answers meanwhile
    geo.close()
    assert builder.poll() is not None
    assert not list((tmp_path / "index").glob("*.idx"))


def test_a_replaced_database_gets_its_own_index(tmp_path: Path) -> None:
    now = [0.0]
    path = tmp_path / "geo.mmdb"
    _small_database(path, 6, ["81.2.69.0/24"])
    geo = GeoDatabase(path, clock=lambda: now[0], index_dir=tmp_path / "index")
    assert geo.wait_indexed(60), geo.index_error
    first = geo._opened
    replacement = tmp_path / "new.mmdb"
    _small_database(replacement, 6, ["8.8.8.0/24", "81.2.69.0/25"])
    install_database(replacement, path)
    now[0] = 1.5
    assert geo.lookup("81.2.69.160").found is False  # right away, through the C extension
    assert geo._opened is not first
    assert geo.wait_indexed(60), geo.index_error
    assert geo.lookup("8.8.8.8").city == "City 0"  # through the new index
    assert geo.lookup("81.2.69.1").city == "City 1"
    geo.close()
