"""Ports: from the OS by default, fixed when the file says so, and the endpoints they make."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass

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


def free_port() -> int:
    """A port the OS says is free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


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
            port = (previous or {}).get(name) or free_port()
        endpoints[name] = Endpoint(HOST, port, url_for(service.kind, port))
    return endpoints
