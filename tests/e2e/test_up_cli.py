"""homeport up as a user runs it: foreground with Ctrl-C, --detach and the commands that follow,
and a supervisor killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.orchestrator import (
    ctrl_c,
    homeport,
    kill_leftovers,
    processes_of,
    up_in_foreground,
    wait_until,
    write_platform,
)

PLATFORM = """
db: {run: python svc.py, health: /healthz, env: {DELAY: "0.2"}}
api: {run: python svc.py, health: /healthz, wait_for: [db]}
stubborn:
  run: python svc.py
  env: {MODE: sleep, IGNORE_TERM: "1"}
  stop_grace: 1s
  wait_for: [api]
"""


@pytest.fixture
def platform_dir(tmp_path: Path) -> Iterator[Path]:
    """A platform of three tiny services; nothing may outlive the test."""
    write_platform(tmp_path, PLATFORM)
    yield tmp_path
    if (tmp_path / ".homeport" / "control.json").exists():
        homeport("down", "-f", str(tmp_path), timeout=30)
    left = list(kill_leftovers(tmp_path / ".homeport"))
    assert left == [], f"processes left behind: {left}"


def test_foreground_up_says_all_healthy_and_ctrl_c_leaves_no_process(platform_dir: Path) -> None:
    state_dir = platform_dir / ".homeport"
    process, seen = up_in_foreground(platform_dir, timeout=60)
    try:
        assert any(line.startswith("all 3 resources healthy in ") for line in seen), seen
        assert len(processes_of(state_dir)) == 3
        rest, took = ctrl_c(process, timeout=10)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, rest
    assert took < 5.0, f"Ctrl-C took {took:.2f}s"
    assert "stopped 3 resources" in rest
    assert processes_of(state_dir) == []
    assert not (state_dir / "pids.json").exists()


def test_detach_then_status_logs_restart_stop_start_and_down(platform_dir: Path) -> None:
    file = str(platform_dir)
    started = homeport("up", "-f", file, "--detach")
    assert started.returncode == 0, started.stderr
    assert "all 3 resources healthy in" in started.stdout

    twice = homeport("up", "-f", file)
    assert twice.returncode == 1
    assert "homeport up is already running for this platform (supervisor pid" in twice.stderr

    status = homeport("status", "-f", file, "--json")
    rows = {row["name"]: row for row in json.loads(status.stdout)}
    assert {n: (r["state"], r["health"]) for n, r in rows.items()} == {
        "db": ("running", "healthy"),
        "api": ("running", "healthy"),
        "stubborn": ("running", "healthy"),
    }
    db_port = rows["db"]["port"]
    logs = homeport("logs", "db", "--file", file)
    assert f"booting db on {db_port}" in logs.stdout and "listening" in logs.stdout

    restarted = homeport("restart", "db", "-f", file)
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout.startswith("db: running, health healthy")
    after = {r["name"]: r for r in json.loads(homeport("status", "-f", file, "--json").stdout)}
    assert after["db"]["restarts"] == 1 and after["db"]["pid"] != rows["db"]["pid"]
    assert after["api"]["pid"] != rows["api"]["pid"]  # re-gated: started again after db

    stopped = homeport("stop", "api", "-f", file)
    assert stopped.stdout.startswith("api: stopped"), stopped.stdout + stopped.stderr
    # stubborn waits for api again (once its grace is over: it ignores TERM).
    wait_until(
        lambda: "waiting on api" in homeport("status", "-f", file).stdout, 20, "stubborn to wait"
    )
    assert homeport("start", "api", "-f", file).stdout.startswith("api: running")

    timing = homeport("status", "--timing", "-f", file)
    assert "the critical chain" in timing.stdout
    assert "└─api @" in timing.stdout and "db @" in timing.stdout

    down = homeport("down", "-f", file)
    assert down.returncode == 0 and "stopped 3 resources" in down.stdout
    assert processes_of(platform_dir / ".homeport") == []
    gone = homeport("status", "-f", file)
    assert gone.returncode == 1
    assert "homeport up is not running for this platform" in gone.stderr


def test_sigkill_of_the_supervisor_leaves_no_orphans(platform_dir: Path) -> None:
    file, state_dir = str(platform_dir), platform_dir / ".homeport"
    assert homeport("up", "-f", file, "--detach").returncode == 0
    control = json.loads((state_dir / "control.json").read_text())
    stubborn = json.loads(homeport("status", "-f", file, "--json").stdout)[2]["pid"]
    os.kill(control["pid"], signal.SIGKILL)
    # The kernel TERMs every child when its supervisor dies; only the one that ignores TERM stays.
    wait_until(lambda: processes_of(state_dir) == [stubborn], 10, "children to stop")

    again = homeport("up", "-f", file, "--detach")
    assert again.returncode == 0, again.stderr
    assert (
        "found 1 left running by a supervisor that died, and stopped them: "
        f"stubborn (pid {stubborn})"
    ) in again.stderr
    assert stubborn not in processes_of(state_dir)


def test_up_refuses_a_cycle_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "homeport.yaml").write_text(
        "name: demo\nservices:\n  a: {run: x, wait_for: b}\n  b: {run: y, wait_for: a}\n"
    )
    done = homeport("up", "-f", str(tmp_path))
    assert done.returncode == 1
    assert "dependency cycle: a -> b -> a" in done.stderr
    assert "Traceback" not in done.stderr


def test_detach_fails_with_the_reason_and_log_lines_and_leaves_nothing(tmp_path: Path) -> None:
    write_platform(
        tmp_path,
        """
        db: {run: python svc.py, health: /healthz}
        bad: {run: python svc.py, env: {MODE: crash, CODE: "9"}, health: /healthz}
        after: {run: python svc.py, wait_for: [bad]}
        """,
    )
    done = homeport("up", "-f", str(tmp_path), "--detach")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == "service 'bad' failed: exited with code 9 while starting"
    assert any(line.endswith("Z crashing now") for line in lines)
    assert "Traceback" not in done.stderr
    state_dir = tmp_path / ".homeport"
    assert processes_of(state_dir) == []
    assert not (state_dir / "control.json").exists()
