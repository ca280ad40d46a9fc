"""Fixtures shared by the integration modules that ask for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.gateway import Upstreams, start_upstreams


@pytest.fixture(scope="module")
def upstreams() -> Iterator[Upstreams]:
    """The gateway tests' upstream services (tests/support/gateway_upstream.py), per module."""
    servers = start_upstreams()
    yield servers
    servers.stop()
