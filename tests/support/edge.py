"""Edge tests: one Cloudflare emulator per module, the example platform in a temp dir, the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from homeport.edge.apply import Applier
from homeport.edge.cloudflare import CloudflareApi
from homeport.edge.current import read_current
from homeport.edge.desired import desired_edge
from homeport.edge.diff import plan_edge
from homeport.edge.plan import Plan
from homeport.edge.state import CurrentEdge, DesiredEdge
from homeport.model import load_platform
from tests.emulators.cloudflare.fixture import Emulator, start_emulator

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "jobboard" / "homeport.yaml"
TUNNEL_ID = "6ff42ae2-765d-4adf-8112-31c55c1551ef"
TUNNEL_TARGET = f"{TUNNEL_ID}.cfargotunnel.com"


class FakeClock:
    """Records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[Emulator]:
    """One emulator for a test module (reset before each test by ``emulator``)."""
    emulator = start_emulator()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def emulator(shared_emulator: Emulator) -> Emulator:
    """The module's emulator, back to the default state with no faults and an empty log."""
    shared_emulator.control.reset()
    return shared_emulator


@pytest.fixture
def platform_dir(tmp_path: Path) -> Path:
    """A copy of the example platform file, alone in a temp dir."""
    shutil.copy(EXAMPLE, tmp_path / "homeport.yaml")
    return tmp_path


def edit_platform(directory: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Load the platform file's YAML, let ``change`` edit it, write it back."""
    path = directory / "homeport.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def homeport(
    emulator: Emulator, *args: str, cwd: Path | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the homeport CLI as a user would, pointed at the emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env.update(emulator.env())
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "homeport", *args],
        env=env,
        cwd=cwd,
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def api(emulator: Emulator, clock: FakeClock | None = None) -> CloudflareApi:
    """The library's client against the emulator, on a fake clock."""
    return CloudflareApi(emulator.token, emulator.base_url, clock=clock or FakeClock())


def plan_for(
    client: CloudflareApi, directory: Path, adopt: bool = False
) -> tuple[DesiredEdge, CurrentEdge, Plan]:
    """Desired, current and the plan for the platform file in ``directory``."""
    edge = load_platform(directory).platform.edge
    assert edge is not None
    desired = desired_edge(edge)
    current = read_current(client, desired)
    return desired, current, plan_edge(desired, current, adopt=adopt)


def live(emulator: Emulator) -> dict[str, Any]:
    """What the emulator holds, reduced to what a user compares (no ids or timestamps)."""
    state = emulator.control.state()
    out: dict[str, Any] = {}
    for zone in state["zones"]:
        records = sorted(
            (r["name"], r["type"], r["content"], r.get("proxied"), r.get("ttl"), r.get("comment"),
             r.get("priority"))
            for r in zone["records"]
        )  # fmt: skip
        rules = [
            tuple(r.get(k) for k in ("ref", "expression", "action", "description", "enabled"))
            for ruleset in zone.get("rulesets", [])
            if ruleset.get("phase") == "http_request_firewall_custom"
            for r in ruleset.get("rules", [])
        ]  # fmt: skip
        settings = {k: v["value"] for k, v in zone["settings"].items()}
        out[zone["name"]] = {"records": records, "rules": rules, "settings": settings}
    tunnel = state["tunnels"][0]
    out["tunnel"] = [
        {k: v for k, v in rule.items() if k != "originRequest"}
        for rule in tunnel["config"]["ingress"]
    ]
    return out


def apply_file(emulator: Emulator, directory: Path) -> None:
    """Bring the emulator to the platform file in-process (set-up for tests about later steps)."""
    with api(emulator) as client:
        desired, current, plan = plan_for(client, directory)
        Applier(client, plan, desired, current).run(directory / ".homeport")
