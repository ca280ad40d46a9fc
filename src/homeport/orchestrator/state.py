"""The state directory: endpoints, the control API's address and token, the PIDs of children.

Those files let the CLI find a detached supervisor, and let the next ``up`` find the children of
a supervisor that was killed (SIGKILL gives it no chance to clean up) and stop them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeport.endpoints import STATE_FILE
from homeport.orchestrator.environment import endpoints_json
from homeport.orchestrator.errors import AlreadyRunning
from homeport.orchestrator.ports import Endpoint
from homeport.orchestrator.process import is_alive, is_same_process, kill_group_now, start_time

ENDPOINTS = STATE_FILE
CONTROL = "control.json"
PIDS = "pids.json"
FAILURE = "failure.json"


def write_json(path: Path, data: Any, mode: int = 0o644) -> None:
    """Write JSON atomically (readers never see half a file) with the given mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_endpoints(state_dir: Path, endpoints: Mapping[str, Endpoint]) -> None:
    """``endpoints.json``: ``{"services": {...}}`` as in HOMEPORT_ENDPOINTS."""
    write_json(state_dir / ENDPOINTS, {"services": json.loads(endpoints_json(endpoints))})


@dataclass(frozen=True)
class ControlInfo:
    """Where a supervisor's control API listens, its token, its PID."""

    url: str
    token: str
    pid: int

    def as_dict(self) -> dict[str, object]:
        """JSON form (``control.json``)."""
        return {"url": self.url, "token": self.token, "pid": self.pid}


def write_control(state_dir: Path, info: ControlInfo) -> None:
    """``control.json``, readable by its owner only: it holds the token."""
    write_json(state_dir / CONTROL, info.as_dict(), mode=0o600)


def read_control(state_dir: Path) -> ControlInfo | None:
    """The control file of this state dir, if there is one."""
    data = read_json(state_dir / CONTROL)
    if not isinstance(data, dict):
        return None
    try:
        return ControlInfo(str(data["url"]), str(data["token"]), int(data["pid"]))
    except (KeyError, TypeError, ValueError):
        return None


def supervisor_alive(info: ControlInfo | None) -> bool:
    """Whether the supervisor named in control.json still runs."""
    return info is not None and is_alive(info.pid) and info.pid != os.getpid()


class PidRegistry:
    """``pids.json``: the supervisor and each child's PID and start time, rewritten on change."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / PIDS
        self.children: dict[str, dict[str, Any]] = {}
        self.containers: dict[str, dict[str, str]] = {}

    def add(self, name: str, pid: int) -> None:
        """Record a child that was just started."""
        self.children[name] = {"pid": pid, "start_time": start_time(pid)}
        self._save()

    def add_container(self, name: str, container: str, engine: str) -> None:
        """Record a container, removed by name if the supervisor dies."""
        self.containers[name] = {"container": container, "engine": engine}
        self._save()

    def remove(self, name: str) -> None:
        """Forget a child that exited."""
        self.children.pop(name, None)
        self.containers.pop(name, None)
        self._save()

    def clear(self) -> None:
        """Remove the file: everything was stopped."""
        self.children.clear()
        self.containers.clear()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _save(self) -> None:
        write_json(
            self.path,
            {
                "supervisor": {"pid": os.getpid(), "start_time": start_time(os.getpid())},
                "children": self.children,
                "containers": self.containers,
            },
        )


@dataclass(frozen=True)
class Leftover:
    """A process (or container) a dead supervisor left behind, and that was stopped."""

    service: str
    pid: int | None
    container: str | None = None


def reap_leftovers(state_dir: Path) -> list[Leftover]:
    """Stop what a supervisor that died left running; raise AlreadyRunning if it still lives."""
    control = read_control(state_dir)
    if supervisor_alive(control) and control is not None:
        raise AlreadyRunning(
            f"homeport up is already running for this platform (supervisor pid {control.pid}); "
            "use 'homeport status' to see it or 'homeport down' to stop it"
        )
    data = read_json(state_dir / PIDS)
    stopped: list[Leftover] = []
    if isinstance(data, dict):
        supervisor = data.get("supervisor") or {}
        pid = supervisor.get("pid")
        if (
            isinstance(pid, int)
            and pid != os.getpid()
            and is_same_process(pid, supervisor.get("start_time"))
        ):
            raise AlreadyRunning(
                f"homeport up is already running for this platform (supervisor pid {pid}); "
                "use 'homeport down' to stop it"
            )
        for name, child in (data.get("children") or {}).items():
            child_pid = child.get("pid")
            if isinstance(child_pid, int) and is_same_process(child_pid, child.get("start_time")):
                kill_group_now(child_pid)
                stopped.append(Leftover(name, child_pid))
        for name, box in (data.get("containers") or {}).items():
            if _remove_container(box.get("engine", "docker"), box.get("container", "")):
                stopped.append(Leftover(name, None, box.get("container")))
    for stale in (PIDS, CONTROL):
        with contextlib.suppress(FileNotFoundError):
            (state_dir / stale).unlink()
    return stopped


def _remove_container(engine: str, container: str) -> bool:
    import subprocess  # noqa: PLC0415 - only when a dead supervisor left containers

    if not container:
        return False
    done = subprocess.run(
        [engine, "rm", "-f", container], capture_output=True, check=False, timeout=30
    )
    return done.returncode == 0 and bool(done.stdout.strip())
