"""The doctor: one small pure function per known foot-gun, run by ``homeport check``.

A check takes a LoadedPlatform and yields Findings. Register it with ``@check("id")`` in a module
of this package that ``CHECK_MODULES`` names; ``diagnose`` runs them all and sorts the findings.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from homeport.model import LoadedPlatform
from homeport.model.loader import paused_gc

Severity = Literal["error", "warning"]
CheckFunction = Callable[[LoadedPlatform], Iterable["Finding"]]
CHECK_MODULES: tuple[str, ...] = (
    "ingress",
    "dns",
    "cors",
    "images",
    "registry",
    "registry_mirror",
    "secrets",
    "localdns",
    "waf",
)
_CHECKS: dict[str, CheckFunction] = {}


@dataclass(frozen=True, order=True)
class Finding:
    """One foot-gun found: where, how bad, what is wrong and how to fix it."""

    file: str
    line: int
    column: int
    severity: Severity
    id: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.severity} [{self.id}] {self.message}; {self.fix}"

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data."""
        return asdict(self)


def finding(
    loaded: LoadedPlatform,
    path: tuple[str | int, ...],
    *,
    severity: Severity,
    check_id: str,
    message: str,
    fix: str,
    key: bool = False,
) -> Finding:
    """A Finding located at ``path`` of the platform file."""
    mark = loaded.source.locate(path, key=key)
    return Finding(loaded.source.file, mark.line, mark.column, severity, check_id, message, fix)


def check(check_id: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a doctor check under ``check_id``."""

    def register(function: CheckFunction) -> CheckFunction:
        _CHECKS[check_id] = function
        return function

    return register


def registered_checks() -> dict[str, CheckFunction]:
    """Every registered check, by id."""
    for module in CHECK_MODULES:
        importlib.import_module(f"homeport.doctor.{module}")
    return dict(_CHECKS)


def diagnose(loaded: LoadedPlatform) -> list[Finding]:
    """Every finding of every check, sorted by place in the file."""
    found: list[Finding] = []
    with paused_gc():
        for function in registered_checks().values():
            found.extend(function(loaded))
    return sorted(set(found), key=lambda f: (f.line, f.column, f.id, f.message))
