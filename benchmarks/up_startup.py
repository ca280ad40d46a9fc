"""homeport up's own overhead on a synthetic platform of 36 resources (6 chains of 6).

Each resource is a small process that becomes healthy after its own delay, drawn between 0.2 and
1.0 s (seeded), so the critical path (the longest chain's summed delays) is a few seconds and
anything the supervisor adds shows. Printed:

- time to all healthy / critical path (target <= 1.10), from the supervisor's start;
- the same 36 resources started one at a time (each waits for the previous one: how a serialising
  orchestrator behaves), and its ratio to the parallel start;
- the supervisor's CPU while idle with all 36 running (target < 2 % of one core);
- time from running ``homeport up`` to the first process started (target < 0.5 s), and the part
  of it spent inside ``up`` once the command runs.

Run: .venv/bin/python benchmarks/up_startup.py [--probe log|tcp] [--idle 10]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from homeport.orchestrator.control_client import ControlClient
from homeport.orchestrator.state import read_control

CHAINS, LENGTH = 6, 6
HOMEPORT = [sys.executable, "-m", "homeport"]
TCP_CHILD = (
    "import os,socket,time;time.sleep(float(os.environ['DELAY']));"
    "s=socket.socket();s.bind(('127.0.0.1',int(os.environ['PORT'])));s.listen();"
    "time.sleep(1e6)"
)


def delays(seed: int = 7) -> dict[str, float]:
    """Each resource's delay, c<chain>r<rank>."""
    rng = random.Random(seed)
    return {
        f"c{c}r{r}": round(rng.uniform(0.2, 1.0), 3) for c in range(CHAINS) for r in range(LENGTH)
    }


def service(name: str, delay: float, after: str | None, probe: str) -> str:
    """One resource of the platform file."""
    if probe == "log":
        run = f"\"sh -c 'sleep {delay}; echo ready; exec sleep 1000000'\""
        health = "{log: ready}"
    else:
        run = json.dumps(["python3", "-S", "-c", TCP_CHILD])
        health = "{tcp: true}"
    wait = f", wait_for: [{after}]" if after else ""
    env = f", env: {{DELAY: '{delay}'}}" if probe == "tcp" else ""
    return f"  {name}: {{run: {run}, health: {health}{wait}{env}}}\n"


def write_platform(directory: Path, chained: dict[str, str | None], probe: str) -> Path:
    """A platform file where each resource waits for ``chained[name]`` (or nothing)."""
    directory.mkdir(parents=True, exist_ok=True)
    table = delays()
    body = "".join(service(n, table[n], chained[n], probe) for n in table)
    (directory / "homeport.yaml").write_text(f"name: bench\nservices:\n{body}")
    return directory


def parallel_chains() -> dict[str, str | None]:
    """6 independent chains of 6."""
    return {
        f"c{c}r{r}": (f"c{c}r{r - 1}" if r else None) for c in range(CHAINS) for r in range(LENGTH)
    }


def one_at_a_time() -> dict[str, str | None]:
    """The same 36, each waiting for the one before: a serialised start."""
    names = list(delays())
    return {name: (names[i - 1] if i else None) for i, name in enumerate(names)}


def critical_path() -> float:
    """The longest chain's summed delays."""
    table = delays()
    return max(sum(table[f"c{c}r{r}"] for r in range(LENGTH)) for c in range(CHAINS))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def detached_run(directory: Path, idle: float) -> tuple[float, float | None, str]:
    """Start detached; return (seconds to all healthy from the supervisor's start, idle CPU %)."""
    done = subprocess.run(
        [*HOMEPORT, "up", "--detach", "-f", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"up failed: {done.stderr}")
    info = read_control(directory / ".homeport")
    assert info is not None
    with ControlClient(info) as client:
        up_after = float(client.timing()["up_after"])
        handoff = handoffs(client)
        usage = None
        if idle:
            time.sleep(1.0)
            before, began = cpu_seconds(info.pid), time.monotonic()
            time.sleep(idle)
            usage = 100 * (cpu_seconds(info.pid) - before) / (time.monotonic() - began)
    subprocess.run([*HOMEPORT, "down", "-f", str(directory)], capture_output=True, check=True)
    return up_after, usage, handoff


def handoffs(client: ControlClient) -> str:
    """Print the supervisor's own share of each link: dependency healthy -> waiter started."""
    events = client.events()
    healthy = {e["service"]: e["ts"] for e in events if e["what"] == "healthy"}
    started = {e["service"]: e["ts"] for e in events if e["what"] == "started"}
    edges = [(w["from"], w["to"]) for w in client.graph()["edges"]]
    gaps = sorted(
        1000 * (started[a] - healthy[b]) for a, b in edges if a in started and b in healthy
    )
    if not gaps:
        return ""
    return (
        f"  dependency healthy -> waiter started: median {gaps[len(gaps) // 2]:.1f} ms, "
        f"max {gaps[-1]:.1f} ms over {len(gaps)} links"
    )


def first_start_latency(directory: Path) -> tuple[float, float]:
    """Foreground ``homeport up``: (invocation -> first child started, up's own share)."""
    pids = directory / ".homeport" / "pids.json"
    pids.unlink(missing_ok=True)
    invoked = time.time()
    process = subprocess.Popen(
        [*HOMEPORT, "up", "-f", str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "resources healthy in" in line:
                break
        info = read_control(directory / ".homeport")
        assert info is not None
        with ControlClient(info) as client:
            first = min(r["started_at"] for r in client.resources() if r["started_at"])
            own = float(client.timing()["first_start"])
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    return first - invoked, own


def main() -> None:
    """Run the three measurements and print them with their ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", choices=("log", "tcp"), default="log")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU sampling")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="homeport-bench-"))
    path = critical_path()
    print(f"36 resources, 6 chains of 6, delays 0.2-1.0 s, probe {args.probe}")
    print(f"critical path (longest chain's summed delays): {path:.3f}s")

    parallel = write_platform(base / "parallel", parallel_chains(), args.probe)
    up_after, idle, handoff = detached_run(parallel, args.idle)
    print(f"homeport up (parallel, gated):   all healthy after {up_after:.3f}s")
    print(handoff)
    print(f"  ratio to the critical path:    {up_after / path:.3f}  (target <= 1.10)")
    print(f"  supervisor CPU while idle:     {idle:.2f}% of one core  (target < 2%)")

    serial = write_platform(base / "serial", one_at_a_time(), args.probe)
    serial_after, _, handoff = detached_run(serial, 0)
    total = sum(delays().values())
    print(f"one at a time (serialised):      all healthy after {serial_after:.3f}s")
    print(f"  its own floor (sum of delays): {total:.3f}s")
    print(handoff)
    print(f"  one-at-a-time / parallel:      {serial_after / up_after:.2f}x slower")

    latency, own = first_start_latency(parallel)
    shutil.rmtree(base, ignore_errors=True)
    print(f"`homeport up` -> first process:  {latency:.3f}s  (target < 0.5s)")
    print(f"  of which inside up's supervisor: {own:.3f}s (the rest: interpreter and imports)")


if __name__ == "__main__":
    main()
