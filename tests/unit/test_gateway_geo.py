"""Geo lookups from the bundled GeoLite2 City database; clear empty answers; reload on replace."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from homeport.gateway.errors import GeoDatabaseError
from homeport.gateway.geo import (
    GeoDatabase,
    bundled_database,
    install_database,
    resolve_database,
    update_target,
)


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
