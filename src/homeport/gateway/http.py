"""The gateway's HTTP/1.1 server: one asyncio protocol per client connection, parsed by llhttp.

aiohttp's server cost about a third of the CPU of a proxied request; the gateway needs only a
small part of it, so requests are parsed with ``httptools`` straight off the socket and answers
are written as bytes. Keep-alive and pipelining: requests are answered one at a time, in order;
a request parsed while another is answered waits in a queue. Request bodies stream with
flow control (the socket stops being read past a high-water mark); answers stream with the
transport's write flow control. A connection idle for KEEP_ALIVE_SECONDS is closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from http import HTTPStatus

import httptools

from homeport.gateway.flow import WriteFlow
from homeport.gateway.request import ClientBodyError, Request, RequestBody

log = logging.getLogger("homeport.gateway")

KEEP_ALIVE_SECONDS = 75.0
LINGERING_SECONDS = 2.0  # how long an unread request body (after a 413) is drained, at most
MAX_HEAD = 64 * 1024  # request line and headers
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
JSON = b"Content-Type: application/json\r\n"
NO_BODY_STATUSES = frozenset({204, 304})


class HeadTooLarge(Exception):
    """The request line and headers passed MAX_HEAD."""


Handler = Callable[[Request, "ClientConnection"], Awaitable[None]]


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


STATUS_LINES = {status: _status_line(status) for status in range(100, 600)}


class Clock:
    """The Date header's value, formatted once a second."""

    def __init__(self) -> None:
        self._second = 0
        self._line = b""

    def date_line(self) -> bytes:
        """``Date: ...\\r\\n`` for now."""
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._line = f"Date: {formatdate(now, usegmt=True)}\r\n".encode("latin-1")
        return self._line


CLOCK = Clock()


