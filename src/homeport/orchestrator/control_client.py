"""A small typed client of the control API, for the CLI and the dashboard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from homeport.orchestrator.errors import NotRunning, OrchestratorError
from homeport.orchestrator.state import ControlInfo, read_control, supervisor_alive


class ControlClient:
    """Talks to the supervisor that runs one platform (found through its state dir)."""

    def __init__(self, info: ControlInfo, timeout: float = 10.0) -> None:
        self.info = info
        self._http = httpx.Client(
            base_url=info.url,
            headers={"Authorization": f"Bearer {info.token}"},
            timeout=timeout,
        )

    @classmethod
    def for_state_dir(cls, state_dir: Path) -> ControlClient:
        """The client of the supervisor recorded in ``state_dir``; raise NotRunning if none."""
        info = read_control(state_dir)
        if info is None or not supervisor_alive(info):
            raise NotRunning(
                "homeport up is not running for this platform "
                f"(no live supervisor in {state_dir}); start it with 'homeport up --detach'"
            )
        return cls(info)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise NotRunning(
                f"the supervisor (pid {self.info.pid}) does not answer at {self.info.url}: {exc}"
            ) from exc
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise OrchestratorError(str(message))
        return response.json()

    def resources(self) -> list[dict[str, Any]]:
        """Every resource's status (name, kind, state, health, port, url, restarts, ...)."""
        result: list[dict[str, Any]] = self._call("GET", "/api/resources")
        return result

    def status(self) -> dict[str, Any]:
        """The supervisor's phase (starting, up, failed, stopping) and failure, if any."""
        result: dict[str, Any] = self._call("GET", "/api/status")
        return result

    def graph(self) -> dict[str, Any]:
        """Nodes and waits."""
        result: dict[str, Any] = self._call("GET", "/api/graph")
        return result

    def timing(self) -> dict[str, Any]:
        """Start and ready times, and the critical chain."""
        result: dict[str, Any] = self._call("GET", "/api/timing")
        return result

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        """Events with a sequence number above ``after``."""
        result: list[dict[str, Any]] = self._call("GET", "/api/events", params={"after": after})
        return result

    def logs(self, service: str | None = None, tail: int = 100) -> list[dict[str, Any]]:
        """The last ``tail`` log lines of one service or of all."""
        params: dict[str, Any] = {"tail": tail}
        if service:
            params["service"] = service
        result: dict[str, Any] = self._call("GET", "/api/logs", params=params)
        lines: list[dict[str, Any]] = result["lines"]
        return lines

    def follow(self, service: str | None = None, tail: int = 100) -> Iterator[dict[str, Any]]:
        """Recent lines, then each new line as it is written, until the supervisor stops."""
        params: dict[str, Any] = {"tail": tail, "follow": 1}
        if service:
            params["service"] = service
        try:
            with self._http.stream("GET", "/api/logs", params=params, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    raise OrchestratorError(str(response.json().get("error", response.text)))
                for raw in response.iter_lines():
                    if raw:
                        yield json.loads(raw)
        except httpx.HTTPError:
            return

    def command(self, name: str, action: str, wait: bool = True) -> dict[str, Any]:
        """restart, stop or start one resource; with ``wait``, until it is done."""
        params = {"wait": 1} if wait else {}
        result: dict[str, Any] = self._call(
            "POST", f"/api/resources/{name}/{action}", params=params, timeout=150.0
        )
        return result

    def down(self) -> None:
        """Ask the supervisor to stop everything and exit."""
        self._call("POST", "/api/down")
