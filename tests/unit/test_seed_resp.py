"""Commands files and replies: redis-cli quoting, RESP framing, replies split across reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeport.seed.errors import SeedError
from homeport.seed.resp import (
    ReplyReader,
    encode_command,
    is_raw_resp,
    iter_resp_commands,
    iter_text_commands,
    split_args,
)

EXAMPLE_CACHE = Path(__file__).resolve().parents[2] / "examples/jobboard/seeds/cache.redis"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("SET a b", [b"SET", b"a", b"b"]),
        ("  SET   a\tb  \n", [b"SET", b"a", b"b"]),
        ('SET name "Harbor Works"', [b"SET", b"name", b"Harbor Works"]),
        (r'SET q "say \"hi\" \\ done"', [b"SET", b"q", b'say "hi" \\ done']),
        (r'SET bin "\x00\xff\n\t"', [b"SET", b"bin", b"\x00\xff\n\t"]),
        (r"SET s 'it\'s \n raw'", [b"SET", b"s", b"it's \\n raw"]),
        ('SET empty ""', [b"SET", b"empty", b""]),
        ("SET café ☕", [b"SET", "café".encode(), "☕".encode()]),
        ("", []),
    ],
)
def test_split_args_unquotes_as_redis_cli_does(line: str, expected: list[bytes]) -> None:
    assert split_args(line) == expected


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('SET a "open', "unbalanced quotes"),
        ("SET a 'open", "unbalanced quotes"),
        ('SET a "b"c', "a closing quote must be followed by a space"),
    ],
)
def test_split_args_refuses_broken_quoting(line: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        split_args(line)


def test_text_commands_skip_comments_and_count_every_byte() -> None:
    lines = ["# header\n", "\n", "SET a 1\n", "  # indented comment\n", 'SET b "x y"']

    commands = list(iter_text_commands(lines, "f.redis"))

    assert [c for c, _ in commands if c] == [b"SET a 1\r\n", b'SET b "x y"\r\n']
    assert sum(used for _, used in commands) == sum(len(line) for line in lines)


@pytest.mark.parametrize(
    "line",
    ["SET k don't\n", 'SET k a"b"\n', "SET k " + "v" * 40_000 + "\n"],
)
def test_lines_redis_would_split_differently_or_refuse_go_out_as_resp(line: str) -> None:
    ((command, _),) = iter_text_commands([line], "f.redis")

    assert command.startswith(b"*")
    assert command == encode_command(split_args(line))


def test_text_command_error_names_file_and_line() -> None:
    with pytest.raises(SeedError, match=r"^f.redis:2: cannot read this command: unbalanced"):
        list(iter_text_commands(["SET a 1\n", 'SET b "x\n'], "f.redis"))


def test_encode_command_is_resp_array_of_bulk_strings() -> None:
    assert (
        encode_command(["SET", b"k", "v\r\n"]) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n"
    )


def test_resp_file_is_split_into_commands_and_checked() -> None:
    one = encode_command(["SET", "a", "1"])
    two = encode_command(["INCR", "n"])

    assert list(iter_resp_commands(one + b"\r\n" + two, "f")) == [one, two]
    assert is_raw_resp(b"\n*3\r\n")
    assert not is_raw_resp(b"SET a 1")
    with pytest.raises(SeedError, match="bulk string is not 5 bytes long"):
        list(iter_resp_commands(b"*1\r\n$5\r\nabc\r\n", "f"))
    with pytest.raises(SeedError, match="expected '\\*'"):
        list(iter_resp_commands(b"SET a 1\r\n", "f"))
    with pytest.raises(SeedError, match="ends inside a command"):
        list(iter_resp_commands(b"*1\r\n$3", "f"))


def test_reply_reader_handles_every_kind_split_anywhere() -> None:
    stream = b"+OK\r\n:5\r\n$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\na\r\n-ERR inner\r\n-WRONGTYPE no\r\n"
    for cut in range(len(stream)):
        reader = ReplyReader()
        replies = reader.feed(stream[:cut]) + reader.feed(stream[cut:])
        assert [r.error for r in replies] == [None, None, None, None, "ERR inner", "WRONGTYPE no"]


def test_example_cache_file_parses_entirely() -> None:
    if not EXAMPLE_CACHE.exists():
        pytest.skip("the example's seeds/cache.redis is not written yet")
    with EXAMPLE_CACHE.open(encoding="utf-8") as handle:
        commands = [c for c, _ in iter_text_commands(handle, str(EXAMPLE_CACHE)) if c]
    assert len(commands) > 100
    assert all(c.endswith(b"\r\n") for c in commands)
