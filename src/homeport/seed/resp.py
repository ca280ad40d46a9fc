"""The Redis protocol (RESP2) for seeding: commands files in, encoded commands out, replies read.

A commands file is either one command per line, quoted as redis-cli quotes it (bare words;
double quotes with backslash escapes, including a hex byte; single quotes), where lines starting
with a hash and blank lines are skipped; or raw RESP (the file starts with an array), as
``redis-cli --pipe`` reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from homeport.seed.errors import SeedError

CRLF = b"\r\n"


def encode_command(args: Iterable[str | bytes]) -> bytes:
    """One command as a RESP array of bulk strings."""
    parts = [a.encode() if isinstance(a, str) else a for a in args]
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def is_raw_resp(head: bytes) -> bool:
    """True when a commands file is already RESP (its first byte starts an array)."""
    return head.lstrip()[:1] == b"*"


def iter_text_commands(lines: Iterable[str], source: str) -> Iterator[tuple[bytes, int]]:
    """Encoded commands of a one-command-per-line file, each with the input bytes it consumed.

    Comment and blank lines yield an empty command, so that every line is counted.
    """
    for number, line in enumerate(lines, start=1):
        consumed = len(line.encode())
        if line.lstrip().startswith("#"):
            yield b"", consumed
            continue
        try:
            args = split_args(line)
        except ValueError as exc:
            raise SeedError(f"{source}:{number}: cannot read this command: {exc}") from exc
        yield (encode_command(args) if args else b""), consumed


_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "b": b"\b", "a": b"\a"}
_HEX = frozenset("0123456789abcdefABCDEF")


def split_args(line: str) -> list[bytes]:
    """The arguments of one line, split and unquoted as redis-cli does."""
    args: list[bytes] = []
    pos, size = 0, len(line)
    while True:
        while pos < size and line[pos].isspace():
            pos += 1
        if pos >= size:
            return args
        if line[pos] in "\"'":
            word, pos = _quoted(line, pos)
        else:
            end = pos
            while end < size and not line[end].isspace():
                end += 1
            word, pos = line[pos:end].encode(), end
        args.append(word)


def _quoted(line: str, pos: int) -> tuple[bytes, int]:
    quote, pos, out = line[pos], pos + 1, bytearray()
    while pos < len(line):
        char = line[pos]
        if char == "\\" and pos + 1 < len(line):
            following = line[pos + 1]
            digits = line[pos + 2 : pos + 4]
            if quote == '"' and following == "x" and len(digits) == 2 and set(digits) <= _HEX:
                out.append(int(digits, 16))
                pos += 4
                continue
            if quote == '"':
                out += _ESCAPES.get(following, following.encode())
                pos += 2
                continue
            if following == "'":
                out += b"'"
                pos += 2
                continue
        if char == quote:
            pos += 1
            if pos < len(line) and not line[pos].isspace():
                raise ValueError("a closing quote must be followed by a space")
            return bytes(out), pos
        out += char.encode()
        pos += 1
    raise ValueError("unbalanced quotes")


def iter_resp_commands(data: bytes, source: str) -> Iterator[bytes]:
    """The raw bytes of each command of a RESP file, checked for shape."""
    pos = 0
    size = len(data)
    while pos < size:
        if data[pos : pos + 2] == CRLF or data[pos : pos + 1] in (b"\n", b" "):
            pos += 1
            continue
        start = pos
        count, pos = _read_header(data, pos, b"*", source)
        for _ in range(count):
            length, pos = _read_header(data, pos, b"$", source)
            end = pos + length
            if data[end : end + 2] != CRLF:
                raise SeedError(f"{source}: byte {pos}: bulk string is not {length} bytes long")
            pos = end + 2
        yield data[start:pos]


def _read_header(data: bytes, pos: int, kind: bytes, source: str) -> tuple[int, int]:
    if data[pos : pos + 1] != kind:
        found = data[pos : pos + 10]
        raise SeedError(f"{source}: byte {pos}: expected '{kind.decode()}', found {found!r}")
    end = data.find(CRLF, pos)
    if end < 0:
        raise SeedError(f"{source}: byte {pos}: the file ends inside a command")
    try:
        value = int(data[pos + 1 : end])
    except ValueError as exc:
        raise SeedError(f"{source}: byte {pos}: {data[pos:end]!r} is not a length") from exc
    return value, end + 2


@dataclass(frozen=True)
class Reply:
    """One server reply: ``error`` holds the message when Redis refused the command."""

    error: str | None = None


class ReplyReader:
    """Reads RESP2 replies from bytes fed as they arrive."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[Reply]:
        """Every complete reply in the buffer after adding ``chunk``."""
        self._buffer += chunk
        replies: list[Reply] = []
        pos = 0
        while True:
            parsed = _parse_reply(self._buffer, pos)
            if parsed is None:
                break
            reply, pos = parsed
            replies.append(reply)
        del self._buffer[:pos]
        return replies


def _parse_reply(buf: bytearray, pos: int) -> tuple[Reply, int] | None:
    end = buf.find(CRLF, pos)
    if end < 0:
        return None
    kind, line, after = bytes(buf[pos : pos + 1]), bytes(buf[pos + 1 : end]), end + 2
    if kind == b"-":
        return Reply(line.decode(errors="replace")), after
    if kind in (b"+", b":"):
        return Reply(), after
    if kind == b"$":
        length = int(line)
        if length < 0:
            return Reply(), after
        return (Reply(), after + length + 2) if len(buf) >= after + length + 2 else None
    if kind == b"*":
        error: str | None = None
        for _ in range(max(int(line), 0)):
            parsed = _parse_reply(buf, after)
            if parsed is None:
                return None
            inner, after = parsed
            error = error or inner.error
        return Reply(error), after
    raise SeedError(f"Redis sent a reply homeport cannot read: {bytes(buf[pos:end])!r}")
