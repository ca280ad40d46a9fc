"""Where the targets listen: ``--target``, the orchestrator's environment, or its state file."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from homeport.endpoints import ENV_VARIABLE, STATE_FILE, service_urls
from homeport.seed.errors import SeedError


def load_endpoints(
    state_dir: Path, environ: Mapping[str, str], overrides: Sequence[str] = ()
) -> dict[str, str]:
    """Service name to URL; ``--target`` wins over $HOMEPORT_ENDPOINTS, which wins over the file."""
    found: dict[str, str] = {}
    state_file = state_dir / STATE_FILE
    if state_file.is_file():
        data = _parse(state_file.read_text(), str(state_file))
        found.update(_urls(data.get("services", {}), str(state_file)))
    if environ.get(ENV_VARIABLE):
        found.update(_urls(_parse(environ[ENV_VARIABLE], f"${ENV_VARIABLE}"), f"${ENV_VARIABLE}"))
    found.update(parse_overrides(overrides))
    return found


def parse_overrides(overrides: Sequence[str]) -> dict[str, str]:
    """``NAME=URL`` pairs as given to ``--target``."""
    out: dict[str, str] = {}
    for item in overrides:
        name, sep, url = item.partition("=")
        if not sep or not name or "://" not in url:
            raise SeedError(f"--target {item!r}: expected NAME=URL, e.g. postgres=postgresql://…")
        out[name] = url
    return out


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeedError(f"{where}: not valid JSON ({exc}); restart `homeport up`") from exc
    if not isinstance(data, dict):
        raise SeedError(f"{where}: expected a JSON object of services")
    return data


def _urls(services: Any, where: str) -> dict[str, str]:
    if not isinstance(services, dict):
        raise SeedError(f"{where}: expected a JSON object of services")
    return service_urls(services, default_scheme="tcp")
