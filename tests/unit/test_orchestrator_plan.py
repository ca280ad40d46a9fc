"""The run plan and the child environment, pure: references, commands, kinds' defaults, ports."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from homeport.model import load_platform, load_platform_text
from homeport.orchestrator.builtin_commands import BUILTIN_HEALTH
from homeport.orchestrator.environment import child_env, resolve
from homeport.orchestrator.errors import PortInUse
from homeport.orchestrator.plan import command_line
from homeport.orchestrator.ports import Endpoint, allocate, url_for
from homeport.orchestrator.session import plan_for

ENDPOINTS = {
    "db": Endpoint("127.0.0.1", 5432, "postgresql://postgres@127.0.0.1:5432"),
    "web": Endpoint("127.0.0.1", 8080, "http://127.0.0.1:8080"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{db.url}/jobs", "postgresql://postgres@127.0.0.1:5432/jobs"),
        ("{db.host}:{db.port}", "127.0.0.1:5432"),
        ("--port {port} --name {name}", "--port 8080 --name web"),
        ("{url}", "http://127.0.0.1:8080"),
        ("${HOME} {unknown.url} {db.other}", "${HOME} {unknown.url} {db.other}"),
    ],
)
def test_references_are_filled_from_the_endpoints(text: str, expected: str) -> None:
    assert resolve(text, ENDPOINTS, "web") == expected


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("python -m app --port {port}", ["python", "-m", "app", "--port", "8080"]),
        (["python", "{db.url}"], ["python", "postgresql://postgres@127.0.0.1:5432"]),
        ("echo a && echo b", ["sh", "-c", "echo a && echo b"]),
        ("run 'two words'", ["run", "two words"]),
        (None, []),
    ],
)
def test_run_lines_become_argv(run: str | list[str] | None, expected: list[str]) -> None:
    assert command_line(run, ENDPOINTS, "web") == expected


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("postgres", "postgresql://postgres@127.0.0.1:9"),
        ("redis", "redis://127.0.0.1:9"),
        ("executable", "http://127.0.0.1:9"),
        ("gateway", "http://127.0.0.1:9"),
    ],
)
def test_urls_by_kind(kind: str, url: str) -> None:
    assert url_for(kind, 9) == url


def test_the_child_env_puts_homeports_python_first_and_the_service_last() -> None:
    env = child_env({"PORT": "1", "PATH_EXTRA": "x"}, {"PATH": "/usr/bin", "PORT": "0"})
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert env["PORT"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_plan_fills_kinds_defaults_and_the_env_contract(tmp_path: Path) -> None:
    (tmp_path / "homeport.yaml").write_text(
        "name: d\nservices:\n"
        "  db: {kind: postgres}\n"
        "  seed: {kind: seed, seeds: [{into: db, from: x.dump}], wait_for: db}\n"
        "  app: {run: python -m app, env: {DATABASE_URL: '{db.url}/jobs', DEBUG: true}}\n"
    )
    loaded = load_platform(tmp_path / "homeport.yaml")
    plan = plan_for(loaded, [])
    seed = plan.resources["seed"]
    assert seed.argv[:5] == [sys.executable, "-m", "homeport", "seed", "-f"]
    assert seed.argv[-2:] == ["--serve", f"127.0.0.1:{seed.endpoint.port}"]
    assert seed.health == BUILTIN_HEALTH
    app = plan.resources["app"]
    db_port = plan.endpoints["db"].port
    assert app.env["DATABASE_URL"] == f"postgresql://postgres@127.0.0.1:{db_port}/jobs"
    assert app.env["DEBUG"] == "true"
    assert app.env["HOMEPORT_SERVICE"] == "app"
    assert app.env["HOST"] == "127.0.0.1"
    assert json.loads(app.env["HOMEPORT_ENDPOINTS"])["db"]["port"] == db_port
    assert len({e.port for e in plan.endpoints.values()}) == 3


def test_a_fixed_port_in_use_names_the_service_and_the_place() -> None:
    loaded = load_platform_text("name: d\nservices:\n  api: {run: x, port: 1}\n")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        loaded.platform.services["api"].port = port
        with pytest.raises(PortInUse, match=f"port {port} of service 'api' is already in use"):
            allocate(loaded.platform.services, ["api"], lambda name: f"homeport.yaml:3 ({name})")


def test_allocated_ports_avoid_the_ephemeral_range_and_each_other() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    services = "".join(f"  s{i}: {{run: x}}\n" for i in range(20))
    loaded = load_platform_text(f"name: d\nservices:\n{services}")
    endpoints = allocate(loaded.platform.services, list(loaded.platform.services))
    ports = [e.port for e in endpoints.values()]
    assert len(set(ports)) == 20
    if low > 13000:
        assert all(port < low for port in ports)
