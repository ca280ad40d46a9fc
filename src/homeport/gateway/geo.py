"""Geo lookups from a MaxMind City database, opened with maxminddb's C extension.

The database is memory-mapped. IPv4 lookups go through its index (``geo_index``: every IPv4
network with its five fields, one bisect and no decoding) as soon as it is loaded or built; IPv6
addresses, addresses without data, and every address until then, go through the C extension,
with a cache for repeat visitors (the index needs none: it costs the same for every address).
``GeoDatabase`` checks the file's identity
(inode, size, mtime) at most once per second and reopens it when ``homeport gateway geo-update``
has replaced it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import ip_address
from pathlib import Path
from typing import Any, NamedTuple

import maxminddb
from _maxminddb_geolite2 import geolite2_database  # type: ignore[import-untyped]

from homeport.gateway import geo_index
from homeport.gateway.errors import GeoDatabaseError
from homeport.gateway.geo_index import NO_ROW, GeoIndex

_AF_INET = socket.AF_INET
_inet_pton = socket.inet_pton
_from_bytes = int.from_bytes

CACHE_SIZE = 65536
RECHECK_SECONDS = 1.0
STATE_NAME = "GeoLite2-City.mmdb"


class GeoAnswer(NamedTuple):
    """What /api/public/geo says about one address; ``found`` is False for private or unknown.

    A named tuple rather than a frozen dataclass: it is made once per lookup, and building one
    costs a fifth as much.
    """

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
        return self._asdict()


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


def install_database(source: Path, target: Path, index_dir: Path | None = None) -> str:
    """Check ``source`` is a City database and atomically replace ``target`` with a copy of it.

    With ``index_dir``, first build the database's IPv4 index there (several seconds for
    GeoLite2 City), so that running gateways switch to the new database with its index ready.
    Returns the database's type and build date. A running gateway notices within a second.
    """
    reader = open_reader(source)
    metadata = reader.metadata()
    reader.close()
    indexed = ""
    if index_dir is not None:
        key, columns, strings = geo_index.build(source)
        geo_index.write(geo_index.index_path(index_dir, key), key, columns, strings)
        indexed = (
            f" (IPv4 index: {len(columns['starts']):,} networks, {len(columns['city']):,} records)"
        )
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
    return f"{metadata.database_type} built {built}{indexed}"


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


@dataclass
class _Opened:
    """One opened version of the file: its reader and, once built or loaded, its IPv4 index."""

    reader: maxminddb.Reader
    identity: tuple[int, int, int]
    key: str
    index: GeoIndex | None = None
    indexed: threading.Event = field(default_factory=threading.Event)
    index_error: str | None = None
    builder: subprocess.Popen[str] | None = None


_new_tuple = tuple.__new__  # a GeoAnswer from a tuple, without re-checking the arguments


class GeoDatabase:
    """A City database that follows atomic replacements of its file.

    IPv4 lookups use the database's index (``geo_index``) as soon as it is there: loaded from
    ``index_dir`` when a gateway has built it before, otherwise built by a low-priority child
    process while the C extension answers.
    """

    def __init__(
        self,
        path: Path,
        clock: Callable[[], float] = time.monotonic,
        *,
        index_dir: Path | None = None,
        use_index: bool = True,
    ) -> None:
        self.path = path
        self._clock = clock
        self._index_dir = index_dir or geo_index.cache_directory()
        self._use_index = use_index
        self._opened = self._open(path)
        self._checked = clock()
        self._cached = lru_cache(maxsize=CACHE_SIZE)(self._lookup_uncached)

    @property
    def description(self) -> str:
        """The database's type and build date, for logs and /healthz."""
        self._maybe_reload()
        metadata = self._opened.reader.metadata()
        built = time.strftime("%Y-%m-%d", time.gmtime(metadata.build_epoch))
        return f"{metadata.database_type} built {built}"

    def wait_indexed(self, timeout: float) -> bool:
        """Wait until IPv4 lookups go through the index; False when it is not there (yet)."""
        opened = self._opened
        opened.indexed.wait(timeout)
        return opened.index is not None

    @property
    def index_error(self) -> str | None:
        """Why the IPv4 index could not be built (lookups then all use the C extension)."""
        return self._opened.index_error

    @property
    def index_status(self) -> str:
        """For /healthz: whether IPv4 lookups go through the index, and if not, why not."""
        opened = self._opened
        if opened.index is not None:
            return f"ready: {len(opened.index):,} IPv4 networks"
        if not self._use_index:
            return "off"
        if opened.index_error is not None:
            return f"unavailable ({opened.index_error}); lookups use the C extension"
        return "building; lookups use the C extension meanwhile"

    def lookup(self, ip: str) -> GeoAnswer:
        """Country, region, city and coordinates of ``ip``; a clear empty answer when unknown."""
        self._maybe_reload()
        index = self._opened.index
        if index is not None:  # an IPv4 address with data: the index, no cache needed
            try:
                address = _from_bytes(_inet_pton(_AF_INET, ip), "big")
            except (OSError, ValueError):
                pass  # IPv6, or not an address: the C extension answers (or says why not)
            else:
                row = index.row(address)
                if row != NO_ROW:
                    return _new_tuple(GeoAnswer, (ip, True, *index.fields(row), None))
        return self._cached(ip)  # IPv6, addresses without data, and all until the index is in

    def _open(self, path: Path, identity: tuple[int, int, int] | None = None) -> _Opened:
        reader = open_reader(path)
        identity = identity or _file_identity(path)
        opened = _Opened(reader, identity, geo_index.index_key(reader.metadata(), identity[1]))
        if self._use_index:
            opened.index = geo_index.load(
                geo_index.index_path(self._index_dir, opened.key), opened.key
            )
        if opened.index is not None or not self._use_index:
            opened.indexed.set()
            return opened
        try:
            opened.builder = subprocess.Popen(
                geo_index.build_command(path, self._index_dir),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        except OSError as exc:
            opened.index_error = f"could not start the index builder: {exc}"
            opened.indexed.set()
            return opened
        threading.Thread(
            target=self._collect, args=(opened,), name="geo-index", daemon=True
        ).start()
        return opened

    def _collect(self, opened: _Opened) -> None:
        """Wait for the builder child, then load what it wrote (in a background thread)."""
        builder = opened.builder
        assert builder is not None
        _, errors = builder.communicate()
        if builder.returncode == 0:
            opened.index = geo_index.load(
                geo_index.index_path(self._index_dir, opened.key), opened.key
            )
            if opened.index is None:
                opened.index_error = "the index builder wrote no usable index"
        else:
            opened.index_error = errors.strip() or f"the index builder exited {builder.returncode}"
        opened.indexed.set()

    def _lookup_uncached(self, ip: str) -> GeoAnswer:
        return self._read(self._opened.reader, ip)

    @staticmethod
    def _read(reader: maxminddb.Reader, ip: str) -> GeoAnswer:
        try:
            record = reader.get(ip)
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
        if identity == self._opened.identity:
            return
        try:
            fresh = self._open(self.path, identity)
        except GeoDatabaseError:
            return
        stale, self._opened = self._opened, fresh
        self._cached.cache_clear()
        _stop_builder(stale)
        stale.reader.close()

    @property
    def _identity(self) -> tuple[int, int, int]:
        return self._opened.identity

    def close(self) -> None:
        """Unmap the database and stop an index build still running."""
        _stop_builder(self._opened)
        self._opened.reader.close()


def _stop_builder(opened: _Opened) -> None:
    builder = opened.builder
    if builder is not None and builder.poll() is None:
        builder.terminate()
        try:
            builder.wait(5)
        except subprocess.TimeoutExpired:
            builder.kill()
