"""The errors of the edge subsystem; each message says what, where and what to do.

HomeportError
└── EdgeError                  anything the edge commands refuse or fail at (exit 1)
    ├── CloudflareApiError     Cloudflare answered with an error (names the call)
    │   └── RateLimitedTooLong retry-after longer than homeport is willing to wait
    ├── PermissionMissing      the token lacks a permission (names it)
    ├── PlanLimitError         the file asks for more than the zone's plan allows
    ├── UnsafePlanError        a safety threshold refused the plan (exit 3)
    ├── ChecksumMismatch       the plan is not the one that was reviewed
    ├── TunnelMovedError       the tunnel config changed since the plan (dashboard edit)
    └── FailoverRefused        a failover pre-check failed
"""

from __future__ import annotations

from homeport.errors import HomeportError


class EdgeError(HomeportError):
    """The edge cannot be planned or changed as asked."""


class CloudflareApiError(EdgeError):
    """Cloudflare answered a call with an error; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class RateLimitedTooLong(CloudflareApiError):
    """Cloudflare asked to wait longer than homeport's limit."""


class PermissionMissing(EdgeError):
    """The API token lacks a permission the command needs."""


class PlanLimitError(EdgeError):
    """The desired state exceeds a zone plan's limits."""


class UnsafePlanError(EdgeError):
    """A safety threshold refused the plan; ``--force`` overrides."""

    exit_code = 3


class ChecksumMismatch(EdgeError):
    """The plan computed now differs from the one reviewed."""


class TunnelMovedError(EdgeError):
    """The tunnel configuration's version moved between plan and apply."""


class FailoverRefused(EdgeError):
    """A failover pre-check failed; ``--force`` overrides."""
