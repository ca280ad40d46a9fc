"""The platform file: models, loader, interpolation, cross-reference checks.

``load_platform`` is the one way every command reads ``homeport.yaml``; nothing else parses YAML.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeport.errors import ConfigError
from homeport.model.edge import DnsRecord, Edge, IngressRule, WafRule, Zone
from homeport.model.loader import LoadedFile, Mark, SourceMap, load_file, load_text
from homeport.model.platform import Gateway, Host, Platform, Registry, Route
from homeport.model.references import check_references, find_cycle
from homeport.model.services import Probe, Seed, Service
from homeport.model.validate import validate

__all__ = [
    "DnsRecord",
    "Edge",
    "Gateway",
    "Host",
    "IngressRule",
    "LoadedPlatform",
    "Mark",
    "Platform",
    "Probe",
    "Registry",
    "Route",
    "Seed",
    "Service",
    "SourceMap",
    "WafRule",
    "Zone",
    "find_cycle",
    "load_platform",
    "load_platform_text",
]


@dataclass
class LoadedPlatform:
    """A valid platform, the file it came from, and where each value stands in it."""

    path: Path
    platform: Platform
    source: SourceMap
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    """The file as plain data (interpolated), keyed like ``source``: for checks of raw text."""

    @property
    def root(self) -> Path:
        """The directory of the platform file; relative paths in the file start here."""
        return self.path.resolve().parent

    @property
    def state_dir(self) -> Path:
        """Where homeport keeps state for this platform: ``.homeport/`` beside the file."""
        return self.root / ".homeport"


def load_platform(
    given: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None
) -> LoadedPlatform:
    """Load, validate and cross-check a platform file; raise ConfigError listing every problem."""
    return _finish(load_file(given, env))


def load_platform_text(
    text: str, filename: str = "homeport.yaml", env: dict[str, str] | None = None
) -> LoadedPlatform:
    """The same as load_platform, from text (for tests and tools)."""
    return _finish(load_text(text, filename, env=env))


def _finish(loaded: LoadedFile) -> LoadedPlatform:
    platform, problems = validate(loaded.data, loaded.source)
    problems = [*loaded.problems, *problems]
    if platform is not None:
        problems.extend(check_references(platform, loaded.source))
    if problems or platform is None:
        raise ConfigError(problems)
    return LoadedPlatform(loaded.path, platform, loaded.source, loaded.data)
