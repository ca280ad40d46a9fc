"""The only module that talks to Cloudflare: the official ``cloudflare`` SDK, with our retrying.

The SDK runs with ``max_retries=0``; every call goes through ``CloudflareApi._call``, which waits
out a 429 for as long as ``retry-after`` says (up to five minutes: Cloudflare blocks a token for
five minutes after 1,200 requests in five minutes, a budget shared with the dashboard), reads the
``Ratelimit`` headers, and turns every SDK error into a CloudflareApiError that names the call.
The clock is injectable, so tests wait on a fake one. Results come back as plain JSON dicts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import cloudflare
import httpx

from homeport.edge.errors import (
    CloudflareApiError,
    EdgeError,
    PermissionMissing,
    RateLimitedTooLong,
)
from homeport.edge.ratelimit import (
    MAX_WAIT,
    Budget,
    Clock,
    SystemClock,
    WaitListener,
    read_ratelimit,
    retry_after,
)

T = TypeVar("T")
Json = dict[str, Any]

DNS_PAGE_SIZE = 5000
RULESET_MISSING = 10003
MAX_RATE_LIMITED = 6
DNS_EDIT = "Zone / DNS / Edit"


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "to_dict"):
        return value.to_dict(mode="json")
    return value


class CloudflareApi:
    """Cloudflare API v4 as homeport uses it; one instance per command."""

    def __init__(
        self,
        token: str,
        base_url: str | None = None,
        *,
        clock: Clock | None = None,
        on_wait: WaitListener | None = None,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.budget = Budget()
        self._clock = clock or SystemClock()
        self._on_wait = on_wait
        self._max_wait = max_wait
        self._http = httpx.Client(
            timeout=httpx.Timeout(30.0, connect=5.0),
            event_hooks={"request": [self._saw_request], "response": [self._saw_response]},
        )
        self.sdk = cloudflare.Cloudflare(
            api_token=token, base_url=base_url, max_retries=0, http_client=self._http
        )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **options: Any) -> CloudflareApi:
        """A client from ``CLOUDFLARE_API_TOKEN`` and ``CLOUDFLARE_BASE_URL`` (optional)."""
        environ = os.environ if env is None else env
        token = environ.get("CLOUDFLARE_API_TOKEN", "").strip()
        if not token:
            raise EdgeError(
                "CLOUDFLARE_API_TOKEN is not set; export an API token with Zone:DNS:Edit, "
                "Zone:Zone Settings:Edit, Zone:WAF:Edit and Account:Cloudflare Tunnel:Edit"
            )
        return cls(token, environ.get("CLOUDFLARE_BASE_URL") or None, **options)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.sdk.close()
        self._http.close()

    def __enter__(self) -> CloudflareApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _saw_request(self, request: httpx.Request) -> None:
        self.budget.requests += 1
        self.budget.calls.append(f"{request.method} {request.url.path}")

    def _saw_response(self, response: httpx.Response) -> None:
        seen = read_ratelimit(response)
        if seen is not None:
            self.budget.remaining, self.budget.reset = seen

    def _wait(self, seconds: float, why: str) -> None:
        if seconds > self._max_wait:
            raise RateLimitedTooLong(
                f"{why}: Cloudflare asks to wait {seconds:.0f}s, more than the "
                f"{self._max_wait:.0f}s homeport waits; try again later (other tools and the "
                "dashboard share this token's budget of 1,200 requests per 5 minutes)"
            )
        if self._on_wait is not None:
            self._on_wait(seconds, why)
        self.budget.waited += seconds
        self._clock.sleep(seconds)

    def _call(
        self,
        what: str,
        request: Callable[[], T],
        *,
        missing_ok: bool | int = False,
        permission: str = "",
    ) -> T | None:
        """Run ``request``: wait out 429s, map errors; None for a 404 when ``missing_ok`` (True,
        or the Cloudflare error code that means "not there yet")."""
        for _attempt in range(MAX_RATE_LIMITED):
            if self.budget.remaining == 0 and self.budget.reset:
                self.budget.remaining = None
                self._wait(float(self.budget.reset), f"{what}: rate-limit budget used up")
            try:
                return request()
            except cloudflare.RateLimitError as exc:
                self.budget.remaining = None  # this wait covers what the 429's header says
                self._wait(retry_after(exc.response), f"{what}: rate limited (429)")
            except cloudflare.NotFoundError as exc:
                if missing_ok is True or (missing_ok and missing_ok in _codes(exc)):
                    return None
                raise CloudflareApiError(f"{what}: not found ({_messages(exc)})", 404) from exc
            except (cloudflare.PermissionDeniedError, cloudflare.AuthenticationError) as exc:
                needed = permission or _permission_for(what)
                raise PermissionMissing(
                    f"{what}: the API token lacks the permission {needed} ({_messages(exc)}); "
                    "add it to the token"
                ) from exc
            except cloudflare.APIStatusError as exc:
                raise CloudflareApiError(
                    f"{what}: Cloudflare answered {exc.status_code}: {_messages(exc)}",
                    exc.status_code,
                ) from exc
            except cloudflare.APIConnectionError as exc:
                raise CloudflareApiError(
                    f"{what}: cannot reach Cloudflare at {self.sdk.base_url} ({exc}); "
                    "check CLOUDFLARE_BASE_URL and the network"
                ) from exc
        raise RateLimitedTooLong(
            f"{what}: still rate limited after {MAX_RATE_LIMITED} waits; try again later"
        )

    def _must(self, what: str, request: Callable[[], T], permission: str = "") -> T:
        result = self._call(what, request, permission=permission)
        if result is None:
            raise CloudflareApiError(f"{what}: Cloudflare returned no result")
        return result

    # -- zones -------------------------------------------------------------------------------

    def zone(self, name: str) -> Json | None:
        """The zone called ``name``, or None when the token cannot see it."""
        page = self._must(f"list zone {name}", lambda: self.sdk.zones.list(name=name))
        found = [_plain(z) for z in page.result]
        return found[0] if found else None

    def settings(self, zone_id: str, zone: str) -> list[Json]:
        """Every setting of a zone, in one call."""
        body = self._must(
            f"read settings of {zone}",
            lambda: self.sdk.get(f"/zones/{zone_id}/settings", cast_to=cast(Any, object)),
        )
        return list(cast(Json, body).get("result") or [])

    def edit_setting(self, zone_id: str, zone: str, setting: str, value: Any) -> None:
        """Change one zone setting."""
        self._call(
            f"set zone setting {setting} on {zone}",
            lambda: self.sdk.zones.settings.edit(setting, zone_id=zone_id, value=value),
        )

    # -- DNS ---------------------------------------------------------------------------------

    def dns_records(self, zone_id: str, zone: str, page_size: int = DNS_PAGE_SIZE) -> list[Json]:
        """Every DNS record of a zone, in pages as large as the API allows.

        Plain JSON through the SDK's generic GET: its typed models cost ~1 s per 5,000 records.
        """
        records: list[Json] = []
        page_number = 1
        while True:
            params = {"page": page_number, "per_page": page_size}
            items = self._must(
                f"list DNS records of {zone}",
                lambda params=params: self._list(f"/zones/{zone_id}/dns_records", params),  # type: ignore[misc]
            )
            records.extend(items)
            if len(items) < page_size:
                return records
            page_number += 1

    def _list(self, path: str, params: Json) -> list[Json]:
        body = self.sdk.get(path, cast_to=cast(Any, object), options={"params": params})
        return list(cast(Json, body).get("result") or [])

    def dns_batch(
        self,
        zone_id: str,
        zone: str,
        *,
        deletes: Iterable[Json] = (),
        patches: Iterable[Json] = (),
        posts: Iterable[Json] = (),
        puts: Iterable[Json] = (),
    ) -> Json:
        """One all-or-nothing batch of DNS changes (deletes, patches, puts, then posts)."""
        result = self._call(
            f"change DNS records of {zone} (batch)",
            lambda: self.sdk.dns.records.batch(
                zone_id=zone_id,
                deletes=cast(Any, list(deletes)),
                patches=cast(Any, list(patches)),
                puts=cast(Any, list(puts)),
                posts=cast(Any, list(posts)),
            ),
        )
        return cast(Json, _plain(result) or {})

    def dns_create(self, zone_id: str, what: str, record: Json) -> Json:
        """Create one record."""
        body = self._must(
            what,
            lambda: self.sdk.post(
                f"/zones/{zone_id}/dns_records", body=record, cast_to=cast(Any, object)
            ),
            permission=DNS_EDIT,
        )
        return cast(Json, cast(Json, body)["result"])

    def dns_patch(self, zone_id: str, what: str, record_id: str, fields: Json) -> None:
        """Change some fields of one record."""
        self._call(
            what,
            lambda: self.sdk.patch(
                f"/zones/{zone_id}/dns_records/{record_id}", body=fields, cast_to=cast(Any, object)
            ),
            permission=DNS_EDIT,
        )

    def dns_delete(self, zone_id: str, what: str, record_id: str) -> None:
        """Delete one record."""
        self._call(
            what,
            lambda: self.sdk.dns.records.delete(record_id, zone_id=zone_id),
            missing_ok=True,
            permission=DNS_EDIT,
        )

    def dns_find(self, zone_id: str, zone: str, name: str) -> list[Json]:
        """The records called ``name`` (one GET)."""
        return self._must(
            f"read DNS records of {name}",
            lambda: self._list(f"/zones/{zone_id}/dns_records", {"name": name, "per_page": 100}),
        )

    # -- WAF ---------------------------------------------------------------------------------

    def waf_entrypoint(self, zone_id: str, zone: str, phase: str) -> Json | None:
        """The zone's entrypoint ruleset of ``phase``; None when it does not exist yet (10003)."""
        path = f"/zones/{zone_id}/rulesets/phases/{phase}/entrypoint"
        result = self._call(
            f"read WAF custom rules of {zone}",
            lambda: self._get(path),
            missing_ok=RULESET_MISSING,
        )
        return result

    def put_waf_entrypoint(self, zone_id: str, zone: str, phase: str, rules: list[Json]) -> Json:
        """Replace the entrypoint's whole rule list."""
        path = f"/zones/{zone_id}/rulesets/phases/{phase}/entrypoint"
        return self._must(
            f"write WAF custom rules of {zone}", lambda: self._send("put", path, {"rules": rules})
        )

    # -- tunnel ------------------------------------------------------------------------------
    # Through the SDK's generic methods: its typed ``zero_trust`` tree takes seconds to import.

    def tunnel(self, account_id: str, tunnel_id: str) -> Json:
        """The tunnel: its name, status and connections."""
        path = f"/accounts/{account_id}/cfd_tunnel/{tunnel_id}"
        return self._must(f"read tunnel {tunnel_id}", lambda: self._get(path))

    def rename_tunnel(self, account_id: str, tunnel_id: str, name: str) -> None:
        """Set the tunnel's name (the same name: a harmless write that proves permission)."""
        path = f"/accounts/{account_id}/cfd_tunnel/{tunnel_id}"
        self._call(f"edit tunnel {tunnel_id}", lambda: self._send("patch", path, {"name": name}))

    def tunnel_config(self, account_id: str, tunnel_id: str) -> Json:
        """The tunnel's configuration and its ``version``."""
        path = f"/accounts/{account_id}/cfd_tunnel/{tunnel_id}/configurations"
        result = self._call(
            f"read the configuration of tunnel {tunnel_id}", lambda: self._get(path)
        )
        return result or {}

    def put_tunnel_config(self, account_id: str, tunnel_id: str, config: Json) -> Json:
        """Replace the tunnel's whole configuration (the version goes up by one)."""
        path = f"/accounts/{account_id}/cfd_tunnel/{tunnel_id}/configurations"
        result = self._call(
            f"write the configuration of tunnel {tunnel_id}",
            lambda: self._send("put", path, {"config": config}),
        )
        return result or {}

    def _get(self, path: str) -> Json:
        body = self.sdk.get(path, cast_to=cast(Any, object))
        return cast(Json, cast(Json, body).get("result") or {})

    def _send(self, method: str, path: str, payload: Json) -> Json:
        send = getattr(self.sdk, method)
        body = send(path, body=payload, cast_to=cast(Any, object))
        return cast(Json, cast(Json, body).get("result") or {})

    # -- Pages -------------------------------------------------------------------------------

    def pages_project(self, account_id: str, name: str) -> Json | None:
        """The Pages project called ``name``, or None."""
        result = self._call(
            f"read Pages project {name}",
            lambda: self.sdk.pages.projects.get(name, account_id=account_id),
            missing_ok=True,
        )
        return cast(Json | None, _plain(result))

    def pages_domains(self, account_id: str, project: str) -> list[Json]:
        """The custom domains of a Pages project."""
        page = self._must(
            f"list custom domains of Pages project {project}",
            lambda: self.sdk.pages.projects.domains.list(project, account_id=account_id),
        )
        return [_plain(item) for item in page.result]

    def retry_pages_domain(self, account_id: str, project: str, domain: str) -> Json:
        """Ask Pages to validate a custom domain again."""
        result = self._must(
            f"re-validate {domain} on Pages project {project}",
            lambda: self.sdk.pages.projects.domains.edit(
                domain, account_id=account_id, project_name=project
            ),
        )
        return cast(Json, _plain(result))


_PERMISSIONS = (
    ("tunnel", "Account / Cloudflare Tunnel"),
    ("pages", "Account / Cloudflare Pages"),
    ("dns", "Zone / DNS"),
    ("waf", "Zone / Zone WAF"),
    ("setting", "Zone / Zone Settings"),
    ("zone", "Zone / Zone"),
)


def _permission_for(what: str) -> str:
    text = what.lower().replace("re-validate", "pages")
    verb = "Read" if text.startswith(("read", "list")) else "Edit"
    for word, name in _PERMISSIONS:
        if word in text:
            return f"{name} / {verb}"
    return f"Zone / {verb}"


def _codes(exc: cloudflare.APIStatusError) -> set[int]:
    body = exc.body if isinstance(exc.body, dict) else {}
    return {int(e.get("code") or 0) for e in body.get("errors") or [] if isinstance(e, dict)}


def _messages(exc: cloudflare.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    errors = body.get("errors") or []
    parts = []
    for error in errors:
        if isinstance(error, dict):
            text = f"{error.get('code')}: {error.get('message')}"
            chain = error.get("error_chain") or []
            text += "".join(f" ({c.get('message')})" for c in chain if isinstance(c, dict))
            parts.append(text)
    return "; ".join(parts) or exc.message
