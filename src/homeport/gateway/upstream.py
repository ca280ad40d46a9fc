"""The upstream pool: lean HTTP/1.1 keep-alive connections to each upstream, parsed by llhttp.

aiohttp's client spent about two thirds of the gateway's CPU per proxied request; a proxy needs
far less of it (no cookies, redirects, decompression or URL handling), so each upstream connection
is an asyncio protocol feeding ``httptools`` (llhttp). Bodies stream both ways with back-pressure:
reading from the upstream pauses while the client is slower.

    UpstreamError(kind)   refused (cannot connect), timeout, broken (closed or unparseable)
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

import httptools

from homeport.gateway.flow import WriteFlow

HIGH_WATER = 256 * 1024
IDLE_PER_UPSTREAM = 512


class UpstreamError(Exception):
    """An upstream exchange failed; ``kind`` is refused, timeout or broken."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class UpstreamConnection(WriteFlow, asyncio.Protocol):
    """One keep-alive connection; carries one exchange at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False
        self.idle = False
        self.parser = httptools.HttpResponseParser(self)  # llhttp starts afresh after each answer
        self._chunks: deque[bytes] = deque()
        self._reset()

    def _reset(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.length: bytes | None = None  # the Content-Length header, as sent
        self.connection_header: bytes | None = None
        self._framed = False  # Content-Length or Transfer-Encoding given
        self.status = 0
        self.keep_alive = False
        self.complete = False
        self.head_only = False
        self._informational = False
        self._chunks.clear()
        self._buffered = 0
        self._ready: asyncio.Future[None] = self.loop.create_future()
        self._wake: asyncio.Future[None] | None = None
        self._error: UpstreamError | None = None
        self._timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Feed the parser; a malformed answer breaks the exchange."""
        if self.idle:  # bytes nobody asked for: this connection cannot be trusted again
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail(UpstreamError("broken"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """End a close-delimited body, or fail whatever was waiting."""
        self.closed = True
        if self._ready.done() and not self.complete and self._close_delimited():
            self.on_message_complete()
        elif not self.complete:
            self._fail(UpstreamError("broken"))
        self._fail_drain(UpstreamError("broken"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        """Collect one header line; note the ones the relay needs."""
        self.headers.append((name, value))
        if len(name) in (10, 14, 17):  # connection, content-length, transfer-encoding
            lower = name.lower()
            if lower == b"content-length":
                self.length = value
                self._framed = True
            elif lower == b"transfer-encoding":
                self._framed = True
            elif lower == b"connection":
                if self.connection_header is None:
                    self.connection_header = value
                else:
                    self.connection_header += b", " + value

    def on_headers_complete(self) -> None:
        """The status line and headers are in: wake the exchange."""
        status = self.parser.get_status_code()
        if 100 <= status < 200:
            self._informational = True
            self.headers = []
            self.length = self.connection_header = None
            self._framed = False
            return
        self.status = status
        self.keep_alive = self.parser.should_keep_alive()  # llhttp forgets it once complete
        if self.head_only:
            self.complete = True
        self._stop_timer()
        if not self._ready.done():
            self._ready.set_result(None)

    def on_body(self, body: bytes) -> None:
        """Buffer a body chunk; stop reading the socket past the high-water mark."""
        if self.head_only:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
        self._wake_reader()

    def on_message_complete(self) -> None:
        """The answer is complete (informational answers are skipped)."""
        if self._informational:
            self._informational = False
            return
        self.complete = True
        self._wake_reader()

    # the exchange
    def _close_delimited(self) -> bool:
        return not self._framed

    def _fail(self, error: UpstreamError) -> None:
        self._error = error
        self._stop_timer()
        if not self._ready.done():
            self._ready.set_exception(error)
            self._ready.exception()  # retrieved here; raised again where it is awaited
        self._wake_reader()

    def _wake_reader(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def write(self, data: bytes) -> None:
        """Send bytes (the caller awaits ``drain``)."""
        if self.transport is None or self.closed:
            raise UpstreamError("broken")
        self.transport.write(data)

    async def drain(self, timeout: float) -> None:
        """Wait while the upstream is not reading, at most ``timeout`` seconds."""
        if self._can_write:
            return
        self._drain = self.loop.create_future()
        await _within(self._drain, timeout, self.loop)

    def response(self, timeout: float) -> asyncio.Future[None]:
        """To await: the status line and headers are in (UpstreamError timeout after
        ``timeout`` seconds)."""
        self._timer = self.loop.call_later(timeout, self._expire)
        return self._ready

    def _expire(self) -> None:
        if not self._ready.done():
            self._ready.set_exception(UpstreamError("timeout"))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def body(self, timeout: float) -> AsyncIterator[bytes]:
        """The body's chunks as they arrive; ``timeout`` is the longest silence allowed."""
        while True:
            while self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                yield chunk
            if self._buffered <= HIGH_WATER and self.transport is not None and not self.closed:
                self.transport.resume_reading()
            if self.complete:
                return
            if self._error is not None:
                raise self._error
            self._wake = self.loop.create_future()
            await _within(self._wake, timeout, self.loop)

    @property
    def buffered(self) -> int:
        """Bytes of body received and not yet taken."""
        return self._buffered

    def take_body(self) -> bytes:
        """The whole body once the answer is complete."""
        chunks = self._chunks
        body = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        return body

    def reusable(self) -> bool:
        """True when another exchange can use this connection."""
        return self.complete and not self.closed and not self.head_only and self.keep_alive

    def recycle(self) -> None:
        """Ready the connection for the next exchange."""
        self._reset()
        self.reused = True
        self.idle = True

    def close(self) -> None:
        """Close the socket."""
        self._stop_timer()
        self.closed = True
        if self.transport is not None:
            self.transport.close()


async def _within(
    future: asyncio.Future[None], timeout: float, loop: asyncio.AbstractEventLoop
) -> None:
    def expire() -> None:
        if not future.done():
            future.set_exception(UpstreamError("timeout"))

    timer = loop.call_later(timeout, expire)
    try:
        await future
    finally:
        timer.cancel()


class UpstreamPool:
    """Idle keep-alive connections per upstream (host, port)."""

    def __init__(self, connect_timeout: float) -> None:
        self.connect_timeout = connect_timeout
        self._idle: dict[tuple[str, int], list[UpstreamConnection]] = {}

    async def acquire(self, host: str, port: int) -> UpstreamConnection:
        """An idle connection to host:port, or a new one."""
        return self.take_idle(host, port) or await self.connect(host, port)

    def take_idle(self, host: str, port: int) -> UpstreamConnection | None:
        """An idle connection to host:port, or None."""
        idle = self._idle.get((host, port))
        while idle:
            connection = idle.pop()
            if not connection.closed:
                connection.idle = False
                return connection
        return None

    async def connect(self, host: str, port: int) -> UpstreamConnection:
        """A new connection, within the connect timeout."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: UpstreamConnection(loop), host, port
                )
        except TimeoutError as exc:
            raise UpstreamError("timeout") from exc
        except OSError as exc:
            raise UpstreamError("refused") from exc
        return protocol

    def release(self, host: str, port: int, connection: UpstreamConnection) -> None:
        """Keep the connection for the next exchange when it can be reused, else close it."""
        if not connection.reusable():
            connection.close()
            return
        idle = self._idle.setdefault((host, port), [])
        if len(idle) >= IDLE_PER_UPSTREAM:
            connection.close()
            return
        connection.recycle()
        idle.append(connection)

    def close(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


def request_head(method: str, target: bytes, lines: list[bytes]) -> bytes:
    """The request line and ``Name: value\\r\\n`` header lines, as one write."""
    return b"%b %b HTTP/1.1\r\n%b\r\n" % (method.encode("latin-1"), target, b"".join(lines))
