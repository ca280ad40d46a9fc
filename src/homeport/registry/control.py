"""How ``homeport registry gc`` switches a registry read-only and back.

Collecting while a push runs can delete the blobs of the image being pushed, so gc needs the
registry read-only for the duration. Only whoever runs the registry can restart it, so that is
a seam with two implementations:

* :class:`CommandControl`, for a registry given by ``--url`` and ``--config``: homeport edits
  ``storage.maintenance.readonly`` in the registry's own config file (restoring the original
  bytes afterwards) and runs the user's ``--restart-cmd`` (``systemctl restart docker-registry``,
  ``docker restart registry``...), then waits until the registry answers again;
* :class:`MarkerControl`, for a ``kind: registry`` service of ``homeport up``: a marker file in
  the service's state directory asks its launcher to render the config read-only at the next
  start, and the supervisor's control API restarts it;
* :class:`CallableControl`, for any other owner that restarts the registry itself (tests, an
  embedding program): it passes ``restart(readonly)``, which re-renders the config
  (:func:`homeport.registry.server.render_config`) and restarts its own process.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import yaml

from homeport.registry.client import RegistryClient
from homeport.registry.errors import GcError, RegistryError


class RegistryControl(Protocol):
    """Restarts a registry with writes off or on; returns once it serves again."""

    def set_readonly(self, readonly: bool) -> None:
        """Restart the registry read-only (True) or writable (False)."""


class CallableControl:
    """A control over a registry whose owner restarts it through ``restart(readonly)``."""

    def __init__(self, restart: Callable[[bool], None]) -> None:
        self._restart = restart

    def set_readonly(self, readonly: bool) -> None:
        """Call the owner's restart function."""
        self._restart(readonly)


class CommandControl:
    """Toggle ``storage.maintenance.readonly`` in ``config`` and run ``restart_cmd``."""

    def __init__(
        self, config: Path, restart_cmd: str, client: RegistryClient, timeout: float = 60.0
    ) -> None:
        self.config = config
        self.restart_cmd = restart_cmd
        self.client = client
        self.timeout = timeout
        self._original: bytes | None = None

    def set_readonly(self, readonly: bool) -> None:
        """Write the flag (or restore the original file), restart, wait for the registry."""
        if readonly:
            self._original = self.config.read_bytes()
            _write_atomically(self.config, with_readonly(self._original, True))
        elif self._original is not None:
            _write_atomically(self.config, self._original)
            self._original = None
        done = subprocess.run(
            ["sh", "-c", self.restart_cmd],
            check=False,
            capture_output=True,
            text=True,
            timeout=self.timeout,
        )
        if done.returncode != 0:
            raise GcError(
                f"--restart-cmd {self.restart_cmd!r} exited {done.returncode}: "
                f"{(done.stderr or done.stdout).strip()[-300:]}; fix the command and run gc again"
            )
        wait_until_serving(self.client, self.timeout)


class MarkerControl:
    """For a registry ``homeport up`` runs: a marker file asks its launcher to render the config
    read-only (:class:`homeport.registry.server.ManagedPaths`); ``restart`` restarts the
    service through the supervisor's control API."""

    def __init__(
        self,
        marker: Path,
        restart: Callable[[], object],
        client: RegistryClient,
        timeout: float = 60,
    ) -> None:
        self.marker = marker
        self.restart = restart
        self.client = client
        self.timeout = timeout

    def set_readonly(self, readonly: bool) -> None:
        """Create or remove the marker, restart the service, wait until it serves."""
        if readonly:
            self.marker.parent.mkdir(parents=True, exist_ok=True)
            self.marker.touch()
        else:
            self.marker.unlink(missing_ok=True)
        self.restart()
        wait_until_serving(self.client, self.timeout)


def with_readonly(config_text: bytes, readonly: bool) -> bytes:
    """The registry config with ``storage.maintenance.readonly.enabled`` set to ``readonly``."""
    document: Any = yaml.safe_load(config_text) or {}
    if not isinstance(document, dict) or not isinstance(document.get("storage"), dict):
        raise GcError("the registry config has no storage section; is --config the right file?")
    maintenance = document["storage"].setdefault("maintenance", {}) or {}
    document["storage"]["maintenance"] = maintenance
    maintenance["readonly"] = {"enabled": readonly}
    return yaml.safe_dump(document, sort_keys=False).encode()


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.homeport")
    temporary.write_bytes(data)
    temporary.chmod(path.stat().st_mode & 0o777)
    temporary.replace(path)


def wait_until_serving(client: RegistryClient, timeout: float = 60.0) -> None:
    """Poll ``GET /v2/`` until it answers, or raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client.ping()
            return
        except RegistryError as exc:
            last = exc
            time.sleep(0.05)
    raise GcError(f"the registry did not come back within {timeout:.0f}s after restart: {last}")
