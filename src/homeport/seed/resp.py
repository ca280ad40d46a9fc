"""The Redis protocol (RESP2) for seeding: commands files in, encoded commands out, replies read.

A commands file is either one command per line, quoted as redis-cli quotes it (bare words;
double quotes with backslash escapes, including a hex byte; single quotes), where lines starting
with a hash and blank lines are skipped; or raw RESP (the file starts with an array), as
``redis-cli --pipe`` reads.
"""

from __future__ import annotations

import re
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


def iter_text_commands(
    lines: Iterable[str], source: str, first_line: int = 1
) -> Iterator[tuple[bytes, int]]:
    """The commands of a one-command-per-line file, each with the input bytes it consumed.

    A line whose quoting is plain and whose size Redis accepts goes out as it is, in Redis's
    inline form (Redis splits it exactly as redis-cli does, sparing Python the work); any other
    line is split here and sent as RESP. Comment and blank lines yield an empty command, so that
    every input byte is counted.
    """
    for number, line in enumerate(lines, start=first_line):
        consumed = len(line.encode())
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            yield b"", consumed
        elif len(line) < INLINE_MAX and _PLAIN_LINE.fullmatch(line):
            yield stripped.encode() + CRLF, consumed
        else:
            try:
                yield encode_command(split_args(line)), consumed
            except ValueError as exc:
                raise SeedError(f"{source}:{number}: cannot read this command: {exc}") from exc


INLINE_MAX = 32 * 1024  # Redis refuses inline requests past 64 kB
# Words that are bare, or quoted and closed before a blank: what Redis's inline parser splits
# exactly as split_args does. Anything else (a quote inside a bare word, ...) is split here.
_PLAIN_LINE = re.compile(
    r"""[ \t]*(?:(?:"(?:[^"\\\r\n]|\\[^\r\n])*"|'(?:[^'\\\r\n]|\\[^\r\n])*'|[^\s"']+)"""
    r"""(?:[ \t]+|[ \t]*\r?\n?\Z))*"""
)


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"a": b"\a"}
_DOUBLE = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_SINGLE = re.compile(r"'((?:[^'\\]|\\.)*)'", re.DOTALL)
_BARE = re.compile(r"\S+")
_SPACE = re.compile(r"\s*")
_DOUBLE_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|.)", re.DOTALL)
_SINGLE_ESCAPE = re.compile(rb"\\'")


def split_args(line: str) -> list[bytes]:
    """The arguments of one line, split and unquoted as redis-cli does."""
    if '"' not in line and "'" not in line:
        return [word.encode() for word in line.split()]
    args: list[bytes] = []
    pos = _SPACE.match(line).end()  # type: ignore[union-attr]  # \s* always matches
    while pos < len(line):
        quote = line[pos]
        pattern = _DOUBLE if quote == '"' else _SINGLE if quote == "'" else _BARE
        found = pattern.match(line, pos)
        if found is None:
            raise ValueError("unbalanced quotes")
        if pattern is _BARE:
            args.append(found.group(0).encode())
        else:
            args.append(_unescape(found.group(1).encode(), quote))
            if found.end() < len(line) and not line[found.end()].isspace():
                raise ValueError("a closing quote must be followed by a space")
        pos = _SPACE.match(line, found.end()).end()  # type: ignore[union-attr]
    return args


def _unescape(raw: bytes, quote: str) -> bytes:
    if b"\\" not in raw:
        return raw
    if quote == "'":
        return _SINGLE_ESCAPE.sub(b"'", raw)
    return _DOUBLE_ESCAPE.sub(_double_escape, raw)


def _double_escape(match: re.Match[bytes]) -> bytes:
    escaped = match.group(1)
    if len(escaped) == 3:
        return bytes([int(escaped[1:], 16)])
    return _ESCAPES.get(escaped, escaped)


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


_OK = b"+OK\r\n"


class ReplyReader:
    """Reads RESP2 replies from bytes fed as they arrive."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[Reply]:
        """Every complete reply in the buffer after adding ``chunk``."""
        count, errors = self.feed_counting(chunk)
        replies = [Reply()] * count
        for index, message in errors:
            replies[index] = Reply(message)
        return replies

    def feed_counting(self, chunk: bytes) -> tuple[int, list[tuple[int, str]]]:
        """How many replies completed, and the errors among them (by index in this batch).

        Seeding reads one reply per command; counting spares building an object for each OK.
        """
        self._buffer += chunk
        buf = self._buffer
        count, pos, errors = 0, 0, []
        while True:
            if buf.startswith(_OK, pos):
                count, pos = count + 1, pos + 5
                continue
            parsed = _parse_reply(buf, pos)
            if parsed is None:
                break
            reply, pos = parsed
            if reply.error is not None:
                errors.append((count, reply.error))
            count += 1
        del buf[:pos]
        return count, errors


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
