"""The Python gateway's own HTTP/1.1 server on raw sockets: keep-alive, pipelining, HTTP/1.0,
chunked answers, malformed and oversized heads, Upgrade, a client that hangs up mid-request."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.gateway import (
    Plane,
    Upstreams,
    raw_request,
    start_python_gateway,
    write_platform,
)

from homeport.gateway import http
from homeport.gateway.http import ClientConnection
from homeport.gateway.request import Request
from homeport.gateway.server import Server

CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n"
)
CHUNKED_REST = b"6\r\n world\r\n0\r\n\r\n"


class ChunkedUpstream:
    """A raw upstream on loopback that answers every request with a chunked body, its second
    half a moment later (so the gateway streams it rather than buffer a complete small answer)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    @staticmethod
    def _answer(connection: socket.socket) -> None:
        with connection:
            received = b""
            while True:
                try:
                    data = connection.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                received += data
                while b"\r\n\r\n" in received:  # requests without bodies
                    _, _, received = received.partition(b"\r\n\r\n")
                    connection.sendall(CHUNKED_HEAD)
                    time.sleep(0.2)
                    connection.sendall(CHUNKED_REST)

    def stop(self) -> None:
        self.listener.close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def chunked() -> Iterator[ChunkedUpstream]:
    upstream = ChunkedUpstream()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, upstreams: Upstreams, chunked: ChunkedUpstream
) -> Iterator[Plane]:
    platform = write_platform(tmp_path_factory.mktemp("gateway-server"))
    ports = {**upstreams.ports, "landing": chunked.port}  # the default route answers chunked
    plane = start_python_gateway(platform, Upstreams(upstreams.process, ports))
    yield plane
    plane.stop()


def connect(plane: Plane) -> socket.socket:
    host, port = plane.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def read_answers(sock: socket.socket, count: int) -> list[tuple[bytes, bytes]]:
    """``count`` answers with Content-Length bodies off one kept-alive connection."""
    buffer = b""
    answers: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + 10
    while len(answers) < count and time.monotonic() < deadline:
        head, sep, rest = buffer.partition(b"\r\n\r\n")
        if sep:
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            if len(rest) >= length:
                answers.append((head, rest[:length]))
                buffer = rest[length:]
                continue
        data = sock.recv(65536)
        if not data:
            break
        buffer += data
    return answers


def test_pipelined_requests_are_answered_in_order_on_one_connection(gateway: Plane) -> None:
    with connect(gateway) as sock:
        sock.sendall(
            b"GET /api/echo/1 HTTP/1.1\r\nHost: gw\r\n\r\n"
            b"POST /api/upload HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello"
            b"GET /api/echo/3 HTTP/1.1\r\nHost: gw\r\n\r\n"
        )
        answers = read_answers(sock, 3)
        assert [json.loads(body).get("path") for _, body in answers] == [
            "/api/echo/1",
            None,
            "/api/echo/3",
        ]
        assert json.loads(answers[1][1])["bytes"] == 5
        sock.sendall(b"GET /api/echo/4 HTTP/1.1\r\nHost: gw\r\n\r\n")  # still open
        assert json.loads(read_answers(sock, 1)[0][1])["path"] == "/api/echo/4"


def test_http10_closes_unless_asked_to_keep_alive(gateway: Plane) -> None:
    with connect(gateway) as sock:
        sock.sendall(b"GET /api/echo HTTP/1.0\r\nHost: gw\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nConnection: close\r\n" in answer
    with connect(gateway) as sock:
        sock.sendall(b"GET /api/echo HTTP/1.0\r\nHost: gw\r\nConnection: keep-alive\r\n\r\n")
        head, _ = read_answers(sock, 1)[0]
        assert b"\r\nConnection: keep-alive" in head
        sock.sendall(b"GET /api/echo HTTP/1.0\r\nHost: gw\r\nConnection: keep-alive\r\n\r\n")
        assert len(read_answers(sock, 1)) == 1


def test_an_upstream_body_of_unknown_length_is_chunked_or_close_delimited(gateway: Plane) -> None:
    with connect(gateway) as sock:
        sock.sendall(b"GET /about HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
        answer = read_until_closed(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert body == b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    with connect(gateway) as sock:
        sock.sendall(b"GET /about HTTP/1.0\r\nHost: gw\r\n\r\n")
        head, _, body = read_until_closed(sock).partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower()
    assert body == b"hello world"


def test_head_answers_keep_the_upstreams_length_and_no_body(gateway: Plane) -> None:
    with connect(gateway) as sock:
        sock.sendall(b"HEAD /api/echo HTTP/1.1\r\nHost: gw\r\n\r\n")
        time.sleep(0.3)  # anything after the head would be a body that must not be there
        sock.sendall(b"GET /api/echo/2 HTTP/1.1\r\nHost: gw\r\n\r\n")
        buffer = b""
        while buffer.count(b"HTTP/1.1 200") < 2 or not buffer.endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            buffer += data
    first, _, rest = buffer.partition(b"\r\n\r\n")
    assert b"Content-Length: " in first
    assert rest.startswith(b"HTTP/1.1 200 ")  # no body between the two answers


def test_malformed_requests_are_400_and_closed(gateway: Plane) -> None:
    for request in (b"NOT HTTP AT ALL\r\n\r\n", b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"):
        response = raw_request(gateway.url, request)
        assert response.status == 400
        assert response.header("connection") == "close"


def test_an_oversized_head_is_431(gateway: Plane) -> None:
    request = b"GET /api/echo HTTP/1.1\r\nHost: gw\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    assert raw_request(gateway.url, request).status == 431


def test_an_upgrade_is_answered_as_a_plain_request_then_closed(gateway: Plane) -> None:
    with connect(gateway) as sock:
        sock.sendall(
            b"GET /api/echo HTTP/1.1\r\nHost: gw\r\nConnection: upgrade\r\n"
            b"Upgrade: websocket\r\n\r\nbytes of another protocol"
        )
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ")
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert "upgrade" not in body["headers"]


def test_a_client_that_hangs_up_mid_body_does_not_disturb_others(gateway: Plane) -> None:
    with connect(gateway) as sock:
        sock.sendall(b"POST /api/upload HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000000\r\n\r\n")
        sock.sendall(b"x" * 1000)
    response = raw_request(
        gateway.url, b"GET /api/echo HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"
    )
    assert response.status == 200
    assert "Traceback" not in Path(gateway.log).read_text()


def test_idle_keep_alive_connections_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "KEEP_ALIVE_SECONDS", 0.5)

    async def answer(request: Request, client: ClientConnection) -> None:
        client.respond(request, 200, [], b"ok")

    async def scenario() -> tuple[bytes, bytes]:
        server = Server(answer)
        port = await server.listen("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            first = await asyncio.wait_for(reader.readuntil(b"ok"), 5)
            rest = await asyncio.wait_for(reader.read(), 5)  # b"" once the sweep closes it
        finally:
            writer.close()
            await server.close()
        return first, rest

    first, rest = asyncio.run(scenario())
    assert first.startswith(b"HTTP/1.1 200 ")
    assert rest == b""
