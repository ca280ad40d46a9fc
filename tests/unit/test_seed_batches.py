"""Commands files cut into batches: verbatim blocks, line-by-line blocks, origins and bytes."""

from __future__ import annotations

import io

import pytest

from homeport.seed.batches import BLOCK_BYTES, resp_batches, text_batches, verbatim_batch
from homeport.seed.errors import SeedError
from homeport.seed.resp import encode_command, iter_text_commands


def batches_of(text: bytes) -> list[tuple[bytes, list[int], int]]:
    return [(b.data, list(b.origins), b.consumed) for b in text_batches(io.BytesIO(text), "f")]


def test_plain_lines_go_out_byte_for_byte_with_their_line_numbers() -> None:
    text = b'SET a 1\n  HSET h name "Harbor Works" x ""\t\nINCR n\n'

    assert batches_of(text) == [(text, [1, 2, 3], len(text))]


@pytest.mark.parametrize(
    "line",
    [
        b"# a comment\n",
        b"\n",
        b"SET k don't\n",
        b'SET k a"b"\n',
        b'SET k "a\\x21"\n',
        b"SET k v\r\n",
        "SET k caf\u00e9\n".encode(),
        b"SET k " + b"v" * 40_000 + b"\n",
    ],
)
def test_a_block_with_any_line_redis_could_read_otherwise_is_read_line_by_line(
    line: bytes,
) -> None:
    text = b"SET a 1\n" + line + b"SET b 2\n"

    assert verbatim_batch(text, 1) is None
    ((data, origins, consumed),) = batches_of(text)
    lines = [part + "\n" for part in text.decode().split("\n")[:-1]]
    expected = [(c, n) for n, (c, _) in enumerate(iter_text_commands(lines, "f"), 1) if c]
    assert data == b"".join(c for c, _ in expected)
    assert origins == [n for _, n in expected]
    assert consumed == len(text)


def test_blocks_are_cut_at_line_ends_and_count_lines_across_blocks() -> None:
    line = b'SET key:0000000 "some value"\n'
    text = line * (2 * BLOCK_BYTES // len(line) + 10) + b"SET last 1"

    batches = list(text_batches(io.BytesIO(text), "f"))

    assert len(batches) >= 3
    assert all(b.data.endswith((b"\n", b"\r\n")) for b in batches)
    assert sum(b.consumed for b in batches) == len(text)
    origins = [n for b in batches for n in b.origins]
    assert origins == list(range(1, text.count(b"\n") + 2))
    assert batches[-1].data == b"SET last 1\r\n"  # no newline at the end: sent with one


def test_broken_quoting_names_the_line_in_a_later_block() -> None:
    line = b"SET a 1\n"
    count = BLOCK_BYTES // len(line) + 5
    text = line * count + b'SET b "open\n'

    with pytest.raises(SeedError, match=rf"^f:{count + 1}: cannot read this command"):
        list(text_batches(io.BytesIO(text), "f"))


def test_a_quote_closed_inside_a_word_is_never_sent_verbatim() -> None:
    assert verbatim_batch(b'SET k "a"b\n', 1) is None
    with pytest.raises(SeedError, match=r"^f:1: cannot read this command: a closing quote"):
        list(text_batches(io.BytesIO(b'SET k "a"b\n'), "f"))


def test_text_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(SeedError, match="not UTF-8 text"):
        list(text_batches(io.BytesIO(b"SET a \xff\n"), "f"))


def test_resp_file_batches_number_commands() -> None:
    one, two = encode_command(["SET", "a", "1"]), encode_command(["INCR", "n"])

    ((batch),) = list(resp_batches(one + b"\r\n" + two, "f"))

    assert (batch.data, list(batch.origins)) == (one + two, [1, 2])
