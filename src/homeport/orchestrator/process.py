"""Child processes: their own process group, a parent-death signal, and stopping the group."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import functools
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1
_libc: ctypes.CDLL | None = None


def _parent_death_signal(sig: int) -> Callable[[], None]:
    """A preexec function: the kernel sends ``sig`` to the child when the supervisor dies."""

    libc = _libc

    def arm() -> None:
        if libc is not None:
            libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return arm


def load_libc() -> None:
    """Load libc before forking (doing it in the child is not async-signal-safe)."""
    global _libc  # noqa: PLW0603
    if _libc is None:
        with contextlib.suppress(OSError):
            _libc = ctypes.CDLL(None, use_errno=True)


async def spawn(
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    death_signal: int = signal.SIGTERM,
    user: str | None = None,
) -> asyncio.subprocess.Process:
    """Start ``argv`` in a new session (its own process group) with piped output.

    The parent-death signal is set by util-linux's ``setpriv`` when it is there (the supervisor
    then forks with vfork: ~3 ms instead of ~18 ms for a full fork of a large process), else by a
    preexec function. Raises OSError when the program cannot be run.
    """
    if shutil.which(argv[0], path=env.get("PATH")) is None and not os.path.exists(argv[0]):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", argv[0])
    preexec: Callable[[], None] | None = None
    setpriv = _setpriv()
    if user is None and setpriv is not None:
        name = signal.Signals(death_signal).name.removeprefix("SIG")
        argv = [setpriv, "--pdeathsig", name, "--", *argv]
    else:
        load_libc()
        preexec = _parent_death_signal(death_signal)
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=str(cwd),
        start_new_session=True,
        preexec_fn=preexec,
        user=user,
        limit=1 << 20,
    )


@functools.cache
def _setpriv() -> str | None:
    return shutil.which("setpriv")


def signal_group(pid: int, sig: int, whole_group: bool = True) -> None:
    """Send ``sig`` to the process group led by ``pid`` (or to ``pid`` alone); ignore the gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if whole_group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


async def terminate(
    process: asyncio.subprocess.Process,
    grace: float,
    stop_signal: int = signal.SIGTERM,
    whole_group: bool = True,
) -> int | None:
    """TERM (or ``stop_signal``), wait up to ``grace`` seconds, KILL; then KILL what is left of
    the group, so that no grandchild survives. Returns the exit code."""
    if process.returncode is None:
        signal_group(process.pid, stop_signal, whole_group)
        try:
            async with asyncio.timeout(max(grace, 0.0)):
                await process.wait()
        except TimeoutError:
            signal_group(process.pid, signal.SIGKILL)
            await process.wait()
    signal_group(process.pid, signal.SIGKILL)
    return process.returncode


def start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), to tell a PID reused apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


def is_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent to reap it does not)."""
    return _state(pid) not in ("", "Z", "X")


def is_same_process(pid: int, started: int | None) -> bool:
    """Whether ``pid`` is alive and is the process that had start time ``started``."""
    now = start_time(pid)
    return now is not None and (started is None or now == started) and is_alive(pid)


def kill_group_now(pid: int, timeout: float = 2.0) -> None:
    """KILL a process group and wait until its leader is gone (for orphans of a dead supervisor)."""
    signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_alive(pid):
        time.sleep(0.02)


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2 :].split()[0]
