"""One example platform under `homeport up` for the dashboard's end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.dashboard import RunningPlatform, example_platform


@pytest.fixture(scope="session")
def platform() -> Iterator[RunningPlatform]:
    """The job board, booted once for these tests (~15 s) and stopped with `homeport down`."""
    with example_platform() as running:
        yield running
