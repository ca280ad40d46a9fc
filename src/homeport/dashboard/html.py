"""The page shell every dashboard page shares, and small formatting helpers (pure)."""

from __future__ import annotations

import datetime as dt
from html import escape

NAV = (
    ("/", "Resources"),
    ("/graph", "Graph"),
    ("/console", "Console"),
    ("/traces", "Traces"),
    ("/logs", "Structured logs"),
    ("/visitors", "Visitors"),
)


def esc(value: object) -> str:
    """HTML-escaped text of any value (None is empty)."""
    return "" if value is None else escape(str(value), quote=True)


def clock(ns: int) -> str:
    """A Unix-nanosecond time as local HH:MM:SS.mmm."""
    return dt.datetime.fromtimestamp(ns / 1e9).strftime("%H:%M:%S.%f")[:-3]


def ago(seconds: float | None, now: float) -> str:
    """How long since a Unix time, in the largest sensible unit ("" when unknown)."""
    if not seconds:
        return ""
    elapsed = max(0.0, now - seconds)
    if elapsed < 60:
        return f"{elapsed:.0f}s"
    if elapsed < 3600:
        return f"{elapsed / 60:.0f}m"
    return f"{elapsed / 3600:.1f}h"


def duration(ms: float) -> str:
    """A duration in ms or s, three significant digits."""
    return f"{ms:.3g} ms" if ms < 1000 else f"{ms / 1000:.3g} s"


def page(title: str, path: str, main: str, *, live: str = "", before: str = "") -> str:
    """A whole page: navigation, ``before`` (filters that live refreshes must not replace),
    and ``main``, which the browser re-fetches alone on the SSE events named in ``live``."""
    links = "".join(
        f'<a href="{href}"{" class=active" if href == path else ""}>{label}</a>'
        for href, label in NAV
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)} · homeport</title>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<link rel="stylesheet" href="/static/app.css"></head>\n<body>'
        f"<header><strong>homeport</strong><nav>{links}</nav>"
        '<span id="live" title="live updates">●</span></header>\n'
        f"<h1>{esc(title)}</h1>{before}"
        f'<main id="main" data-live="{esc(live)}">{main}</main>'
        '<script src="/static/app.js"></script></body></html>\n'
    )
