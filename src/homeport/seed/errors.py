"""Errors of the seed step; each names the target and what to do."""

from __future__ import annotations

from homeport.errors import HomeportError


class SeedError(HomeportError):
    """A seed could not be planned or restored; the message carries the engine's own words."""


class SeedCancelled(SeedError):
    """Seeding stopped because homeport was asked to stop (SIGTERM or Ctrl-C)."""
