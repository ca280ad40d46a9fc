"""The apply journal: pre-images of everything an apply is about to change, written first.

``<state_dir>/edge-journal/<timestamp>.json`` holds the records the plan updates or deletes (with
their ids), the records it creates (so that rollback can remove them), each touched zone's WAF
rules, the settings it changes, and the tunnel's configuration with its version.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from homeport.edge.errors import EdgeError
from homeport.edge.plan import Create, Plan
from homeport.edge.state import CurrentEdge, Record

JOURNAL_DIR = "edge-journal"


def record_json(record: Record) -> dict[str, Any]:
    """A record's pre-image: every field and its id."""
    return {**record.fields(), "id": record.id}


def build_journal(plan: Plan, current: CurrentEdge, account_id: str) -> dict[str, Any]:
    """The pre-images of everything ``plan`` touches (pure)."""
    zones: dict[str, Any] = {}
    for name in plan.zones():
        zone = current.zones[name]
        touched_ids = {c.id for c in plan.select(name, "dns") if c.id}
        entry: dict[str, Any] = {
            "id": zone.id,
            "records_before": [record_json(r) for r in zone.records if r.id in touched_ids],
            "records_created": [
                {"key": c.key, **dict(c.after)}
                for c in plan.select(name, "dns")
                if isinstance(c, Create)
            ],
            "settings_before": {
                c.key: zone.settings[c.key].value for c in plan.select(name, "setting")
            },
        }
        if any(True for _ in plan.select(name, "waf")):
            entry["waf_before"] = {
                "existed": zone.ruleset_id is not None,
                "rules": zone.raw_rules,
            }
        zones[name] = entry
    tunnel = None
    if current.tunnel is not None and any(True for _ in plan.select("", "tunnel")):
        tunnel = {
            "id": current.tunnel.id,
            "version": current.tunnel.version,
            "config": current.tunnel.raw_config,
        }
    return {
        "checksum": plan.checksum,
        "account_id": account_id,
        "tunnel": tunnel,
        "zones": zones,
    }


def write_journal(state_dir: Path, journal: dict[str, Any], now: datetime | None = None) -> Path:
    """Write the journal under ``state_dir/edge-journal/`` and return its path."""
    moment = now or datetime.now(UTC)
    directory = state_dir / JOURNAL_DIR
    stamp = moment.strftime("%Y%m%dT%H%M%S.%fZ")
    path = directory / f"{stamp}.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(
            json.dumps({"created_at": moment.isoformat(), **journal}, indent=2), encoding="utf-8"
        )
        os.replace(temporary, path)
    except OSError as exc:
        raise EdgeError(
            f"cannot write the apply journal in {directory}: {exc}; nothing was changed"
        ) from exc
    return path


def read_journal(path: Path) -> dict[str, Any]:
    """A journal written by ``write_journal``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EdgeError(f"{path}: cannot read the journal ({exc}); pass a file from "
                        f"<state dir>/{JOURNAL_DIR}/") from exc  # fmt: skip
    if not isinstance(data, dict) or "zones" not in data:
        raise EdgeError(f"{path}: not an edge apply journal")
    return data
