"""The gateway's IPv4 geo index: every IPv4 network of a City database with its five fields.

``maxminddb``'s C extension answers a lookup by walking the tree and decoding the whole City
record (names in eight languages, continent, registered country...): about 10 µs, and more on
pages not touched yet. The gateway needs five fields. The index holds, for each of the ~2.2
million IPv4 networks of GeoLite2 City, its first address and a row number, and for each of the
~450,000 distinct records one row of columns (country code and name, region, city, latitude,
longitude). A lookup is one ``bisect`` narrowed by a /16 table, then six array reads: no
decoding at all. In memory it takes about 30 MB.

Building it takes several seconds of CPU (the tree is flattened with numpy, each record is decoded
once), so it is built once per database version by ``python -m homeport.gateway.geo_index`` in a
low-priority child process and kept as one file in the cache directory; a gateway loads that file
in a few milliseconds. ``homeport gateway geo-update`` builds it before replacing the database.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from array import array
from bisect import bisect_right
from pathlib import Path
from typing import Any

from homeport.gateway.errors import GeoDatabaseError

FORMAT = 1
MAGIC = b"homeport-geo-index\n"
NO_ROW = 0xFFFFFFFF  # a network with no data
BLOCK_BITS = 16
IPV4_BITS = 32
NICENESS = 10


def cache_directory() -> Path:
    """``$XDG_CACHE_HOME/homeport/geo`` (``~/.cache/homeport/geo``)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "homeport" / "geo"


def index_key(reader_metadata: Any, size: int) -> str:
    """What names one database version: its type, build time, tree size and file size."""
    kind = "".join(ch if ch.isalnum() else "-" for ch in reader_metadata.database_type)
    return f"{kind}-{reader_metadata.build_epoch}-{reader_metadata.node_count}-{size}"


def index_path(directory: Path, key: str) -> Path:
    """Where the index of the database version ``key`` is kept."""
    return directory / f"{key}.v{FORMAT}.idx"


class GeoIndex:
    """IPv4 networks (sorted starts and a row each) and one row of fields per distinct record."""

    def __init__(self, key: str, columns: dict[str, array[Any]], strings: list[str | None]) -> None:
        self.key = key
        self.starts = columns["starts"]
        self.rows = columns["rows"]
        self.blocks = columns["blocks"]
        self._country = columns["country"]
        self._country_name = columns["country_name"]
        self._region = columns["region"]
        self._city = columns["city"]
        self._latitude = columns["latitude"]
        self._longitude = columns["longitude"]
        # a tuple of str is not tracked by Python's cycle collector: collections while the
        # gateway serves never walk the index's 130,000 names (measured: 1.5x faster lookups)
        self._strings = tuple(strings)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def records(self) -> int:
        """How many distinct records the index holds."""
        return len(self._city)

    def row(self, address: int) -> int:
        """The row of the 32-bit ``address``, or ``NO_ROW`` when the database has nothing on it."""
        block = address >> (IPV4_BITS - BLOCK_BITS)
        blocks = self.blocks
        row: int = self.rows[
            bisect_right(self.starts, address, blocks[block], blocks[block + 1]) - 1
        ]
        return row

    def fields(self, row: int) -> tuple[Any, ...]:
        """Country code and name, region, city, latitude and longitude of ``row``."""
        strings = self._strings
        latitude = self._latitude[row]
        longitude = self._longitude[row]
        return (
            strings[self._country[row]],
            strings[self._country_name[row]],
            strings[self._region[row]],
            strings[self._city[row]],
            None if math.isnan(latitude) else latitude,
            None if math.isnan(longitude) else longitude,
        )


COLUMNS = {  # name: array type code (I: 32-bit unsigned, d: double)
    "starts": "I",
    "rows": "I",
    "blocks": "I",
    "country": "I",
    "country_name": "I",
    "region": "I",
    "city": "I",
    "latitude": "d",
    "longitude": "d",
}


