"""The plan for people: rich renderables (the CLI prints them; nothing here prints)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from homeport.edge.plan import Change, Conflict, Create, Plan, Update

SYMBOLS = {"create": ("+", "green"), "update": ("~", "yellow"), "delete": ("-", "red")}


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _fields(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in values.items() if v is not None)


def change_lines(change: Change) -> list[Text]:
    """One change: a headline, then one line per changed field for updates."""
    symbol, style = SYMBOLS[change.kind]
    head = Text(f"  {symbol} {change.kind:<6} {change.resource:<7} {change.key}", style=style)
    if isinstance(change, Update):
        lines = [head]
        for diff in change.diff():
            lines.append(
                Text(f"        {diff.field}: {_value(diff.before)} -> {_value(diff.after)}")
            )
        return lines
    values = dict(change.after if isinstance(change, Create) else change.before)
    return [head + Text(f"  {describe(change.resource, values)}", style="dim")]


def describe(resource: str, values: dict[str, Any]) -> str:
    """The few fields that say what a created or deleted thing is."""
    if resource == "dns":
        parts = [str(values.get("content"))]
        if values.get("proxied"):
            parts.append("proxied")
        if values.get("ttl") not in (None, 1):
            parts.append(f"ttl={values['ttl']}")
        if values.get("priority") is not None:
            parts.append(f"priority={values['priority']}")
        return " ".join(parts)
    if resource == "waf":
        return f"{values.get('action')} if {values.get('expression')}"
    return _fields(values)


def conflict_line(conflict: Conflict) -> Text:
    """One conflict: what was left alone and why."""
    return Text(
        f"  ! left   {conflict.resource:<7} {conflict.key}: {conflict.reason}", style="magenta"
    )


def render_plan(plan: Plan) -> RenderableType:
    """The whole plan, grouped by the tunnel then each zone, with a summary line."""
    lines: list[Text] = []
    sections = sorted({c.zone for c in plan.changes} | {c.zone for c in plan.conflicts})
    for zone in sections:
        if zone:
            lines.append(Text(f"zone {zone}", style="bold"))
        else:
            version = plan.tunnel_version if plan.tunnel_version is not None else "none"
            lines.append(Text(f"tunnel {plan.tunnel_id} (config version {version})", style="bold"))
        for change in plan.select(zone):
            lines.extend(change_lines(change))
        lines.extend(conflict_line(c) for c in plan.conflicts if c.zone == zone)
    for warning in plan.warnings:
        lines.append(Text(f"warning: {warning}", style="yellow"))
    lines.append(summary(plan))
    return Group(*lines)


def summary(plan: Plan) -> Text:
    """``Plan: 3 to create, 1 to update, 0 to delete; 2 left alone.`` or no changes."""
    counts = plan.counts()
    left = f"; {len(plan.conflicts)} left alone (not homeport's)" if plan.conflicts else ""
    if not plan.has_changes:
        return Text(f"No changes: the edge matches the file{left}.", style="bold green")
    return Text(
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete{left}.\nchecksum {plan.checksum}",
        style="bold",
    )
