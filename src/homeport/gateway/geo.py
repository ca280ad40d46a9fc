"""Geo lookups from a MaxMind City database, opened with maxminddb's C extension.

The database is memory-mapped; a lookup costs a few microseconds and answers repeat visitors from
a small cache. ``GeoDatabase`` checks the file's identity (inode, size, mtime) at most once per
second and reopens it when ``homeport gateway geo-update`` has replaced it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import maxminddb
from _maxminddb_geolite2 import geolite2_database  # type: ignore[import-untyped]

from homeport.gateway.errors import GeoDatabaseError

CACHE_SIZE = 65536
RECHECK_SECONDS = 1.0
STATE_NAME = "GeoLite2-City.mmdb"


@dataclass(frozen=True)
class GeoAnswer:
    """What /api/public/geo says about one address; ``found`` is False for private or unknown."""

    ip: str
    found: bool
    country: str | None = None
    country_name: str | None = None
    region: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return asdict(self)


def bundled_database() -> Path:
    """The GeoLite2 City file that the ``maxminddb-geolite2`` wheel ships."""
    return Path(geolite2_database())


def require_c_extension() -> None:
    """Refuse to run on maxminddb's pure-Python reader, which is about ten times slower."""
    try:
        import maxminddb.extension  # noqa: F401, PLC0415 (a probe for the C extension)
    except ImportError as exc:
        raise GeoDatabaseError(
            "maxminddb's C extension is not installed, and pure-Python lookups are ~10x slower; "
            "reinstall maxminddb from a wheel (pip install --force-reinstall maxminddb)"
        ) from exc


def open_reader(path: Path) -> maxminddb.Reader:
    """Open a City database with the C extension, or raise GeoDatabaseError saying why not."""
    require_c_extension()
    try:
        reader = maxminddb.open_database(str(path), maxminddb.MODE_MMAP_EXT)
    except FileNotFoundError as exc:
        raise GeoDatabaseError(f"GeoIP database {path} does not exist; check gateway.geo") from exc
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise GeoDatabaseError(
            f"{path} is not a readable MaxMind database ({exc}); give a GeoLite2-City .mmdb"
        ) from exc
    kind = reader.metadata().database_type
    if "City" not in kind:
        reader.close()
        raise GeoDatabaseError(f"{path} is a {kind} database; the gateway needs a City database")
    return reader


def resolve_database(configured: str, state_path: Path) -> Path:
    """The file to open: a refreshed copy in the state directory wins over the bundled one."""
    if configured != "bundled":
        return Path(configured)
    return state_path if state_path.exists() else bundled_database()


def update_target(configured: str, state_path: Path) -> Path:
    """Where ``geo-update`` writes: the configured path, or the state directory's copy."""
    return state_path if configured == "bundled" else Path(configured)


def install_database(source: Path, target: Path) -> str:
    """Check ``source`` is a City database and atomically replace ``target`` with a copy of it.

    Returns the database's type and build date. A running gateway notices within a second.
    """
    reader = open_reader(source)
    metadata = reader.metadata()
    reader.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".geo-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as data:
            shutil.copyfileobj(data, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    built = time.strftime("%Y-%m-%d", time.gmtime(metadata.build_epoch))
    return f"{metadata.database_type} built {built}"


def answer_from_record(ip: str, record: Any) -> GeoAnswer:
    """Pick country, region, city and coordinates out of a City record."""
    if not isinstance(record, dict):
        return GeoAnswer(ip=ip, found=False, reason="address not in the database")
    country = record.get("country") or record.get("registered_country") or {}
    subdivisions = record.get("subdivisions") or [{}]
    location = record.get("location") or {}
    return GeoAnswer(
        ip=ip,
        found=True,
        country=country.get("iso_code"),
        country_name=(country.get("names") or {}).get("en"),
        region=(subdivisions[0].get("names") or {}).get("en"),
        city=((record.get("city") or {}).get("names") or {}).get("en"),
        latitude=location.get("latitude"),
        longitude=location.get("longitude"),
    )


def _file_identity(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class GeoDatabase:
    """A City database that follows atomic replacements of its file."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._clock = clock
        self._reader = open_reader(path)
        self._identity = _file_identity(path)
        self._checked = clock()
        self._cached = lru_cache(maxsize=CACHE_SIZE)(self._lookup_uncached)

    @property
    def description(self) -> str:
        """The database's type and build date, for logs and /healthz."""
        self._maybe_reload()
        metadata = self._reader.metadata()
        built = time.strftime("%Y-%m-%d", time.gmtime(metadata.build_epoch))
        return f"{metadata.database_type} built {built}"

    def lookup(self, ip: str) -> GeoAnswer:
        """Country, region, city and coordinates of ``ip``; a clear empty answer when unknown."""
        self._maybe_reload()
        return self._cached(ip)

    def _lookup_uncached(self, ip: str) -> GeoAnswer:
        try:
            record = self._reader.get(ip)
        except ValueError:
            return GeoAnswer(ip=ip, found=False, reason="not an IP address")
        if record is None and not ip_address(ip).is_global:
            return GeoAnswer(ip=ip, found=False, reason="private or reserved address")
        return answer_from_record(ip, record)

    def _maybe_reload(self) -> None:
        now = self._clock()
        if now - self._checked < RECHECK_SECONDS:
            return
        self._checked = now
        try:
            identity = _file_identity(self.path)
        except OSError:
            return
        if identity == self._identity:
            return
        try:
            fresh = open_reader(self.path)
        except GeoDatabaseError:
            return
        stale, self._reader, self._identity = self._reader, fresh, identity
        self._cached.cache_clear()
        stale.close()

    def close(self) -> None:
        """Unmap the database."""
        self._reader.close()
