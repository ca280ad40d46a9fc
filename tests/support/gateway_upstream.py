"""Upstream test servers for the gateway: one process, one port per service name.

    python -m tests.support.gateway_upstream jobs monolith landing

prints one JSON line ``{"jobs": PORT, ...}`` once every port listens, then serves until TERM.
Every answer carries ``x-served-by: <name>``. Paths:

- ``/slow?seconds=N``     waits N seconds, then answers
- ``/upload``             reads the body in chunks, answers its byte count and sha256
- ``/download?bytes=N``   streams N bytes
- ``/hop``                answers with hop-by-hop headers the gateway must drop
- anything else           echoes method, raw path and the headers it received, as JSON
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import sys

from aiohttp import web


def make_handler(name: str) -> web.Server:
    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        served = {"x-served-by": name}
        path = request.path
        if path.endswith("/slow"):
            await asyncio.sleep(float(request.query.get("seconds", "5")))
            return web.json_response({"served_by": name, "slow": True}, headers=served)
        if path.endswith("/upload"):
            digest = hashlib.sha256()
            size = 0
            async for chunk in request.content.iter_chunked(256 * 1024):
                digest.update(chunk)
                size += len(chunk)
            return web.json_response(
                {"served_by": name, "bytes": size, "sha256": digest.hexdigest()}, headers=served
            )
        if path.endswith("/download"):
            total = int(request.query.get("bytes", "0"))
            response = web.StreamResponse(headers=served)
            response.content_length = total
            await response.prepare(request)
            block = b"x" * (256 * 1024)
            sent = 0
            while sent < total:
                piece = block[: min(len(block), total - sent)]
                await response.write(piece)
                sent += len(piece)
            await response.write_eof()
            return response
        if path.endswith("/hop"):
            headers = {
                **served,
                "Connection": "keep-alive, X-Upstream-Secret",
                "Keep-Alive": "timeout=5",
                "X-Upstream-Secret": "internal",
                "Access-Control-Allow-Origin": "*",
            }
            return web.json_response({"served_by": name}, headers=headers)
        body = {
            "served_by": name,
            "method": request.method,
            "path": request.raw_path,
            "headers": {k.lower(): v for k, v in request.headers.items()},
        }
        return web.json_response(body, headers=served)

    return web.Server(handle, access_log=None)


async def main(names: list[str]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runners = []
    ports: dict[str, int] = {}
    for name in names:
        runner = web.ServerRunner(make_handler(name), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ports[name] = runner.addresses[0][1]
        runners.append(runner)
    sys.stdout.write(json.dumps(ports) + "\n")
    sys.stdout.flush()
    await stop.wait()
    for runner in runners:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
