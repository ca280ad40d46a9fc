"""How resources look on a terminal: the live table of ``up`` and ``status``, the chain."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

STATE_STYLES = {
    "running": "green",
    "completed": "green",
    "starting": "yellow",
    "waiting": "cyan",
    "pending": "cyan",
    "backoff": "magenta",
    "stopping": "yellow",
    "stopped": "dim",
    "blocked": "red",
    "failed": "bold red",
}


def resource_table(rows: Sequence[Mapping[str, Any]], now: float | None = None) -> Table:
    """A table of resources: state, health, port, restarts, what each waits on or why it failed."""
    now = time.time() if now is None else now
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("RESOURCE", "KIND", "STATE", "HEALTH", "PORT", "PID", "RESTARTS", "UP", "NOTE"):
        table.add_column(column, no_wrap=column != "NOTE")
    for row in rows:
        state = str(row.get("state", ""))
        note = ""
        if row.get("waiting_on"):
            note = "waiting on " + ", ".join(row["waiting_on"])
        elif row.get("reason"):
            note = str(row["reason"])
        since = row.get("healthy_at") if state == "running" else None
        table.add_row(
            str(row["name"]),
            str(row.get("kind", "")),
            Text(state, style=STATE_STYLES.get(state, "")),
            str(row.get("health") or "-"),
            str(row.get("port") or "-"),
            str(row.get("pid") or "-"),
            str(row.get("restarts", 0)),
            _age(now - since) if isinstance(since, (int, float)) else "-",
            note,
        )
    return table


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def chain_lines(timing: Mapping[str, Any]) -> list[str]:
    """systemd-analyze style: the resource ready last, then what released it, and so on.

    ``@`` is when it became ready after ``up`` began, ``+`` how long it took from its own start.
    """
    chain: list[dict[str, Any]] = list(timing.get("chain") or [])
    if not chain:
        return ["no resource became ready yet"]
    up_after = timing.get("up_after")
    total = f"{up_after:.2f}s" if isinstance(up_after, (int, float)) else "not yet"
    first = timing.get("first_start")
    lines = [
        f"time to all healthy: {total}"
        + (f" (first process started after {first:.3f}s)" if isinstance(first, float) else ""),
        "the critical chain (@ ready after up began, + its own start to ready):",
    ]
    for depth, link in enumerate(chain):
        prefix = "" if depth == 0 else "  " * (depth - 1) + "└─"
        prepared = link.get("prepared")
        note = f" (prepared until @{prepared:.3f}s)" if isinstance(prepared, float) else ""
        lines.append(f"{prefix}{link['name']} @{link['at']:.3f}s +{link['took']:.3f}s{note}")
    return lines
