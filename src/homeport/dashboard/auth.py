"""The dashboard's token: given once in the URL, then kept in an HttpOnly cookie.

As Aspire's dashboard does, ``homeport up`` prints ``http://127.0.0.1:PORT/?t=TOKEN``. The first
visit trades the token for a ``SameSite=Strict`` cookie and redirects to the same page without
it, so the token leaves the address bar. Every page, API call and event stream checks the cookie;
only the OTLP receiver (``/v1/...``) is open, since the services post to it without a browser.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

COOKIE = "homeport_dashboard"
OPEN_PREFIXES = ("/v1/",)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DENIED = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>homeport dashboard: sign-in needed</title></head><body>
<h1>This dashboard needs its token</h1>
<p>Open the address <code>homeport up</code> printed when it started (it ends in
<code>?t=...</code>), or run <code>homeport dashboard -f homeport.yaml</code> to see it again.</p>
</body></html>"""


def same(given: str | None, token: str) -> bool:
    """Constant-time comparison of a presented token with the real one."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def token_middleware(token: str) -> Middleware:
    """An aiohttp middleware that admits a request only with the token (cookie or ``?t=``)."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(OPEN_PREFIXES):
            return await handler(request)
        if "t" in request.query:
            if not same(request.query["t"], token):
                return _denied()
            query = {k: v for k, v in request.query.items() if k != "t"}
            target = request.rel_url.with_query(query)
            redirect = web.Response(status=303, headers={"Location": str(target)})
            redirect.set_cookie(
                COOKIE, token, httponly=True, samesite="Strict", path="/", max_age=None
            )
            return redirect
        if not same(request.cookies.get(COOKIE), token):
            return _denied()
        if request.method == "POST" and request.headers.get("X-Requested-With") != "homeport":
            return web.json_response({"error": "missing X-Requested-With: homeport"}, status=403)
        response = await handler(request)
        if not response.prepared:  # an event stream sent its headers already
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
            )
        return response

    return check


def _denied() -> web.Response:
    return web.Response(text=DENIED, status=401, content_type="text/html")
