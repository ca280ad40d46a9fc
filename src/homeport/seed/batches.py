"""Commands files cut into batches ready to pipeline to Redis, each command tied to its origin.

A block of a text file whose every line Redis's inline parser splits exactly as redis-cli would
(ASCII, no backslash, no single quote, bare words and closed double-quoted words only, no comment
or blank line) goes out byte for byte: one regular expression checks the whole block, so Python
does no work per line. Any other block is read line by line (``iter_text_commands``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from homeport.seed.errors import SeedError
from homeport.seed.resp import INLINE_MAX, iter_resp_commands, iter_text_commands

BLOCK_BYTES = 1 << 18

_WORD = rb'(?:"[^"\n]*+"|[^\s"]++)'
_VERBATIM = re.compile(rb"(?:[ \t]*+(?!#)" + _WORD + rb"(?:[ \t]++" + _WORD + rb")*+[ \t]*+\n)*+")


@dataclass(frozen=True)
class Batch:
    """Commands to send as they are; the line (or command) number of each; input bytes read."""

    data: bytes
    origins: Sequence[int]
    consumed: int


def text_batches(handle: BinaryIO, source: str) -> Iterator[Batch]:
    """The batches of a one-command-per-line file, cut at line ends about every 256 kB."""
    line, rest = 1, b""
    while True:
        block = handle.read(BLOCK_BYTES)
        data = rest + block
        cut = data.rfind(b"\n") + 1 if block else len(data)
        if block and cut == 0:
            rest = data  # one line longer than a block: read on
            continue
        chunk, rest = data[:cut], data[cut:]
        if chunk:
            yield verbatim_batch(chunk, line) or _line_by_line(chunk, line, source)
            line += chunk.count(b"\n")
        if not block:
            return


def verbatim_batch(chunk: bytes, first_line: int) -> Batch | None:
    """The chunk as one batch of inline commands, or None when a line needs reading in Python."""
    if not chunk.endswith(b"\n") or not chunk.isascii() or b"\\" in chunk or b"'" in chunk:
        return None
    lines = chunk.count(b"\n")
    if len(chunk) >= INLINE_MAX and max(map(len, chunk.split(b"\n"))) >= INLINE_MAX:
        return None
    if _VERBATIM.fullmatch(chunk) is None:
        return None
    return Batch(chunk, range(first_line, first_line + lines), len(chunk))


def _line_by_line(chunk: bytes, first_line: int, source: str) -> Batch:
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeedError(f"{source}: not UTF-8 text ({exc}); write raw RESP instead") from exc
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    encoded, origins = [], []
    for number, (command, _) in enumerate(
        iter_text_commands(lines, source, first_line), start=first_line
    ):
        if command:
            encoded.append(command)
            origins.append(number)
    return Batch(b"".join(encoded), origins, len(chunk))


def resp_batches(data: bytes, source: str) -> Iterator[Batch]:
    """The commands of a raw RESP file, checked one by one, in batches of about 256 kB."""
    pending: list[bytes] = []
    size, first = 0, 1
    for number, command in enumerate(iter_resp_commands(data, source), start=1):
        pending.append(command)
        size += len(command)
        if size >= BLOCK_BYTES:
            yield Batch(b"".join(pending), range(first, number + 1), size)
            pending, size, first = [], 0, number + 1
    if pending:
        yield Batch(b"".join(pending), range(first, first + len(pending)), size)
