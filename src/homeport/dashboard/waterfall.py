"""One trace as a waterfall: spans in tree order, each a bar placed on the trace's time line."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from homeport.dashboard.html import duration, esc

KIND_NAMES = {0: "", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def tree_order(spans: Sequence[Mapping[str, Any]]) -> list[tuple[int, Mapping[str, Any]]]:
    """(depth, span) in depth-first order; spans whose parent is missing start at depth 0."""
    ids = {s["span_id"] for s in spans}
    children: dict[str, list[Mapping[str, Any]]] = {}
    for span in sorted(spans, key=lambda s: int(s["start_ns"])):
        parent = span["parent_span_id"] if span["parent_span_id"] in ids else ""
        children.setdefault(parent, []).append(span)
    ordered: list[tuple[int, Mapping[str, Any]]] = []
    stack = [(0, s) for s in reversed(children.get("", []))]
    while stack:
        depth, span = stack.pop()
        ordered.append((depth, span))
        stack.extend((depth + 1, c) for c in reversed(children.get(span["span_id"], [])))
    return ordered


def waterfall(spans: Sequence[Mapping[str, Any]]) -> str:
    """The trace's spans as rows with bars; each row opens to show its attributes."""
    if not spans:
        return '<p class="empty">No spans for this trace (yet).</p>'
    start = min(int(s["start_ns"]) for s in spans)
    end = max(int(s["end_ns"]) for s in spans)
    total = max(end - start, 1)
    services = sorted({str(s["service"]) for s in spans})
    rows = []
    for depth, span in tree_order(spans):
        left = 100 * (int(span["start_ns"]) - start) / total
        width = max(100 * (int(span["end_ns"]) - int(span["start_ns"])) / total, 0.3)
        error = int(span["status_code"]) == 2
        hue = (services.index(str(span["service"])) * 67) % 360
        kind = KIND_NAMES.get(int(span["kind"]), "")
        rows.append(
            f'<details class="span{" error" if error else ""}" id="span-{esc(span["span_id"])}" '
            f'data-span="{esc(span["span_id"])}" data-parent="{esc(span["parent_span_id"])}" '
            f'data-service="{esc(span["service"])}">'
            f'<summary><span class="label" style="padding-left:{depth * 1.1:.1f}em">'
            f"<b>{esc(span['service'])}</b> {esc(span['name'])} <i>{kind}</i></span>"
            f'<span class="track"><span class="bar" style="left:{left:.2f}%;width:{width:.2f}%;'
            f'background:hsl({hue},55%,50%)"></span></span>'
            f'<span class="num">{duration(float(span["duration_ms"]))}</span></summary>'
            f"{_details(span)}</details>"
        )
    header = (
        f'<p class="summary">{len(spans)} spans across {esc(", ".join(services))}, '
        f"{duration(total / 1e6)}</p>"
    )
    return header + '<div id="waterfall">' + "".join(rows) + "</div>"


def _details(span: Mapping[str, Any]) -> str:
    pairs = {
        "span id": span["span_id"],
        "parent": span["parent_span_id"] or "(root)",
        **{str(k): v for k, v in dict(span.get("attributes") or {}).items()},
    }
    if span.get("status_message"):
        pairs["status"] = span["status_message"]
    cells = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(v if isinstance(v, str) else json.dumps(v))}</td></tr>"
        for k, v in pairs.items()
    )
    events = "".join(
        f"<li>{esc(e.get('name'))} {esc(json.dumps(e.get('attributes') or {}))}</li>"
        for e in span.get("events") or []
    )
    return f'<table class="attrs">{cells}</table>' + (f"<ul>{events}</ul>" if events else "")
