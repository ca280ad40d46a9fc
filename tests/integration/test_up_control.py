"""The control API through its typed client: a token is required, logs stream, commands act."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.orchestrator import kill_leftovers, run_session, write_platform

from homeport.orchestrator.control_client import ControlClient
from homeport.orchestrator.errors import OrchestratorError
from homeport.orchestrator.session import Session
from homeport.orchestrator.state import read_control
from homeport.orchestrator.supervisor import Hub


@pytest.fixture
def platform_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory for one platform; after the test, nothing it started may still run."""
    yield tmp_path
    assert list(kill_leftovers(tmp_path / ".homeport")) == []


def test_the_control_api_needs_the_token_and_serves_the_contract(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        api: {run: python svc.py, health: /healthz}
        web: {run: python svc.py, health: /healthz, wait_for: [api]}
        """,
    )

    def client_side(state_dir: Path) -> None:
        info = read_control(state_dir)
        assert info is not None
        denied = httpx.get(f"{info.url}/api/resources", headers={"Authorization": "Bearer no"})
        assert denied.status_code == 401
        with ControlClient(info) as client:
            rows = client.resources()
            assert [r["name"] for r in rows] == ["api", "web"]
            assert set(rows[0]) >= {
                "name", "kind", "state", "health", "port", "url", "restarts",
                "waiting_on", "pid", "started_at", "healthy_at",
            }  # fmt: skip
            assert client.graph()["edges"] == [{"from": "web", "to": "api", "condition": "healthy"}]
            assert [c["name"] for c in client.timing()["chain"]] == ["web", "api"]
            assert client.status()["phase"] == "up"
            lines = list(itertools.islice(client.follow("api", tail=5), 2))
            assert [line["text"] for line in lines][-1] == "listening"
            with pytest.raises(OrchestratorError, match="no resource named 'nope'"):
                client.command("nope", "restart")
            stopped = client.command("web", "stop")
            assert stopped["resource"]["state"] == "stopped"
            started = client.command("web", "start")
            assert started["ok"] and started["resource"]["health"] == "healthy"

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        await asyncio.to_thread(client_side, session.state_dir)

    run_session(loaded, body)
