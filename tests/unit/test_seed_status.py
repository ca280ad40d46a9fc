"""The status board and the health response it produces."""

from __future__ import annotations

import pytest

from homeport.seed import StatusBoard, parse_address
from homeport.seed.errors import SeedError
from homeport.seed.health import health_response
from homeport.seed.marker import Marker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_health_is_503_until_every_target_is_done_or_up_to_date() -> None:
    clock = Clock()
    board = StatusBoard(["pg", "cache"], clock=clock)
    assert health_response(board)[0] == 503

    board.update("pg", state="seeding", message="restoring")
    clock.now = 102.5
    board.update("pg", state="done", message="restored")
    status, body = health_response(board)
    assert (status, body["status"]) == (503, "seeding")
    assert body["targets"]["pg"]["elapsed"] == 2.5

    board.update("cache", state="skipped", message="nothing to do")
    assert health_response(board) == (200, board.report())
    assert board.report()["status"] == "ready"


def test_one_failure_makes_the_whole_run_failed_once_all_finished() -> None:
    board = StatusBoard(["a", "b"])
    board.update("a", state="failed", message="pg_restore: error: boom")
    assert board.overall() == "seeding"

    board.update("b", state="done")

    status, body = health_response(board)
    assert (status, body["status"]) == (503, "failed")
    assert body["targets"]["a"]["message"] == "pg_restore: error: boom"


def test_progress_counts_units_and_keeps_warnings() -> None:
    board = StatusBoard(["a"])
    board.update("a", total=10, unit="items", done=0)
    board.advance("a", 3)
    board.advance("a", 4)
    board.warn("a", "appendonly")

    (status,) = board.snapshot()
    assert (status.done, status.total, status.unit, status.warnings) == (
        7,
        10,
        "items",
        ["appendonly"],
    )


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        (":9000", ("127.0.0.1", 9000)),
        ("[::1]:80", ("::1", 80)),
    ],
)
def test_parse_address(text: str, address: tuple[str, int]) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["8080", "host:", "host:http", "h:70000"])
def test_parse_address_refuses_what_is_not_host_port(text: str) -> None:
    with pytest.raises(SeedError, match="expected HOST:PORT"):
        parse_address(text)


def test_marker_round_trips_through_its_redis_encoding() -> None:
    marker = Marker("ab" * 32, "redis/1")

    assert Marker.decode(marker.encode()) == marker
    assert Marker.decode(None) is None
    assert Marker.decode("garbage") is None
    assert marker.short == "abababababab"
