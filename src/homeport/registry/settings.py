"""Where the registry is and how it is kept, from the platform file or from command-line flags.

Every ``homeport registry`` command works with ``-f homeport.yaml`` (its ``registry:`` section)
or without any platform file, given ``--url`` (and ``--config``/``--storage`` where it needs the
registry's files); a flag overrides the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from homeport.model.platform import Registry, Retention, RetentionGroup
from homeport.registry.disk import storage_from_config
from homeport.registry.errors import RegistryError


@dataclass(frozen=True)
class RetentionFlags:
    """Retention overrides from the command line (None: keep the file's value)."""

    keep_last: int | None = None
    groups: tuple[str, ...] = ()
    grace: float | None = None
    moving: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegistrySettings:
    """Everything the commands need about one registry."""

    url: str
    storage: Path | None
    config: Path | None
    retention: Retention
    delete_untagged: bool
    disk_alert: float
    restart: str | None
    mirror: str | None
    mirror_upstreams: dict[str, str] = field(default_factory=dict)


def resolve(
    registry: Registry | None,
    root: Path | None,
    *,
    url: str | None = None,
    storage: Path | None = None,
    config: Path | None = None,
    restart: str | None = None,
    retention: RetentionFlags | None = None,
    mirror_upstreams: dict[str, str] | None = None,
) -> RegistrySettings:
    """Merge the platform file's ``registry:`` section (if any) with the flags."""
    base = root or Path.cwd()
    chosen_url = url or (registry.url if registry else None)
    if not chosen_url:
        raise RegistryError(
            "no registry to talk to: give -f FILE (with a registry: section) or --url URL"
        )
    config_path = config or _path(base, registry.config if registry else None)
    storage_path = storage or _path(base, registry.storage if registry else None)
    if storage_path is None and config_path is not None:
        storage_path = storage_from_config(config_path)
    return RegistrySettings(
        url=chosen_url.rstrip("/"),
        storage=storage_path,
        config=config_path,
        retention=_retention(registry.retention if registry else Retention(), retention),
        delete_untagged=bool(registry and registry.gc and registry.gc.delete_untagged),
        disk_alert=registry.disk_alert if registry else 85.0,
        restart=restart or (registry.restart if registry else None),
        mirror=registry.mirror if registry else None,
        mirror_upstreams=mirror_upstreams or {},
    )


def _path(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _retention(current: Retention, flags: RetentionFlags | None) -> Retention:
    if flags is None:
        return current
    update: dict[str, object] = {}
    if flags.keep_last is not None:
        update["keep_last"] = flags.keep_last
    if flags.groups:
        update["groups"] = [_group(text) for text in flags.groups]
    if flags.grace is not None:
        update["grace"] = flags.grace
    if flags.moving:
        update["moving_tags"] = list(flags.moving)
    return current.model_copy(update=update)


def _group(text: str) -> RetentionGroup:
    """``dev``, ``dev:5``, ``dev=^dev-``, ``dev=^dev-:5`` -> a group (name, pattern, keep_last)."""
    keep: int | None = None
    match = re.fullmatch(r"(.*):(\d+)", text)
    if match:
        text, keep = match.group(1), int(match.group(2))
    name, _, pattern = text.partition("=")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise RegistryError(
            f"--group {text}: '{pattern}' is not a regular expression ({exc})"
        ) from None
    return RetentionGroup(name=name, pattern=pattern or None, keep_last=keep)
