"""The errors of ``homeport registry``.

HomeportError
└── RegistryError              anything registry-related a user must act on
    ├── RegistryHttpError      the registry answered with an unexpected status
    ├── RegistryUnreachable    no answer at all (connection refused, TLS, timeout)
    ├── GcError                the collector failed or refused to run; writes are restored
    └── VerificationError      after gc, kept images are missing blobs (lists the digests)
"""

from __future__ import annotations

from homeport.errors import HomeportError


class RegistryError(HomeportError):
    """A registry operation failed; the message says what, where and what to do."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RegistryHttpError(RegistryError):
    """The registry answered ``status`` where homeport expected success."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RegistryUnreachable(RegistryError):
    """The registry did not answer at all."""


class GcError(RegistryError):
    """Garbage collection failed or was refused before deleting anything unsafe."""


class VerificationError(RegistryError):
    """Kept images are no longer complete after gc: ``missing`` names every missing digest."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        listed = "\n".join(f"  missing: {item}" for item in missing)
        super().__init__(
            f"gc verification FAILED: {len(missing)} manifests or blobs of kept tags are no longer "
            f"served; restore the registry's storage from backup and re-push these images:\n"
            f"{listed}"
        )
