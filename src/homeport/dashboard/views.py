"""The dashboard's tables as HTML fragments, rendered from plain values (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from homeport.dashboard.html import ago, clock, duration, esc
from homeport.dashboard.store import TraceSummary

STOPPABLE = ("pending", "waiting", "starting", "running", "backoff", "blocked")
SEVERITY_CLASS = {"ERROR": "bad", "CRITICAL": "bad", "FATAL": "bad", "WARN": "warn"}


def state_class(row: Mapping[str, Any]) -> str:
    """good (healthy or completed), bad (failed or unhealthy) or warn (on its way)."""
    state, health = row.get("state"), row.get("health")
    if state == "failed" or health == "unhealthy":
        return "bad"
    if (state == "running" and health == "healthy") or state == "completed":
        return "good"
    return "warn"


def _port_link(row: Mapping[str, Any]) -> str:
    port, url = row.get("port"), str(row.get("url") or "")
    if url.startswith("http"):
        return f'<a href="{esc(url)}" target="_blank" rel="noopener">{esc(port)}</a>'
    return esc(port)


def _buttons(row: Mapping[str, Any]) -> str:
    name = esc(row["name"])
    actions = ["restart"]
    actions.append("stop" if row.get("state") in STOPPABLE else "start")
    return "".join(f'<button data-action="{a}" data-name="{name}">{a}</button>' for a in actions)


def resources_table(rows: Sequence[Mapping[str, Any]], now: float) -> str:
    """Every resource: state, health, port (a link when it speaks HTTP), restarts, waits."""
    body = []
    for row in rows:
        state = esc(row.get("state"))
        health = esc(row.get("health") or "")
        waiting = ", ".join(str(w) for w in row.get("waiting_on") or [])
        body.append(
            f'<tr data-resource="{esc(row["name"])}" data-state="{state}" '
            f'data-health="{health}">'
            f"<td>{esc(row['name'])}</td><td>{esc(row.get('kind'))}</td>"
            f'<td><span class="badge {state_class(row)}">{state}</span></td>'
            f'<td class="health">{health}</td><td>{_port_link(row)}</td>'
            f'<td class="restarts">{esc(row.get("restarts", 0))}</td>'
            f"<td>{esc(waiting)}</td><td>{esc(row.get('pid') or '')}</td>"
            f"<td>{ago(row.get('healthy_at') or row.get('started_at'), now)}</td>"
            f'<td class="reason">{esc(row.get("reason") or "")}</td>'
            f'<td class="actions">{_buttons(row)}</td></tr>'
        )
    return (
        '<table id="resources"><thead><tr><th>resource</th><th>kind</th><th>state</th>'
        "<th>health</th><th>port</th><th>restarts</th><th>waiting on</th><th>pid</th>"
        "<th>up</th><th>note</th><th></th></tr></thead><tbody>"
        + "".join(body)
        + '</tbody></table><p id="action-result" role="status"></p>'
    )


def console_lines(lines: Sequence[Mapping[str, Any]]) -> str:
    """Console output lines (the browser appends later ones as they arrive)."""
    return "".join(console_line(line) for line in lines)


def console_line(line: Mapping[str, Any]) -> str:
    """One console line: time, resource, text."""
    stamp = clock(int(float(line.get("ts", 0)) * 1e9))
    stream = "err" if line.get("stream") == "stderr" else ""
    return (
        f'<div class="line {stream}"><time>{stamp}</time>'
        f"<b>{esc(line.get('service'))}</b> {esc(line.get('text'))}</div>"
    )


def visitors_table(rows: Sequence[tuple[str, str, int]]) -> str:
    """Gateway requests by country and city."""
    if not rows:
        return (
            '<p class="empty">No requests with a known location yet: the gateway adds '
            "<code>geo.country.iso_code</code> and <code>geo.locality.name</code> to its spans "
            "for public client addresses.</p>"
        )
    total = sum(n for _, _, n in rows) or 1
    body = "".join(
        f"<tr><td>{esc(country)}</td><td>{esc(city or '(unknown city)')}</td>"
        f'<td class="num">{n}</td><td><span class="bar" style="width:{100 * n / total:.1f}%">'
        "</span></td></tr>"
        for country, city, n in rows
    )
    return (
        '<table id="visitors"><thead><tr><th>country</th><th>city</th><th>requests</th>'
        f"<th></th></tr></thead><tbody>{body}</tbody></table>"
    )


def trace_rows(traces: Sequence[TraceSummary]) -> str:
    """The trace list: root, services, spans, duration, status; each links to its waterfall."""
    if not traces:
        return '<p class="empty">No traces match.</p>'
    longest = max(t.duration_ms for t in traces) or 1.0
    body = "".join(
        f'<tr data-trace="{t.trace_id}"><td><a href="/traces/{t.trace_id}">'
        f"<code>{t.trace_id[:16]}…</code></a></td><td>{clock(t.start_ns)}</td>"
        f"<td>{esc(t.root_service)}: {esc(t.root_name)}</td>"
        f"<td>{esc(', '.join(t.services))}</td><td class=num>{t.span_count}</td>"
        f'<td class="num">{duration(t.duration_ms)}<span class="bar" '
        f'style="width:{100 * t.duration_ms / longest:.1f}%"></span></td>'
        f'<td><span class="badge {"bad" if t.error else "good"}">'
        f"{'error' if t.error else 'ok'}</span></td></tr>"
        for t in traces
    )
    return (
        '<table id="traces"><thead><tr><th>trace</th><th>started</th><th>root</th>'
        "<th>services</th><th>spans</th><th>duration</th><th>status</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def trace_filters(services: Sequence[str], query: Mapping[str, str]) -> str:
    """The filter form of the trace list, and the find-by-id box."""
    chosen = query.get("service", "")
    options = "".join(
        f'<option value="{esc(s)}"{" selected" if s == chosen else ""}>{esc(s)}</option>'
        for s in services
    )
    status = query.get("status", "")
    return (
        '<form class="filters" method="get" action="/traces">'
        f'<label>service <select name="service"><option value="">any</option>{options}'
        "</select></label>"
        '<label>status <select name="status">'
        f'<option value="">any</option><option value="error"'
        f"{' selected' if status == 'error' else ''}>error</option></select></label>"
        '<label>at least <input name="min_ms" size="5" inputmode="decimal" '
        f'value="{esc(query.get("min_ms", ""))}"> ms</label>'
        '<button type="submit">filter</button></form>'
        '<form class="filters" method="get" action="/traces/find" id="find-trace">'
        '<label>find by trace id <input name="trace_id" size="34" '
        f'value="{esc(query.get("trace_id", ""))}" placeholder="32 hex digits"></label>'
        '<button type="submit">find</button></form>'
    )


def logs_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Structured log records, each linked to its trace when it has one."""
    if not rows:
        return '<p class="empty">No log records match.</p>'
    body = []
    for row in rows:
        trace_id = str(row.get("trace_id") or "")
        link = (
            f'<a href="/traces/{esc(trace_id)}"><code>{esc(trace_id[:16])}…</code></a>'
            if trace_id.strip("0")
            else ""
        )
        severity = str(row.get("severity_text") or "")
        body.append(
            f"<tr><td>{clock(int(row['time_ns']))}</td><td>{esc(row.get('service'))}</td>"
            f'<td><span class="badge {SEVERITY_CLASS.get(severity.upper(), "")}">'
            f"{esc(severity)}</span></td><td>{esc(row.get('body'))}</td><td>{link}</td></tr>"
        )
    return (
        '<table id="logs"><thead><tr><th>time</th><th>service</th><th>level</th>'
        "<th>message</th><th>trace</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>"
    )


def search_form(action: str, fields: Mapping[str, str], labels: Mapping[str, str]) -> str:
    """A GET form with one text box per field."""
    boxes = "".join(
        f'<label>{esc(labels[name])} <input name="{esc(name)}" value="{esc(value)}"></label>'
        for name, value in fields.items()
    )
    return (
        f'<form class="filters" method="get" action="{esc(action)}">{boxes}'
        "<button>search</button></form>"
    )


def link(path: str, **query: str) -> str:
    """A path with its non-empty query parameters."""
    kept = {k: v for k, v in query.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path
