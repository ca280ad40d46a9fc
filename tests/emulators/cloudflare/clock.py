"""Identifiers and timestamps shaped like Cloudflare's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def new_id() -> str:
    """A 32-hex identifier, the shape of zone, record, ruleset and account ids."""
    return uuid.uuid4().hex


def new_uuid() -> str:
    """A dashed UUID, the shape of tunnel, connection and Pages ids."""
    return str(uuid.uuid4())


def timestamp() -> str:
    """Now, as the API prints it (RFC 3339 with microseconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
