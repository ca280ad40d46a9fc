"""What a backup file is, read from its first bytes, and which engines can take it."""

from __future__ import annotations

from pathlib import Path

from homeport.seed.errors import SeedError
from homeport.seed.plan import Engine

ACCEPTS: dict[Engine, tuple[str, ...]] = {
    "postgres": ("custom", "directory", "sql"),
    "redis": ("redis", "rdb"),
    "mariadb": ("sql",),
}
PG_CUSTOM_MAGIC = b"PGDMP"
RDB_MAGIC = b"REDIS"


def detect_format(path: Path, engine: Engine, declared: str = "auto") -> str:
    """The format of ``path`` for ``engine``: the declared one (checked) or what its bytes say."""
    if not path.exists():
        raise SeedError(f"seed file {path} does not exist; fix 'from:' or create the backup")
    found = _sniff(path, engine)
    chosen = found if declared == "auto" else declared
    if chosen not in ACCEPTS[engine]:
        raise SeedError(
            f"{path}: a {chosen} backup cannot be restored into {engine}; "
            f"{engine} takes {', '.join(ACCEPTS[engine])}"
        )
    if chosen == "directory" and not path.is_dir():
        raise SeedError(f"{path}: format directory needs a pg_dump -Fd directory")
    if chosen != "directory" and path.is_dir():
        raise SeedError(f"{path} is a directory; only pg_dump -Fd directories (toc.dat) restore")
    return chosen


def _sniff(path: Path, engine: Engine) -> str:
    if path.is_dir():
        if (path / "toc.dat").is_file():
            return "directory"
        raise SeedError(f"{path} is a directory without toc.dat; it is no pg_dump -Fd backup")
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(PG_CUSTOM_MAGIC):
        return "custom"
    if head.startswith(RDB_MAGIC):
        return "rdb"
    return "redis" if engine == "redis" else "sql"
