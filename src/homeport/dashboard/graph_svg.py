"""The dependency graph as an SVG: a layered layout, dependencies left of what waits on them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from homeport.dashboard.html import esc

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 140, 44, 70, 22, 16
COLOURS = {"good": "#2e7d32", "warn": "#b26a00", "bad": "#c62828", "": "#607d8b"}


def layers(nodes: Sequence[str], edges: Sequence[Mapping[str, str]]) -> dict[str, int]:
    """Each node's column: 0 for nodes that wait on nothing, else one past its deepest target."""
    waits: dict[str, list[str]] = {n: [] for n in nodes}
    for edge in edges:
        waits.setdefault(edge["from"], []).append(edge["to"])
    column: dict[str, int] = {}

    def depth(node: str, seen: frozenset[str]) -> int:
        if node in column:
            return column[node]
        targets = [t for t in waits.get(node, []) if t not in seen]
        column[node] = 1 + max((depth(t, seen | {node}) for t in targets), default=-1)
        return column[node]

    for node in nodes:
        depth(node, frozenset())
    return column


def graph_svg(
    graph: Mapping[str, Any],
    health: Mapping[str, str],
    states: Mapping[str, str] | None = None,
) -> str:
    """``graph`` as the control API gives it (nodes, edges); ``health`` maps a node to a class
    (good, warn, bad), ``states`` to the words shown under its name."""
    states = states or {}
    nodes: list[str] = list(graph.get("nodes") or [])
    edges: list[Mapping[str, str]] = list(graph.get("edges") or [])
    column = layers(nodes, edges)
    by_column: dict[int, list[str]] = {}
    for node in nodes:
        by_column.setdefault(column[node], []).append(node)
    where: dict[str, tuple[int, int]] = {}
    for col, members in by_column.items():
        for row, node in enumerate(sorted(members)):
            where[node] = (PAD + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    width = PAD * 2 + (max(by_column, default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max((len(m) for m in by_column.values()), default=1) * (BOX_H + GAP_Y)
    parts = [
        f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="dependency graph">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#888"/></marker></defs>'
    ]
    for edge in edges:
        if edge["from"] not in where or edge["to"] not in where:
            continue
        (x1, y1), (x2, y2) = where[edge["from"]], where[edge["to"]]
        dashed = ' stroke-dasharray="5,4"' if edge.get("condition") == "started" else ""
        parts.append(
            f'<line x1="{x1}" y1="{y1 + BOX_H / 2}" x2="{x2 + BOX_W}" y2="{y2 + BOX_H / 2}" '
            f'stroke="#888" marker-end="url(#arrow)"{dashed}>'
            f"<title>{esc(edge['from'])} waits for {esc(edge['to'])} "
            f"({esc(edge.get('condition', ''))})</title></line>"
        )
    for node, (x, y) in where.items():
        colour = COLOURS.get(health.get(node, ""), COLOURS[""])
        parts.append(
            f'<g class="node" data-node="{esc(node)}"><rect x="{x}" y="{y}" width="{BOX_W}" '
            f'height="{BOX_H}" rx="6" fill="#fff" stroke="{colour}" stroke-width="2.5"/>'
            f'<text x="{x + BOX_W / 2}" y="{y + 19}" text-anchor="middle" '
            f'fill="{colour}" font-weight="600">{esc(node)}</text>'
            f'<text class="state" x="{x + BOX_W / 2}" y="{y + 35}" text-anchor="middle" '
            f'fill="#607d8b" font-size="11">{esc(states.get(node, ""))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
