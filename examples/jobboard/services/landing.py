"""The landing page: the newest jobs, fetched from the gateway (API_URL) and rendered on the
server. /healthz does not depend on the gateway, so the page can start before it."""

from __future__ import annotations

from html import escape
from typing import Any

import httpx
from opentelemetry.trace import SpanKind
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from homeport import telemetry
from services.common.settings import Settings
from services.common.tracing import tracer
from services.common.web import create_app, serve

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Job board</title>
<style>body{{font-family:sans-serif;max-width:46rem;margin:2rem auto}}
li{{margin:.6rem 0}}.tag{{background:#eef;border-radius:3px;padding:0 .3rem;margin-right:.2rem}}
</style></head>
<body><h1>Job board</h1>
{body}
</body></html>
"""


def render_jobs(jobs: list[dict[str, Any]]) -> str:
    """The job list as HTML, every value escaped."""
    if not jobs:
        return "<p>No jobs yet.</p>"
    items = []
    for job in jobs:
        tags = "".join(f'<span class="tag">{escape(t)}</span>' for t in job.get("tags") or [])
        items.append(
            f"<li><strong>{escape(job['title'])}</strong> · {escape(job['company'])}"
            f" · {escape(job.get('location') or 'anywhere')} {tags}</li>"
        )
    return '<ul id="jobs">\n' + "\n".join(items) + "\n</ul>"


async def home(request: Request) -> HTMLResponse:
    """The page; 502 with a short explanation when the API cannot be reached."""
    api_url: str = request.app.state.api_url
    headers = {k: v for k, v in request.headers.items() if k == "x-mode"}
    url = f"{api_url}/api/jobs?limit=50"
    attributes = {"http.request.method": "GET", "url.full": url}
    try:
        with telemetry.span(tracer, "GET", SpanKind.CLIENT, attributes) as span:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(url, headers=telemetry.inject_headers(headers))
            span.set_attribute("http.response.status_code", response.status_code)
            response.raise_for_status()
            jobs = response.json()["jobs"]
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        body = f"<p>The job list is unavailable right now ({escape(type(exc).__name__)}).</p>"
        return HTMLResponse(PAGE.format(body=body), status_code=502)
    return HTMLResponse(PAGE.format(body=render_jobs(jobs)))


def main() -> None:
    """Serve the page on PORT."""
    settings = Settings.from_env("landing")
    app = create_app(settings, [Route("/", home)])
    app.state.api_url = settings.require("API_URL", settings.api_url)
    serve(app, settings)


if __name__ == "__main__":
    main()
