"""One parsed client request: its head as received (bytes) and its body as a flow-controlled stream.

Header names and values stay bytes from the socket to the upstream; ``headers`` maps each
lower-cased name to its first value, and ``text`` gives the str view routing and CORS read.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import unquote

import httptools

HIGH_WATER = 256 * 1024  # request body bytes buffered before the socket stops being read
KEYS: dict[str, bytes] = {}  # header names asked for by routes and CORS, as dictionary keys
KEYS_REMEMBERED = 1024


class ClientBodyError(Exception):
    """The client's body stopped early (hang-up) or was not valid HTTP framing."""


class FlowControl(Protocol):
    """What a body needs from its connection: stop and restart reading, say 100 Continue."""

    def pause_reading(self) -> None:
        """Stop reading the socket."""

    def resume_reading(self) -> None:
        """Read the socket again."""

    def send_continue(self) -> None:
        """Write ``100 Continue`` (unless an answer has begun)."""


class RequestBody:
    """The request body's chunks as they arrive; reading stops past HIGH_WATER bytes buffered."""

    __slots__ = (
        "_chunks",
        "_flow",
        "_waiter",
        "buffered",
        "complete",
        "discard",
        "error",
        "expect_continue",
    )

    def __init__(self, flow: FlowControl, *, complete: bool, expect_continue: bool) -> None:
        self._flow = flow
        self.expect_continue = expect_continue  # the client waits for 100 Continue
        self._chunks: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.buffered = 0
        self.complete = complete
        self.discard = False
        self.error = False

    def feed(self, data: bytes) -> None:
        """A chunk from the parser."""
        if self.discard:
            return
        self._chunks.append(data)
        self.buffered += len(data)
        if self.buffered > HIGH_WATER:
            self._flow.pause_reading()
        self._wake()

    def finish(self) -> None:
        """The parser saw the body's end."""
        self.complete = True
        self._wake()

    def fail(self) -> None:
        """The client hung up or broke the framing."""
        self.error = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def read(self) -> bytes | None:
        """The next chunk, or None once the body is complete."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self.buffered -= len(chunk)
                if self.buffered <= HIGH_WATER:
                    self._flow.resume_reading()
                return chunk
            if self.complete:
                return None
            if self.error:
                raise ClientBodyError
            if self.expect_continue:
                self.expect_continue = False
                self._flow.send_continue()
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter


class Request:
    """A client request as parsed by llhttp."""

    __slots__ = (
        "body",
        "expect_continue",
        "has_body",
        "headers",
        "http10",
        "keep_alive",
        "length",
        "method",
        "peer",
        "raw_headers",
        "target",
    )

    def __init__(
        self,
        method: str,
        target: bytes,
        raw_headers: list[tuple[bytes, bytes]],
        headers: dict[bytes, bytes],
        *,
        peer: str,
        http10: bool,
        keep_alive: bool,
    ) -> None:
        self.method = method
        self.target = target
        self.raw_headers = raw_headers
        self.headers = headers
        self.peer = peer
        self.http10 = http10
        self.keep_alive = keep_alive
        length = headers.get(b"content-length")
        self.length = int(length) if length is not None and length.isdigit() else None
        self.has_body = b"transfer-encoding" in headers or bool(self.length)
        self.expect_continue = (
            self.has_body and headers.get(b"expect", b"").lower() == b"100-continue"
        )
        self.body: RequestBody = None  # type: ignore[assignment]  # set by the connection

    def header(self, name: bytes) -> str | None:
        """The first value of a header (``name`` lower-case), as text."""
        value = self.headers.get(name)
        return None if value is None else value.decode("utf-8", "surrogateescape")

    @property
    def text(self) -> TextHeaders:
        """A str view of the headers for routing and CORS (names lower-case)."""
        return TextHeaders(self.headers)

    def split_target(self) -> tuple[str, bytes]:
        """(the decoded path, the origin-form target to send upstream); absolute-form targets
        (``http://host/path?q``) become origin-form. ValueError when it is neither."""
        target = self.target
        if not target.startswith(b"/"):
            parsed = httptools.parse_url(target)  # raises HttpParserInvalidURLError (ValueError)
            path = parsed.path or b"/"
            target = path + (b"?" + parsed.query if parsed.query else b"")
        path, _, _ = target.partition(b"?")
        return unquote(path.decode("latin-1"), "utf-8", "replace"), target

    def query(self) -> str:
        """The raw query string (without ``?``)."""
        _, _, query = self.target.partition(b"?")
        return query.partition(b"#")[0].decode("latin-1")


class TextHeaders(Mapping[str, str]):
    """A read-only str view (names lower-case) of a request's byte headers, decoding on access."""

    __slots__ = ("_headers",)

    def __init__(self, headers: dict[bytes, bytes]) -> None:
        self._headers = headers

    def get(self, name: str, default: Any = None) -> Any:
        """The header's first value as text, or ``default``."""
        key = KEYS.get(name)
        if key is None:
            key = name.lower().encode("latin-1")
            if len(KEYS) < KEYS_REMEMBERED:
                KEYS[name] = key
        value = self._headers.get(key)
        return default if value is None else value.decode("utf-8", "surrogateescape")

    def __getitem__(self, name: str) -> str:
        value: str | None = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name.decode("latin-1") for name in self._headers)

    def __len__(self) -> int:
        return len(self._headers)
