"""homeport up with real processes: the three wait conditions, parallel start, subsets, env."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.orchestrator import kill_leftovers, run_session, write_platform

from homeport.errors import ConfigError
from homeport.model import load_platform
from homeport.orchestrator.errors import ResourceFailed
from homeport.orchestrator.session import Session, UpOptions
from homeport.orchestrator.supervisor import Hub


@pytest.fixture
def platform_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory for one platform; after the test, nothing it started may still run."""
    yield tmp_path
    left = list(kill_leftovers(tmp_path / ".homeport"))
    assert left == [], f"processes left behind: {left}"


def _status(hub: Hub, name: str) -> dict[str, object]:
    return hub.runtimes[name].status.as_dict()


def test_wait_for_starts_a_service_only_once_its_dependency_is_healthy(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        api: {run: python svc.py, env: {DELAY: "0.6"}, health: /healthz}
        web: {run: python svc.py, health: /healthz, wait_for: [api]}
        """,
    )

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        api, web = _status(hub, "api"), _status(hub, "web")
        assert web["started_at"] >= api["healthy_at"]  # type: ignore[operator]
        assert api["healthy_at"] - api["started_at"] >= 0.6  # type: ignore[operator]

    run_session(loaded, body)


def test_wait_for_start_needs_the_process_running_not_healthy(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        api: {run: python svc.py, env: {DELAY: "1.0"}, health: /healthz}
        tailer: {run: python svc.py, env: {MODE: sleep}, wait_for_start: [api]}
        """,
    )

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        api, tailer = _status(hub, "api"), _status(hub, "tailer")
        assert api["started_at"] <= tailer["started_at"] < api["healthy_at"]  # type: ignore[operator]

    run_session(loaded, body)


def test_wait_for_completion_runs_a_step_to_exit_zero_first(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        migrate: {run: python svc.py, env: {MODE: oneshot, DELAY: "0.3"}}
        app: {run: python svc.py, health: /healthz, wait_for_completion: [migrate]}
        """,
    )

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        assert _status(hub, "migrate")["state"] == "completed"
        assert _status(hub, "migrate")["exit_code"] == 0
        migrate_done = next(
            e.ts for e in hub.events if (e.service, e.what) == ("migrate", "completed")
        )
        assert _status(hub, "app")["started_at"] >= migrate_done  # type: ignore[operator]

    run_session(loaded, body)


def test_a_step_that_fails_fails_up_and_its_dependents_never_start(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        migrate: {run: python svc.py, env: {MODE: oneshot, CODE: "4"}}
        app: {run: python svc.py, wait_for_completion: [migrate]}
        other: {run: python svc.py, env: {MODE: sleep}}
        """,
    )

    async def body(hub: Hub, session: Session) -> ResourceFailed:
        with pytest.raises(ResourceFailed) as caught:
            await session.wait_until_up()
        assert _status(hub, "app")["started_at"] is None
        return caught.value

    failure = run_session(loaded, body)
    message = str(failure)
    assert "service 'migrate' failed: exited with code 4 while starting" in message
    assert "step done" in message  # its last log lines come with the failure
    assert failure.service == "migrate"


def test_every_resource_whose_waits_are_met_starts_at_once(platform_dir: Path) -> None:
    names = [f"s{i}" for i in range(6)]
    services = "\n".join(
        f'{n}: {{run: python svc.py, env: {{DELAY: "0.8"}}, health: /healthz}}' for n in names
    )
    loaded = write_platform(
        platform_dir, services + "\nlast: {run: python svc.py, wait_for: [s0, s1, s2, s3, s4, s5]}"
    )

    async def body(hub: Hub, session: Session) -> float:
        return await session.wait_until_up()

    elapsed = run_session(loaded, body)
    assert elapsed < 0.8 * 3, f"six 0.8 s services took {elapsed:.2f}s: they were serialised"


