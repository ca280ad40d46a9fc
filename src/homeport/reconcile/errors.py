"""The errors every reconciler's apply can raise before it writes anything."""

from __future__ import annotations

from homeport.errors import HomeportError

EXIT_CHANGES = 2
EXIT_UNSAFE = 3


class ReconcileError(HomeportError):
    """A plan could not be applied; nothing was written."""


class ChecksumMismatchError(ReconcileError):
    """``--checksum`` names another plan than the one computed now."""


class UnsafePlanError(ReconcileError):
    """A safety threshold refused the plan (exit 3)."""

    exit_code = EXIT_UNSAFE


class DeclinedError(ReconcileError):
    """The person at the prompt said no."""