def build(database: Path) -> tuple[str, dict[str, array[Any]], list[str | None]]:
    """Flatten ``database``'s IPv4 tree and decode each of its records once."""
    import maxminddb  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415 (only the builder needs numpy)

    from homeport.gateway.geo import answer_from_record, open_reader  # noqa: PLC0415
    from homeport.gateway.geo_table import flatten_ipv4  # noqa: PLC0415

    reader: maxminddb.Reader = open_reader(database)
    metadata = reader.metadata()
    key = index_key(metadata, database.stat().st_size)
    starts, pointers = flatten_ipv4(
        database, metadata.node_count, metadata.record_size, metadata.ip_version
    )
    _, first, rows = np.unique(pointers, return_index=True, return_inverse=True)
    strings: list[str | None] = [None]
    interned: dict[str | None, int] = {None: 0}

    def number(text: str | None) -> int:
        found = interned.get(text)
        if found is None:
            found = interned[text] = len(strings)
            strings.append(text)
        return found

    record_columns: dict[str, array[Any]] = {name: array(COLUMNS[name]) for name in COLUMNS}
    without_data: list[int] = []  # rows the C extension answers itself (no record, odd record)
    for row, index in enumerate(first.tolist()):
        address = ".".join(str(part) for part in int(starts[index]).to_bytes(4, "big"))
        answer = answer_from_record(address, reader.get(address))
        if not answer.found:
            without_data.append(row)
        record_columns["country"].append(number(answer.country))
        record_columns["country_name"].append(number(answer.country_name))
        record_columns["region"].append(number(answer.region))
        record_columns["city"].append(number(answer.city))
        record_columns["latitude"].append(math.nan if answer.latitude is None else answer.latitude)
        record_columns["longitude"].append(
            math.nan if answer.longitude is None else answer.longitude
        )
    reader.close()
    rows = rows.astype(np.uint32)
    rows[np.isin(rows, np.array(without_data, dtype=np.uint32))] = NO_ROW
    block_starts = np.arange(1 << BLOCK_BITS, dtype=np.uint32) << np.uint32(IPV4_BITS - BLOCK_BITS)
    # blocks[b]: how many networks start at or before the first address of /16 number b
    blocks = np.append(np.searchsorted(starts, block_starts, side="right"), len(starts))
    for name, values in (("starts", starts), ("rows", rows), ("blocks", blocks)):
        record_columns[name].frombytes(np.ascontiguousarray(values, dtype=np.uint32).tobytes())
    return key, record_columns, strings


def write(path: Path, key: str, columns: dict[str, array[Any]], strings: list[str | None]) -> None:
    """Write the index atomically: a header line, the strings, then each column's bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "format": FORMAT,
        "key": key,
        "byteorder": sys.byteorder,
        "columns": [[name, COLUMNS[name], len(columns[name])] for name in COLUMNS],
        "strings": strings,
    }
    handle, temporary = tempfile.mkstemp(prefix=".geo-index-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(MAGIC)
            out.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")
            for name in COLUMNS:
                columns[name].tofile(out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path, key: str) -> GeoIndex | None:
    """The index at ``path`` if it is complete and made from database version ``key``."""
    try:
        with path.open("rb") as source:
            if source.readline() != MAGIC:
                return None
            header = json.loads(source.readline())
            if (header.get("format"), header.get("key")) != (FORMAT, key):
                return None
            if header.get("byteorder") != sys.byteorder:
                return None
            columns: dict[str, array[Any]] = {}
            for name, code, length in header["columns"]:
                column = array(code)
                column.fromfile(source, length)
                columns[name] = column
            if source.read(1):
                return None
    except (OSError, EOFError, ValueError, KeyError, TypeError):
        return None
    if set(columns) != set(COLUMNS):
        return None
    return GeoIndex(key, columns, header["strings"])


def build_command(database: Path, directory: Path) -> list[str]:
    """The command line of the child process that builds and writes the index of ``database``."""
    return [sys.executable, "-m", "homeport.gateway.geo_index", str(database), str(directory)]


def main(argv: list[str]) -> int:
    """``python -m homeport.gateway.geo_index DATABASE DIRECTORY``: build, write, print the path."""
    if len(argv) != 2:
        print("usage: python -m homeport.gateway.geo_index DATABASE DIRECTORY", file=sys.stderr)
        return 2
    os.nice(NICENESS)  # a background job: the gateway serving beside it comes first
    database, directory = Path(argv[0]), Path(argv[1])
    try:
        key, columns, strings = build(database)
        target = index_path(directory, key)
        write(target, key, columns, strings)
    except (GeoDatabaseError, OSError, ValueError) as exc:
        print(f"geo index of {database} not built: {exc}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