def test_up_with_services_starts_those_and_what_they_need_only(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        db: {run: python svc.py, health: /healthz}
        api: {run: python svc.py, health: /healthz, wait_for: [db]}
        web: {run: python svc.py, wait_for: [api]}
        unrelated: {run: python svc.py}
        """,
    )

    async def body(hub: Hub, session: Session) -> list[str]:
        await session.wait_until_up()
        endpoints = json.loads((session.state_dir / "endpoints.json").read_text())
        assert sorted(endpoints["services"]) == ["api", "db"]
        return [s.name for s in hub.statuses()]

    assert run_session(loaded, body, UpOptions(services=("api",))) == ["db", "api"]


def test_children_get_ports_references_and_the_endpoints_of_all(platform_dir: Path) -> None:
    dump = platform_dir / "env.json"
    loaded = write_platform(
        platform_dir,
        f"""
        api: {{run: python svc.py, health: /healthz}}
        web:
          run: python svc.py
          health: /healthz
          wait_for: [api]
          env:
            DUMP_ENV: "{dump}"
            API_URL: "{{api.url}}/v1"
            API_PORT: "{{api.port}}"
            ME: "{{web.name}}"
        """,
    )

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        env = json.loads(dump.read_text())
        api_port = hub.runtimes["api"].spec.endpoint.port
        assert env["PORT"] == str(hub.runtimes["web"].spec.endpoint.port)
        assert env["HOST"] == "127.0.0.1"
        assert env["HOMEPORT_SERVICE"] == "web"
        assert env["API_URL"] == f"http://127.0.0.1:{api_port}/v1"
        assert env["API_PORT"] == str(api_port)
        assert env["ME"] == "web"
        assert env["HOMEPORT_STATE_DIR"] == str(session.state_dir)
        endpoints = json.loads(env["HOMEPORT_ENDPOINTS"])
        assert endpoints["api"] == {
            "host": "127.0.0.1",
            "port": api_port,
            "url": f"http://127.0.0.1:{api_port}",
        }
        written = json.loads((session.state_dir / "endpoints.json").read_text())
        assert written["services"] == endpoints
        control = session.state_dir / "control.json"
        assert stat.S_IMODE(control.stat().st_mode) == 0o600
        assert json.loads(control.read_text())["url"].startswith("http://127.0.0.1:")

    run_session(loaded, body)


def test_output_is_kept_line_by_line_with_timestamps_in_memory_and_files(
    platform_dir: Path,
) -> None:
    loaded = write_platform(platform_dir, "api: {run: python svc.py, health: /healthz}")

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        texts = [line.text for line in hub.book.tail("api") if line.stream == "stdout"]
        assert texts[:2] == [
            f"booting api on {hub.runtimes['api'].spec.endpoint.port}",
            "listening",
        ]

    run_session(loaded, body)
    written = (platform_dir / ".homeport" / "logs" / "api.log").read_text().splitlines()
    assert any(line.endswith("Z listening") and line[:4].isdigit() for line in written)


def test_a_dependency_cycle_is_rejected_before_anything_starts(platform_dir: Path) -> None:
    (platform_dir / "homeport.yaml").write_text(
        "name: demo\nservices:\n"
        "  a: {run: python svc.py, wait_for: [b]}\n"
        "  b: {run: python svc.py, wait_for_start: [a]}\n"
    )
    with pytest.raises(ConfigError, match=r"dependency cycle: a -> b -> a"):
        load_platform(platform_dir / "homeport.yaml")


def test_stopping_goes_in_reverse_dependency_order_and_kills_what_ignores_term(
    platform_dir: Path,
) -> None:
    loaded = write_platform(
        platform_dir,
        """
        db: {run: python svc.py, health: /healthz}
        api: {run: python svc.py, health: /healthz, wait_for: [db]}
        deaf:
          run: python svc.py
          env: {MODE: sleep, IGNORE_TERM: "1"}
          health: {log: ready to work}
          stop_grace: 0.5s
          wait_for: [api]
        """,
    )

    async def main() -> Hub:
        session = Session(loaded, UpOptions())
        try:
            hub = await session.open()
            await session.wait_until_up()
        finally:
            await session.close()
        return hub

    hub = asyncio.run(main())
    stopped = [(e.service, e.detail) for e in hub.events if e.what == "stopped"]
    assert stopped == [("deaf", "exit code -9"), ("api", "exit code -15"), ("db", "exit code -15")]


def test_a_step_that_completes_does_not_restart_what_waits_for_it(platform_dir: Path) -> None:
    loaded = write_platform(
        platform_dir,
        """
        migrate: {run: python svc.py, env: {MODE: oneshot, DELAY: "0.5"}}
        app: {run: python svc.py, health: /healthz, wait_for: [migrate]}
        """,
    )

    async def body(hub: Hub, session: Session) -> None:
        await session.wait_until_up()
        pid = hub.runtimes["app"].status.pid
        await hub.wait_for("migrate", lambda s: s.state == "completed", 20)
        await asyncio.sleep(0.3)  # room for a wrong re-gate to show
        assert hub.runtimes["app"].status.pid == pid
        assert [e.what for e in hub.events if e.service == "app"] == ["started", "healthy"]

    run_session(loaded, body)