class ClientConnection(WriteFlow, asyncio.Protocol):
    """One client connection: parses requests, runs the handler on each in turn, writes answers."""

    def __init__(self, handler: Handler, connections: set[ClientConnection]) -> None:
        self._handler = handler
        self._connections = connections
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.closed = False
        self.last_active = 0.0
        self._queue: deque[Request] = deque()  # [0] is being answered
        self._task: asyncio.Task[None] | None = None
        self._next: asyncio.Future[None] | None = None  # set when a request arrives
        self._parsing: RequestBody | None = None
        self._url = b""
        self._raw: list[tuple[bytes, bytes]] = []
        self._headers: dict[bytes, bytes] = {}
        self._head_bytes = 0  # bytes received while a head is incomplete
        self._head_size = 0  # the current head's target and headers
        self._in_head = False
        self._stop_parsing = False  # a parse error or an Upgrade: nothing more is read
        self._lingering = False
        self._reading_paused = False
        # the answer being written
        self._chunked = False
        self._keep = True
        self._head_sent = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Note the peer's address."""
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        self.last_active = self._loop.time()
        self._connections.add(self)

    def data_received(self, data: bytes) -> None:
        """Feed llhttp; answer 400 to what is not HTTP."""
        if self._lingering or self._stop_parsing:
            return
        self.last_active = self._loop.time()
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self._reject(431, b"request head too large")
                return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # Upgrade is hop-by-hop: the request is answered as a plain one, then closed
            self._stop_parsing = True
            if self._queue:
                self._queue[-1].keep_alive = False
        except httptools.HttpParserError:
            if self._head_size > MAX_HEAD:
                self._reject(431, b"request head too large")
            else:
                self._reject(400, b"malformed request")

    def eof_received(self) -> bool:
        """The client finished sending: a body still expected is cut short; a request being
        answered still gets its answer, then the connection closes."""
        if self._parsing is not None:
            self._parsing.fail()
        self._stop_parsing = True
        return bool(self._queue) and not self._lingering

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the answer in progress; wake whatever waited."""
        self.closed = True
        self._connections.discard(self)
        for request in self._queue:
            request.body.fail()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._fail_drain(ConnectionResetError("client gone"))

    # llhttp callbacks
    def on_message_begin(self) -> None:
        """A new request starts."""
        self._url = b""
        self._raw = []
        self._headers = {}
        self._in_head = True
        self._head_size = 0

    def on_url(self, url: bytes) -> None:
        """A piece of the request target."""
        self._url += url
        self._head_size += len(url)
        if self._head_size > MAX_HEAD:
            raise HeadTooLarge

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header line (names keep their case for the upstream)."""
        self._head_size += len(name) + len(value)
        if self._head_size > MAX_HEAD:
            raise HeadTooLarge  # llhttp stops; data_received answers 431
        self._raw.append((name, value))
        lower = name.lower()
        if lower not in self._headers:
            self._headers[lower] = value
        elif lower in {b"transfer-encoding", b"connection"}:
            self._headers[lower] += b", " + value

    def on_headers_complete(self) -> None:
        """The head is in: queue the request, answer it now when nothing else is answered."""
        self._in_head = False
        self._head_bytes = 0
        parser = self._parser
        request = Request(
            parser.get_method().decode("latin-1"),
            self._url,
            self._raw,
            self._headers,
            peer=self.peer,
            http10=parser.get_http_version() == "1.0",
            keep_alive=parser.should_keep_alive(),
        )
        body = request.body = RequestBody(
            self, complete=not request.has_body, expect_continue=request.expect_continue
        )
        self._parsing = body
        self._queue.append(request)
        if len(self._queue) == 1:
            self._wake()

    def on_body(self, body: bytes) -> None:
        """A piece of the body, for the request being parsed."""
        if self._parsing is not None:
            self._parsing.feed(body)

    def on_message_complete(self) -> None:
        """The request's body is complete."""
        if self._parsing is not None:
            self._parsing.finish()
            self._parsing = None

    # flow control of request bodies
    def pause_reading(self) -> None:
        """Stop reading the socket (a body is buffered past its high-water mark)."""
        if not self._reading_paused and self.transport is not None and not self.closed:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        """Read the socket again."""
        if self._reading_paused and self.transport is not None and not self.closed:
            self._reading_paused = False
            self.transport.resume_reading()

    def send_continue(self) -> None:
        """Tell a client waiting on ``Expect: 100-continue`` to send its body."""
        if not self._head_sent:
            self._write(CONTINUE)

    # answering: one task per connection answers its requests in order
    def _wake(self) -> None:
        if self._task is None:
            self._task = self._loop.create_task(self._serve())
        elif self._next is not None and not self._next.done():
            self._next.set_result(None)

    async def _serve(self) -> None:
        while not self.closed:
            if not self._queue:
                self._next = self._loop.create_future()
                await self._next
                continue
            request = self._queue[0]
            self._chunked = False
            self._keep = True
            self._head_sent = False
            try:
                await self._handler(request, self)
            except ClientBodyError:
                if not self._head_sent:
                    body = b'{"error": "request body cut short"}'
                    self.respond(request, 400, [JSON], body, close=True)
            except Exception:
                log.exception("answering %s failed", request.method)
                if self._head_sent:
                    self._abort()
                    return
                self.respond(request, 500, [JSON], b'{"error": "internal error"}', close=True)
            if not self._done(request):
                return

    def _done(self, request: Request) -> bool:
        """After an answer: True when the connection stays open for the next request."""
        self._queue.popleft()
        if self.closed:
            return False
        if not self._keep or (self._stop_parsing and not self._queue):
            self._close(request)
            return False
        self.last_active = self._loop.time()
        return True

    def _close(self, request: Request) -> None:
        """Close after the answer; an unread body is drained a little first (else the kernel
        would reset the connection and the client could lose the answer)."""
        if request.body.complete or self.transport is None:
            self.shut()
            return
        request.body.discard = True
        self._lingering = True
        self.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._loop.call_later(LINGERING_SECONDS, self.shut)

    @property
    def busy(self) -> bool:
        """True while a request is answered or waits to be."""
        return bool(self._queue)

    def shut(self) -> None:
        """Close the connection once what was written is sent."""
        if self.transport is not None and not self.closed:
            self.transport.close()

    def _abort(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.abort()

    def abort(self) -> None:
        """Drop the connection at once (an answer cut short upstream)."""
        self._keep = False
        self._abort()

    def _write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def _head(
        self, request: Request, status: int, lines: list[bytes], length: int | None, close: bool
    ) -> bytes:
        """The status line and headers; decides the framing and whether the connection stays."""
        self._head_sent = True
        keep = request.keep_alive and not close and request.body.complete
        head = [STATUS_LINES.get(status) or _status_line(status), *lines]
        if status in NO_BODY_STATUSES or status < 200:
            pass
        elif length is not None:
            head.append(b"Content-Length: %d\r\n" % length)
        elif request.method == "HEAD":
            pass  # the lines carry the upstream's Content-Length, if any; no body follows
        elif request.http10:
            keep = False  # the body ends when the connection does
        else:
            self._chunked = True
            head.append(b"Transfer-Encoding: chunked\r\n")
        if not keep:
            head.append(b"Connection: close\r\n")
        elif request.http10:
            head.append(b"Connection: keep-alive\r\n")
        head.append(b"\r\n")
        self._keep = keep
        return b"".join(head)

    def respond(
        self,
        request: Request,
        status: int,
        lines: list[bytes],
        body: bytes,
        *,
        close: bool = False,
        own: bool = True,
    ) -> None:
        """A whole answer at once; ``lines`` are ``Name: value\\r\\n`` header lines."""
        if own:
            lines = [*lines, CLOCK.date_line()]
        head = self._head(request, status, lines, len(body), close)
        if request.method == "HEAD" or status in NO_BODY_STATUSES:
            self._write(head)
        else:
            self._write(head + body)

    def start(self, request: Request, status: int, lines: list[bytes], length: int | None) -> None:
        """The head of a streamed answer; then ``write`` each chunk and ``end``."""
        self._write(self._head(request, status, lines, length, False))

    async def write(self, chunk: bytes) -> None:
        """One chunk of a streamed answer, waiting while the client is slow to read."""
        if not chunk:
            return
        if self._chunked:
            self._write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        else:
            self._write(chunk)
        if not self._can_write and not self.closed:
            self._drain = self._loop.create_future()
            await self._drain
        if self.closed:
            raise ConnectionResetError("client gone")

    def end(self) -> None:
        """The streamed answer is complete."""
        if self._chunked:
            self._write(b"0\r\n\r\n")

    def _reject(self, status: int, message: bytes) -> None:
        """Answer a request that could not be parsed, then close."""
        self._stop_parsing = True
        if self._parsing is not None:
            self._parsing.fail()
        if self._queue:  # an answer is in progress: it is the last one
            self._queue[-1].keep_alive = False
            return
        body = b'{"error": "%s"}' % message
        head = [
            STATUS_LINES[status],
            b"Content-Type: application/json\r\n",
            b"Content-Length: %d\r\n" % len(body),
            b"Connection: close\r\n",
            CLOCK.date_line(),
            b"\r\n",
        ]
        self._write(b"".join(head) + body)
        self.shut()
