"""The README's first command: ``homeport up -f examples/jobboard`` boots the example platform,
says it is healthy, and Ctrl-C leaves no process behind (checked in the process table)."""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.binaries import POSTGRES_BIN_DIRS, require_binary
from tests.support.orchestrator import (
    REPO,
    ctrl_c,
    homeport,
    kill_leftovers,
    processes_of,
    up_in_foreground,
)

EXAMPLE = REPO / "examples" / "jobboard"
SERVICES = ("monolith", "jobs", "companies", "ai_worker", "landing")


@pytest.fixture
def example_copy() -> Iterator[Path]:
    """The example in a 0755 temp dir (PostgreSQL runs unprivileged and must reach its data)."""
    missing = [s for s in SERVICES if not (EXAMPLE / "services" / f"{s}.py").exists()]
    if missing:
        pytest.skip(f"the example services are not written yet: {', '.join(missing)}")
    require_binary("initdb", *POSTGRES_BIN_DIRS)
    require_binary("redis-server")
    root = Path(tempfile.mkdtemp(prefix="homeport-example-"))
    root.chmod(0o755)
    target = root / "jobboard"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".homeport", "__pycache__"))
    yield target
    left = list(kill_leftovers(target / ".homeport"))
    shutil.rmtree(root, ignore_errors=True)
    assert left == [], f"processes left behind: {left}"


def test_the_readme_first_command_boots_the_example_and_ctrl_c_cleans_up(
    example_copy: Path,
) -> None:
    state_dir = example_copy / ".homeport"
    process, seen = up_in_foreground(example_copy, timeout=200)
    try:
        healthy = [line for line in seen if line.startswith("all ")]
        assert healthy and "resources healthy in" in healthy[0], "".join(seen[-40:])
        endpoints = json.loads((state_dir / "endpoints.json").read_text())["services"]
        assert {"postgres", "redis", "seed", "monolith", "jobs", "ai", "landing"} <= set(endpoints)
        with urllib.request.urlopen(endpoints["monolith"]["url"] + "/healthz", timeout=10) as r:
            assert r.status == 200
        children = json.loads((state_dir / "pids.json").read_text())["children"]
        assert set(children) == set(endpoints)  # the seed step serves /healthz: it still runs
        running = {child["pid"] for child in children.values()} | set(processes_of(state_dir))
        rest, took = ctrl_c(process, timeout=15)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, rest
    assert took < 5.0, f"Ctrl-C took {took:.2f}s"
    assert processes_of(state_dir) == []
    assert all(not _alive(pid) for pid in running)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_example_detached_serves_through_its_gateway_then_goes_down(
    example_copy: Path,
) -> None:
    file = str(example_copy)
    started = homeport("up", "-f", file, "--detach", timeout=240)
    assert started.returncode == 0, started.stderr
    assert "all 9 resources healthy in" in started.stdout
    rows = {r["name"]: r for r in json.loads(homeport("status", "-f", file, "--json").stdout)}
    assert all(r["state"] == "running" and r["health"] == "healthy" for r in rows.values()), rows
    with urllib.request.urlopen(rows["gateway"]["url"] + "/healthz", timeout=10) as response:
        assert response.status == 200
    down = homeport("down", "-f", file)
    assert down.returncode == 0 and "stopped 9 resources" in down.stdout
    assert processes_of(example_copy / ".homeport") == []
