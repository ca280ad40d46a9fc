"""Containers on a real engine (a private dockerd): env, health, logs, restart, stop, cleanup."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.dockerd import Dockerd, start_dockerd
from tests.support.orchestrator import kill_leftovers, run_session, write_platform

from homeport.orchestrator.session import Session, UpOptions
from homeport.orchestrator.supervisor import Hub


@pytest.fixture(scope="module")
def dockerd() -> Iterator[Dockerd]:
    """One dockerd for this module, stopped by PID at the end."""
    daemon = start_dockerd()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def platform_dir(
    tmp_path: Path, dockerd: Dockerd, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A platform dir whose engine is the private dockerd; no process or container may remain."""
    monkeypatch.setenv("DOCKER_HOST", dockerd.host)
    yield tmp_path
    left = list(kill_leftovers(tmp_path / ".homeport"))
    assert left == [], f"processes left behind: {left}"
    assert dockerd.docker("ps", "-aq").stdout.split() == []


def test_a_container_runs_like_an_executable(dockerd: Dockerd, platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        f"""
        api: {{run: python svc.py, health: /healthz, env: {{DELAY: "2"}}}}
        box:
          kind: container
          image: {dockerd.image}
          run:
            - /bin/busybox
            - sh
            - -c
            - echo hello from $HOMEPORT_SERVICE api=$API; exec busybox httpd -f -p 127.0.0.1:$PORT
          env: {{API: "{{api.url}}"}}
          health: {{tcp: true}}
          liveness: {{exec: ["/bin/busybox", "true"], interval: 0.5}}
          stop_grace: 2s
          wait_for: [api]
        after: {{run: python svc.py, health: /healthz, wait_for: [box]}}
        """,
    )

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        api_port = hub.runtimes["api"].spec.endpoint.port
        lines = [line.text for line in hub.book.tail("box")]
        assert f"hello from box api=http://127.0.0.1:{api_port}" in lines
        events = [(e.service, e.what) for e in hub.events]
        # The image is prepared at the very start, while box still waits for api.
        assert events.index(("box", "prepared")) < events.index(("api", "healthy"))
        assert len(dockerd.docker("ps", "-q").stdout.split()) == 1

        after_pid = hub.runtimes["after"].status.pid
        await hub.restart("box")
        await hub.wait_for("box", lambda s: s.restarts == 1 and s.settled, 30)
        after = await hub.wait_for("after", lambda s: s.settled and s.pid != after_pid, 30)
        assert after.started_at >= hub.runtimes["box"].status.healthy_at  # type: ignore[operator]

        await hub.stop("box")
        await hub.wait_for("box", lambda s: s.state == "stopped", 30)
        assert dockerd.docker("ps", "-q").stdout.split() == []
        assert hub.runtimes["after"].status.waiting_on == ["box"]

    run_session(loaded, body, UpOptions(engine="docker"))


def test_no_engine_is_a_clear_failure(platform_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("podman"):
        pytest.skip("podman is installed here")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    loaded = write_platform(platform_dir, "box: {kind: container, image: anything}")

    async def body(hub: Hub, session: Session) -> str:
        try:
            await session.wait_until_up()
        except Exception as exc:
            return str(exc)
        return ""

    message = run_session(loaded, body)
    assert message.startswith(
        "service 'box' failed: no container engine for the container services"
    )
    assert "docker does not answer" in message and "--engine" in message
