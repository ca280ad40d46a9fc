"""The exceptions homeport raises on purpose.

    HomeportError                 root: every error carries a message a user can act on
    ├── ConfigError               the platform file is wrong; carries one Problem per mistake
    └── (subsystems add theirs:   EdgeError, RegistryError, OrchestratorError, SeedError, ...)

The CLI prints ``str(error)`` on one line per problem and exits 1; it never shows a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class HomeportError(Exception):
    """An error a user can act on: what went wrong, where, and what to do."""

    exit_code: int = 1


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a platform file, at a line and column (1-based)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ConfigError(HomeportError):
    """The platform file cannot be used; ``problems`` lists every mistake found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
