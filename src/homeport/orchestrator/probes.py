"""Health checks: http, tcp, exec and log, each one async call that says ok or why not.

``until_healthy`` polls a check quickly while a resource starts (the time to healthy is what
``up`` is judged on), ``Watcher`` polls at the probe's interval afterwards with its thresholds.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeport.model.services import Probe
from homeport.orchestrator.logs import LogBook

STARTUP_POLL = 0.05


@dataclass(frozen=True)
class Outcome:
    """The result of one check: ok, or the reason it is not."""

    ok: bool
    detail: str = ""


Check = Callable[[], Awaitable[Outcome]]


async def _connect(host: str, port: int) -> socket.socket:
    """A connected non-blocking socket (no transport or stream objects: cheap when idle)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
    except BaseException:
        sock.close()
        raise
    return sock


async def check_http(host: str, port: int, path: str, status: int, timeout: float) -> Outcome:
    """GET ``path`` and compare the status code (a tiny HTTP/1.0 client: cheap when idle)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            sock = await _connect(host, port)
            with sock:
                request = (
                    f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nUser-Agent: homeport\r\n\r\n"
                )
                await loop.sock_sendall(sock, request.encode())
                first = b""
                while b"\n" not in first and len(first) < 4096:
                    chunk = await loop.sock_recv(sock, 1024)
                    if not chunk:
                        break
                    first += chunk
    except TimeoutError:
        return Outcome(False, f"GET {path} timed out after {timeout:g}s")
    except ConnectionRefusedError:
        return Outcome(False, f"GET {path}: nothing listens on port {port}")
    except OSError as exc:
        return Outcome(False, f"GET {path}: {exc.strerror or exc}")
    parts = first.split(b"\n", 1)[0].decode("latin-1").split()
    if len(parts) < 2 or not parts[1].isdigit():
        return Outcome(False, f"GET {path}: not an HTTP response")
    code = int(parts[1])
    return Outcome(code == status, f"GET {path} answered {code}, expected {status}")


async def check_tcp(host: str, port: int, timeout: float) -> Outcome:
    """Whether the port accepts a TCP connection."""
    try:
        async with asyncio.timeout(timeout):
            sock = await _connect(host, port)
            sock.close()
    except TimeoutError:
        return Outcome(False, f"TCP connect to {port} timed out")
    except ConnectionRefusedError:
        return Outcome(False, f"nothing listens on port {port}")
    except OSError as exc:
        return Outcome(False, f"TCP connect to {port}: {exc.strerror or exc}")
    return Outcome(True)


async def check_exec(
    argv: list[str], timeout: float, env: dict[str, str] | None = None, cwd: str | None = None
) -> Outcome:
    """Run a command; healthy when it exits 0 within the timeout."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )
    except OSError as exc:
        return Outcome(False, f"cannot run {argv[0]}: {exc.strerror or exc}")
    try:
        async with asyncio.timeout(timeout):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return Outcome(False, f"{argv[0]} took longer than {timeout:g}s")
    except asyncio.CancelledError:
        process.kill()
        await process.wait()
        raise
    if process.returncode == 0:
        return Outcome(True)
    last = output.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    return Outcome(False, f"{argv[0]} exited with {process.returncode} {last[0]}".strip())


def log_check(book: LogBook, service: str, pattern: str, since: Callable[[], float]) -> Check:
    """Healthy once a line written since the latest start matches ``pattern``."""
    regex = re.compile(pattern)

    async def check() -> Outcome:
        start = since()
        for line in reversed(book.recent(service)):
            if line.ts < start:
                break
            if line.stream != "homeport" and regex.search(line.text):
                return Outcome(True)
        return Outcome(False, f"no log line matched /{pattern}/ yet")

    return check


def network_check(
    probe: Probe,
    host: str,
    port: int,
    run_exec: Callable[[list[str], float], Awaitable[Outcome]],
) -> Check:
    """The check for an http, tcp or exec probe (log probes need the book: ``log_check``)."""
    if probe.http is not None:
        path = probe.http
        return lambda: check_http(host, port, path, probe.status, probe.timeout)
    if probe.tcp:
        return lambda: check_tcp(host, port, probe.timeout)
    if probe.exec is not None:
        argv = list(probe.exec)
        return lambda: run_exec(argv, probe.timeout)
    raise ValueError("log probes are built with log_check")


async def until_healthy(
    check: Check, probe: Probe, deadline: float, poke: asyncio.Event | None = None
) -> Outcome:
    """Poll ``check`` fast until ``success_threshold`` passes in a row, or return the last failure.

    Polls every 50 ms (or the probe's interval if shorter), and at once whenever ``poke`` is set
    (the resource wrote a line): the delay between a service being ready and homeport noticing
    adds to every link of a dependency chain.
    """
    if probe.initial_delay:
        await asyncio.sleep(min(probe.initial_delay, max(0.0, deadline - time.monotonic())))
    cadence = min(probe.interval, STARTUP_POLL)
    passes = 0
    last = Outcome(False, "not checked yet")
    first = True
    while first or time.monotonic() < deadline:
        first = False
        if poke is not None:
            poke.clear()
        last = await check()
        passes = passes + 1 if last.ok else 0
        if passes >= probe.success_threshold:
            return last
        if poke is None:
            await asyncio.sleep(cadence)
            continue
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(cadence):
                await poke.wait()
    return Outcome(False, last.detail)


class Watcher:
    """Polls a running resource at the probe's interval; reports changes of health."""

    def __init__(
        self, check: Check, probe: Probe, on_change: Callable[[bool, str], Awaitable[None]]
    ) -> None:
        self.check = check
        self.probe = probe
        self.on_change = on_change
        self.healthy = True

    async def run(self) -> None:
        """Forever: flip to unhealthy after failure_threshold, back after success_threshold."""
        failures = passes = 0
        while True:
            # On a shared grid: every watcher with this interval wakes in the same loop turn,
            # so 36 checks cost one wake-up a second, not 36.
            interval = self.probe.interval
            await asyncio.sleep(interval - time.monotonic() % interval)
            outcome = await self.check()
            if outcome.ok:
                failures, passes = 0, passes + 1
                if not self.healthy and passes >= self.probe.success_threshold:
                    self.healthy = True
                    await self.on_change(True, "")
            else:
                failures, passes = failures + 1, 0
                if self.healthy and failures >= self.probe.failure_threshold:
                    self.healthy = False
                    await self.on_change(False, outcome.detail)
