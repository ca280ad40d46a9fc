"""The orchestrator's errors, each with a message a user can act on.

HomeportError
└── OrchestratorError          homeport up and the commands that talk to its supervisor
    ├── PortInUse              a fixed port is taken by something else
    ├── ResourceFailed         a resource exited while starting or never became healthy
    ├── AlreadyRunning         a supervisor already runs this platform
    ├── NotRunning             no supervisor runs this platform
    └── EngineError            no container engine, or an image that cannot be prepared
"""

from __future__ import annotations

from homeport.errors import HomeportError


class OrchestratorError(HomeportError):
    """Something ``homeport up`` or its supervisor could not do."""


class PortInUse(OrchestratorError):
    """A service's fixed port is already taken on 127.0.0.1."""

    def __init__(self, service: str, port: int, where: str = "") -> None:
        self.service = service
        self.port = port
        place = f" ({where})" if where else ""
        super().__init__(
            f"port {port} of service '{service}' is already in use on 127.0.0.1{place}; "
            "stop what holds it, or change or remove the service's 'port'"
        )


class ResourceFailed(OrchestratorError):
    """A resource failed while ``up`` was starting the platform."""

    def __init__(self, service: str, reason: str, log_tail: list[str]) -> None:
        self.service = service
        self.reason = reason
        self.log_tail = log_tail
        lines = [f"service '{service}' failed: {reason}"]
        if log_tail:
            lines.append(f"last {len(log_tail)} log lines of '{service}':")
            lines.extend(f"  {line}" for line in log_tail)
        else:
            lines.append(f"'{service}' wrote nothing to stdout or stderr")
        super().__init__("\n".join(lines))


class AlreadyRunning(OrchestratorError):
    """A live supervisor already runs this platform."""


class NotRunning(OrchestratorError):
    """No supervisor runs this platform (nothing to ask)."""


class EngineError(OrchestratorError):
    """The container engine is missing or refused to prepare or run something."""
