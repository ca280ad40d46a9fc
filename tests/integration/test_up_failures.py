"""homeport up when things go wrong: crash loops, restarts that re-gate, ports, health never met."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.orchestrator import kill_leftovers, run_session, write_platform

from homeport.orchestrator.errors import PortInUse, ResourceFailed
from homeport.orchestrator.session import Session, UpOptions
from homeport.orchestrator.status import Status
from homeport.orchestrator.supervisor import Hub


@pytest.fixture
def platform_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory for one platform; after the test, nothing it started may still run."""
    yield tmp_path
    left = list(kill_leftovers(tmp_path / ".homeport"))
    assert left == [], f"processes left behind: {left}"


def _starts(hub: Hub, name: str) -> list[float]:
    return [e.ts for e in hub.events if e.service == name and e.what == "started"]


def test_a_crash_looping_service_backs_off_exponentially_then_fails_up(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        flaky:
          run: python svc.py
          env: {MODE: crash}
          health: /healthz
          restart: {policy: on-failure, backoff: 0.1, max_backoff: 0.4, max_restarts: 4}
        """,
    )

    async def body(hub: Hub, session: Session) -> tuple[list[float], list[float], ResourceFailed]:
        with pytest.raises(ResourceFailed) as caught:
            await session.wait_until_up()
        crashes = [e.ts for e in hub.events if (e.service, e.what) == ("flaky", "backoff")]
        return _starts(hub, "flaky"), crashes, caught.value

    starts, crashes, failure = run_session(loaded, body)
    assert len(starts) == 5 and len(crashes) == 4
    # Each wait between a crash and the next start doubles, up to max_backoff.
    waits = [start - crash for crash, start in zip(crashes, starts[1:], strict=True)]
    for waited, backoff in zip(waits, [0.1, 0.2, 0.4, 0.4], strict=True):
        assert backoff <= waited < backoff + 1.0, waits
    assert "exited with code 3 while starting after 4 restarts" in str(failure)
    assert "crashing now" in str(failure)


def test_dependents_are_regated_when_their_dependency_crashes_and_restarts(
    platform_dir: Path,
) -> None:
    loaded = write_platform(
        platform_dir,
        """
        db:
          run: python svc.py
          health: {http: /healthz, interval: 0.1}
          env: {DELAY: "0.3"}
          restart: {policy: always, backoff: 0.1}
        api: {run: python svc.py, health: /healthz, wait_for: [db]}
        worker: {run: python svc.py, env: {MODE: sleep}, wait_for: [api]}
        """,
    )

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        api_pid = hub.runtimes["api"].status.pid
        worker_pid = hub.runtimes["worker"].status.pid
        os.kill(hub.runtimes["db"].status.pid or 0, signal.SIGKILL)
        await hub.wait_for("db", lambda s: s.restarts == 1 and s.settled, 20)
        api = await hub.wait_for("api", lambda s: s.settled and s.pid != api_pid, 20)
        worker = await hub.wait_for("worker", lambda s: s.settled and s.pid != worker_pid, 20)
        db = hub.runtimes["db"].status
        assert api.started_at >= db.healthy_at  # type: ignore[operator]
        assert worker.started_at >= api.healthy_at  # type: ignore[operator]
        assert [e.what for e in hub.events if e.service == "api"][-3:] == [
            "regate",
            "started",
            "healthy",
        ]

    run_session(loaded, body)


def test_restart_command_stops_dependents_first_and_starts_them_after(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        db: {run: python svc.py, health: /healthz, env: {DELAY: "0.3"}}
        api: {run: python svc.py, health: /healthz, wait_for: [db]}
        """,
    )

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        await hub.restart("db")
        db = await hub.wait_for("db", lambda s: s.restarts == 1 and s.settled, 20)
        api = await hub.wait_for("api", lambda s: s.settled and s.started_at > db.started_at, 20)  # type: ignore[operator]
        assert api.started_at >= db.healthy_at  # type: ignore[operator]
        assert api.restarts == 0  # waiting again is not a crash

    run_session(loaded, body)


def test_a_fixed_port_in_use_is_an_error_naming_the_service_and_port(platform_dir: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        loaded = write_platform(platform_dir, f"api: {{run: python svc.py, port: {port}}}")
        with pytest.raises(PortInUse) as caught:
            run_session(loaded, lambda hub, session: session.wait_until_up())
    message = str(caught.value)
    assert f"port {port} of service 'api' is already in use on 127.0.0.1" in message
    assert "homeport.yaml:3" in message
    assert not (platform_dir / ".homeport" / "pids.json").exists()


def test_a_service_that_never_becomes_healthy_fails_up_with_its_logs(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        api: {run: python svc.py, env: {MODE: unhealthy}, health: /healthz, startup_timeout: 3s}
        web: {run: python svc.py, wait_for: [api]}
        """,
    )

    async def body(hub: Hub, session: Session) -> tuple[ResourceFailed, Status]:
        with pytest.raises(ResourceFailed) as caught:
            await session.wait_until_up()
        return caught.value, hub.runtimes["web"].status

    failure, web = run_session(loaded, body)
    assert str(failure).splitlines()[0] == (
        "service 'api' failed: not healthy within 3s: GET /healthz answered 500, expected 200"
    )
    assert "listening" in str(failure)
    assert web.state == "blocked" and web.started_at is None


def test_keep_going_leaves_the_rest_running(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        bad: {run: python svc.py, env: {MODE: crash}, health: /healthz}
        good: {run: python svc.py, health: /healthz}
        """,
    )

    async def body(hub: Hub, session: Session) -> str:
        with pytest.raises(ResourceFailed):
            await session.wait_until_up()
        good = await hub.wait_for("good", lambda s: s.settled, 10)
        return good.state

    assert run_session(loaded, body, UpOptions(keep_going=True)) == "running"


def test_tcp_exec_and_log_probes_gate_health(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        tcp: {run: python svc.py, env: {DELAY: "0.3"}, health: {tcp: true}}
        exec: {run: python svc.py, health: {exec: "test -f ready.flag"}, env: {MODE: sleep}}
        log: {run: python svc.py, env: {MODE: sleep, DELAY: "0.3"}, health: {log: "ready to w.rk"}}
        """,
    )

    async def body(hub: Hub, session: Session) -> None:
        await asyncio.sleep(0.6)
        assert hub.runtimes["exec"].status.health == "starting"
        (platform_dir / "ready.flag").touch()
        await session.wait_until_up()
        for name in ("tcp", "log"):
            status = hub.runtimes[name].status
            assert status.healthy_at - status.started_at >= 0.3  # type: ignore[operator]

    run_session(loaded, body)


def test_a_failing_liveness_check_restarts_the_service(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        api:
          run: python svc.py
          health: /healthz
          liveness: {exec: "test ! -f sick.flag", interval: 0.1, failure_threshold: 2}
          restart: {policy: on-failure, backoff: 0.1}
        """,
    )

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        (platform_dir / "sick.flag").touch()
        await hub.wait_for("api", lambda s: s.restarts >= 1, 10)
        (platform_dir / "sick.flag").unlink()
        await hub.wait_for("api", lambda s: s.settled, 10)

    run_session(loaded, body)
