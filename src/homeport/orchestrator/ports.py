"""Ports: from the OS by default, fixed when the file says so, and the endpoints they make."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from homeport.model.services import Service
from homeport.orchestrator.errors import PortInUse

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Endpoint:
    """Where a service listens, and the URL other services use to reach it."""

    host: str
    port: int
    url: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (the HOMEPORT_ENDPOINTS contract)."""
        return asdict(self)


def url_for(kind: str, port: int) -> str:
    """The URL of a service of ``kind`` on ``port`` (postgres has no database in it)."""
    if kind == "postgres":
        return f"postgresql://postgres@{HOST}:{port}"
    if kind == "redis":
        return f"redis://{HOST}:{port}"
    return f"http://{HOST}:{port}"


def free_port(taken: set[int] | None = None) -> int:
    """A port free on 127.0.0.1 now, below the kernel's ephemeral range when it can be.

    Ports handed out by ``bind(0)`` come from the ephemeral range, which is also where every
    outgoing connection (health checks included) takes its local port: a port allocated at the
    start and bound seconds later by a service that waited could be gone by then.
    """
    low = _ephemeral_low()
    pool = range(max(1024, low - 12000), low)
    tries = 64 if len(pool) > 1000 else 0
    for candidate in (random.choice(pool) for _ in range(tries)):
        if candidate not in (taken or set()) and _bindable(candidate):
            return candidate
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    """Bindable without SO_REUSEADDR (what a service that binds it will need)."""
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:port can be bound now (TIME_WAIT leftovers do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def allocate(
    services: Mapping[str, Service],
    names: Iterable[str],
    where: Callable[[str], str] = lambda _name: "",
    previous: Mapping[str, int] | None = None,
) -> dict[str, Endpoint]:
    """An endpoint for each named service; raise PortInUse naming the service and the port.

    ``previous`` keeps the ports a service had before (a restart), so clients need not relearn.
    """
    endpoints: dict[str, Endpoint] = {}
    for name in names:
        service = services[name]
        if service.port is not None:
            if not port_is_free(service.port):
                raise PortInUse(name, service.port, where(name))
            port = service.port
        else:
            taken = {e.port for e in endpoints.values()}
            port = (previous or {}).get(name) or free_port(taken)
        endpoints[name] = Endpoint(HOST, port, url_for(service.kind, port))
    return endpoints
