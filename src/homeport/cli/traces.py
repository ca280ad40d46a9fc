"""``homeport traces``: the dashboard's traces in the terminal."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table
from rich.tree import Tree

from homeport.cli.common import FileOption, JsonOption, console, load, print_json, reports_errors
from homeport.dashboard.store import TelemetryStore
from homeport.errors import HomeportError

TELEMETRY_DB = "telemetry.db"


@reports_errors
def traces(
    file: FileOption = None,
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only traces touching this service.")
    ] = None,
    trace_id: Annotated[
        str | None, typer.Option("--trace-id", "-t", help="Show one trace's spans.")
    ] = None,
    errors: Annotated[
        bool, typer.Option("--errors", help="Only traces with a failed span.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many traces to list.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """List recent traces of the platform `homeport up` runs, or show one by its id."""
    loaded = load(file)
    path = loaded.state_dir / TELEMETRY_DB
    if not path.exists():
        raise HomeportError(
            f"{path}: no telemetry yet; start the platform with `homeport up` first"
        )
    store = TelemetryStore(path)
    try:
        if trace_id:
            _show_trace(store, trace_id, as_json)
        else:
            found = store.traces(service=service, errors_only=errors, limit=limit)
            if as_json:
                print_json([asdict(t) for t in found])
                return
            table = Table("trace id", "started", "root", "spans", "duration", "services", "status")
            for t in found:
                started = dt.datetime.fromtimestamp(t.start_ns / 1e9).strftime("%H:%M:%S.%f")[:-3]
                table.add_row(
                    t.trace_id,
                    started,
                    f"{t.root_service}: {t.root_name}",
                    str(t.span_count),
                    f"{t.duration_ms:.1f} ms",
                    ", ".join(t.services),
                    "[red]error[/red]" if t.error else "ok",
                )
            console.print(table)
    finally:
        store.close()


def _show_trace(store: TelemetryStore, trace_id: str, as_json: bool) -> None:
    spans = store.trace(trace_id)
    if not spans:
        raise HomeportError(f"no trace {trace_id} in the store; list traces with `homeport traces`")
    if as_json:
        print_json(spans)
        return
    start = min(s["start_ns"] for s in spans)
    children: dict[str, list[dict[str, object]]] = {}
    ids = {s["span_id"] for s in spans}
    for span in spans:
        parent = span["parent_span_id"] if span["parent_span_id"] in ids else ""
        children.setdefault(parent, []).append(span)
    tree = Tree(f"trace {trace_id.lower()}")

    def add(node: Tree, parent_id: str) -> None:
        for span in children.get(parent_id, []):
            offset = (int(str(span["start_ns"])) - start) / 1e6
            status = " [red]error[/red]" if span["status_code"] == 2 else ""
            label = (
                f"[bold]{span['service']}[/bold] {span['name']}  "
                f"+{offset:.1f} ms, {span['duration_ms']:.1f} ms{status}"
            )
            add(node.add(label), str(span["span_id"]))

    add(tree, "")
    console.print(tree)
