"""The upstream pool against hand-written HTTP answers on loopback: framing edge cases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from homeport.gateway.upstream import UpstreamError, UpstreamPool, request_head

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(answer: Answer) -> tuple[asyncio.Server, int]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await answer(reader, writer)
            await reader.read()  # until the pool hangs up
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def stop(server: asyncio.Server) -> None:
    server.close()
    await server.wait_closed()
    await asyncio.sleep(0.05)  # the handlers see the hang-up and close their side


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def exchange(answer: Answer, method: str = "GET", requests: int = 1) -> list[object]:
    server, port = await serve(answer)
    pool = UpstreamPool(2.0)
    results: list[object] = []
    try:
        for _ in range(requests):
            connection = await pool.acquire("127.0.0.1", port)
            connection.head_only = method == "HEAD"
            connection.write(request_head(method, b"/", [b"Host: t\r\n"]))
            await connection.response(2.0)
            body = b"".join([chunk async for chunk in connection.body(2.0)])
            results.append((connection.status, body, connection.reused))
            pool.release("127.0.0.1", port, connection)
            await asyncio.sleep(0.05)
    finally:
        pool.close()
        await stop(server)
    return results


async def _second_is_fresh(answer: Answer) -> bool:
    """One exchange with a server that ``answer`` plays, the connection released to the pool
    and closed by the server: is the next connection the pool hands out a new one?"""
    server, port = await serve(answer)
    pool = UpstreamPool(2.0)
    first = await pool.acquire("127.0.0.1", port)
    first.write(request_head("GET", b"/", [b"Host: t\r\n"]))
    await first.response(2.0)
    pool.release("127.0.0.1", port, first)
    deadline = asyncio.get_running_loop().time() + 5
    while not first.closed and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    second = await pool.acquire("127.0.0.1", port)
    fresh = second is not first
    second.close()
    pool.close()
    await stop(server)
    return fresh


def test_keep_alive_connections_are_reused() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(3):
            await read_head(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    results = asyncio.run(exchange(answer, requests=3))
    assert results == [(200, b"ok", False), (200, b"ok", True), (200, b"ok", True)]


def test_head_answers_have_no_body_and_are_not_reused() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_head(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
            await writer.drain()
        writer.close()

    results = asyncio.run(exchange(answer, method="HEAD", requests=2))
    assert results == [(200, b"", False), (200, b"", False)]


def test_close_delimited_and_chunked_bodies_and_informational_answers() -> None:
    async def close_delimited(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
        await writer.drain()
        writer.close()

    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        await writer.drain()

    assert asyncio.run(exchange(close_delimited)) == [(200, b"until the end", False)]
    assert asyncio.run(exchange(chunked)) == [(201, b"abcde", False)]


def test_an_upstream_closed_while_idle_is_not_handed_out_again() -> None:
    async def scenario() -> bool:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_head(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        return await _second_is_fresh(answer)

    assert asyncio.run(scenario())


def test_garbage_is_broken_and_silence_is_a_timeout() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)

    async def attempt(answer: Answer, timeout: float) -> str:
        server, port = await serve(answer)
        pool = UpstreamPool(2.0)
        connection = await pool.acquire("127.0.0.1", port)
        connection.write(request_head("GET", b"/", [b"Host: t\r\n"]))
        try:
            await connection.response(timeout)
        except UpstreamError as error:
            return error.kind
        finally:
            connection.close()
            await stop(server)
        return "answered"

    assert asyncio.run(attempt(garbage, 2.0)) == "broken"
    assert asyncio.run(attempt(silent, 0.2)) == "timeout"


def test_refused() -> None:
    async def attempt() -> None:
        server, port = await serve(read_head)  # type: ignore[arg-type]
        await stop(server)
        await UpstreamPool(1.0).acquire("127.0.0.1", port)

    with pytest.raises(UpstreamError, match="refused"):
        asyncio.run(attempt())


def test_bytes_after_the_answer_retire_the_connection() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
        await writer.drain()

    async def scenario() -> bool:
        return await _second_is_fresh(answer)

    assert asyncio.run(scenario())
