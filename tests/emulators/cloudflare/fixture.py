"""Start the Cloudflare API emulator from a test, and drive its control API.

Typical use (the real ``cloudflare`` SDK against the emulator)::

    from tests.emulators.cloudflare.fixture import start_emulator

    emulator = start_emulator()            # default_state(): see defaults.py, summarised below
    try:
        client = emulator.client()         # cloudflare.Cloudflare(base_url=..., max_retries=0)
        zone_id = emulator.zone_id("elkhair.tech")
        client.dns.records.create(zone_id=zone_id, type="A", name="x", content="192.0.2.1")
        emulator.control.add_fault("429", retry_after=300, method="GET", path=r"/dns_records")
        ...
        assert len(emulator.control.requests(method="POST", path=r"/dns_records/batch$")) == 1
    finally:
        emulator.stop()

or, as a pytest fixture, import ``cloudflare_emulator`` into your conftest (it yields a fresh
emulator with the default state on the Free plan, and stops it after the test).

For a subprocess (``homeport edge plan``), pass ``env={**os.environ, **emulator.env()}``: that
sets ``CLOUDFLARE_BASE_URL`` and ``CLOUDFLARE_API_TOKEN``.

The default state (``default_state(plan)`` in ``defaults.py``): account
``0123456789abcdef0123456789abcdef``; token ``emulator.token`` with every permission
(``zone:read dns:read dns:write waf:read waf:write zone_settings:read zone_settings:write
tunnel:read tunnel:write pages:read pages:write``; ``write`` implies ``read``); zones
``elkhair.tech`` and ``eelkhair.net`` on ``plan`` with no records, no WAF rules and default
settings (``waf`` is ``editable: false`` on Free); tunnel ``6ff42ae2-765d-4adf-8112-31c55c1551ef``
(``homelab``) healthy with 2 connections and configuration version 1 = catch-all only; Pages
project ``landing-backup`` with active custom domains ``elkhair.tech``, ``www.elkhair.tech``,
``dev.elkhair.tech``.

To start from other data, build a dict in the state file's format (docs/cloudflare-emulator.md)
— e.g. ``state = default_state(); state["zones"][0]["records"] = [{"type": "A", ...}]`` — or add
tokens with fewer permissions: ``{"value": "t2", "permissions": ["zone:read", "dns:read"],
"zones": ["elkhair.tech"]}`` (``zones`` limits the token to those zones).

Faults (``control.add_fault(kind, **options)``), all deterministic: ``method`` and ``path``
(a regex searched in the path, e.g. ``r"/dns_records$"``) choose the requests; ``after=N`` lets
N matching requests through first; ``times`` is how many times it fires (default 1, ``None`` =
forever). Kinds:

- ``"429"``: ``retry_after`` seconds (default 300) in ``Retry-After`` and ``Ratelimit`` headers.
- ``"500"``/``"502"``/``"503"``: before the request is carried out, or after it with
  ``applied=True`` (the change is made and the answer lost).
- ``"batch_fail"``: ``record_name`` (fully qualified); any DNS write touching it, batch or
  single, is refused with 400/1004, and nothing in that batch is applied.
- ``"dashboard_edit_tunnel"``: bumps the tunnel configuration ``version`` as a dashboard edit
  would, optionally replacing it with ``config``; at once, unless ``method``/``path`` are given,
  in which case just before the matching request.

Other control calls: ``requests(method, path)`` / ``reset_requests()`` (the request log: method,
path from ``/client/v4``, query dict, status, body of writes), ``state()`` / ``load_state(s)``,
``reset(state=None)`` (state, faults, log and budget back to the start, for hypothesis examples
sharing one emulator), ``set_rate_limit(limit, window)`` and ``advance_clock(seconds)`` (the
real budget: 1200 requests / 300 s per token, then 429 on every call for 300 s),
``set_tunnel_health(connections, status=None)`` (0 connections: ``down``),
``set_pages_domain(project, domain, status)``, ``dashboard_edit_tunnel(config=None)``.

SDK notes found while testing: ``client.rulesets.phases.update()`` returns a plain ``dict`` (its
type is ``Union[Ruleset, object]``); the typed ``client.dns.records.batch()`` spends seconds of
client CPU on thousands of records, while ``client.post(path, body=..., cast_to=...)`` does not.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import cloudflare
import pytest

from tests.emulators.cloudflare.api import JsonDict
from tests.emulators.cloudflare.defaults import default_state
from tests.emulators.cloudflare.server import CloudflareEmulator
from tests.emulators.cloudflare.state import EmulatorState


class EmulatorControlError(RuntimeError):
    """The control API refused a request (bad fault, unknown tunnel...)."""


class Control:
    """Client of the emulator's ``/__emulator__/`` control API (works across processes)."""

    def __init__(self, root_url: str) -> None:
        self.root_url = root_url.rstrip("/")

    def _call(self, method: str, route: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.root_url}/__emulator__{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}").get("error", error.reason)
            raise EmulatorControlError(f"{method} {route}: {detail}") from None

    def add_fault(self, kind: str, **options: Any) -> JsonDict:
        """Register a fault (see the module docstring); returns it with its ``id``.

        An immediate ``dashboard_edit_tunnel`` returns the new configuration ``version``.
        """
        return dict(self._call("POST", "/faults", {"kind": kind, **options}))

    def faults(self) -> list[JsonDict]:
        """The registered faults with their ``seen`` and ``fired`` counters."""
        return list(self._call("GET", "/faults"))

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._call("DELETE", "/faults")

    def dashboard_edit_tunnel(self, tunnel_id: str | None = None, config: Any = None) -> int:
        """Edit the tunnel configuration "from the dashboard" now; returns the new version."""
        options: JsonDict = {"tunnel_id": tunnel_id, "config": config}
        fault = self.add_fault(
            "dashboard_edit_tunnel", **{k: v for k, v in options.items() if v is not None}
        )
        return int(fault["version"])

    def requests(self, method: str | None = None, path: str | None = None) -> list[JsonDict]:
        """Logged API requests, oldest first: ``method``, ``path`` (from ``/client/v4``),
        ``query`` (dict), ``status``, ``time`` and, for writes, ``body``. ``path`` is a regex."""
        entries = list(self._call("GET", "/requests"))
        return [
            entry
            for entry in entries
            if (method is None or entry["method"] == method.upper())
            and (path is None or re.search(path, entry["path"]))
        ]

    def reset_requests(self) -> None:
        """Empty the request log."""
        self._call("POST", "/requests/reset")

    def state(self) -> JsonDict:
        """The whole state, in the state file's format."""
        return dict(self._call("GET", "/state"))

    def load_state(self, state: JsonDict) -> None:
        """Replace the whole state (ids given in ``state`` are kept)."""
        self._call("POST", "/state", state)

    def reset(self, state: JsonDict | None = None) -> None:
        """Start over without restarting: ``state`` (default: the default state on the server's
        plan), no faults, an empty request log and a fresh rate-limit budget. Handy for
        hypothesis examples, which share one emulator."""
        self._call("POST", "/reset", state or {})

    def advance_clock(self, seconds: float) -> None:
        """Move the rate limiter's clock forward (ends a 5-minute block without waiting)."""
        self._call("POST", "/clock", {"advance": seconds})

    def set_rate_limit(self, limit: int, window: float = 300.0) -> None:
        """Change the per-token budget (default 1200 requests per 300 s)."""
        self._call("POST", "/rate_limit", {"limit": limit, "window": window})

    def set_tunnel_health(
        self, connections: int, status: str | None = None, tunnel_id: str | None = None
    ) -> JsonDict:
        """Give the tunnel ``connections`` connections; status defaults to healthy/down."""
        body: JsonDict = {"connections": connections, "status": status, "tunnel_id": tunnel_id}
        return dict(self._call("POST", "/tunnel_health", body))

    def set_pages_domain(self, project: str, domain: str, status: str) -> JsonDict:
        """Set a Pages custom domain's status (active, pending, deactivated...)."""
        body = {"project": project, "domain": domain, "status": status}
        return dict(self._call("POST", "/pages_domain", body))


@dataclass
class Emulator:
    """A running emulator: what a test needs to point a client at it, and to stop it."""

    server: CloudflareEmulator
    token: str
    account_id: str
    _clients: list[cloudflare.Cloudflare] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/client/v4``: the SDK's ``base_url``."""
        return self.server.base_url

    @property
    def control(self) -> Control:
        """The control API client."""
        return Control(self.server.root_url)

    def zone_id(self, name: str) -> str:
        """The id of the zone called ``name``."""
        zone = self.server.state.zone_by_name(name)
        if zone is None:
            raise KeyError(f"the emulator has no zone {name}")
        return str(zone["id"])

    def client(self, token: str | None = None) -> cloudflare.Cloudflare:
        """The official SDK pointed at the emulator, with ``max_retries=0`` as homeport uses it;
        ``stop()`` closes it."""
        client = cloudflare.Cloudflare(
            api_token=token or self.token, base_url=self.base_url, max_retries=0
        )
        self._clients.append(client)
        return client

    def env(self) -> dict[str, str]:
        """``CLOUDFLARE_BASE_URL`` and ``CLOUDFLARE_API_TOKEN`` for a subprocess."""
        return {"CLOUDFLARE_BASE_URL": self.base_url, "CLOUDFLARE_API_TOKEN": self.token}

    def stop(self) -> None:
        """Stop the server and close the SDK clients ``client()`` made."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        self.server.stop()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(
    state: JsonDict | None = None,
    plan: str = "free",
    rate_limit: int = 1200,
    rate_window: float = 300.0,
) -> Emulator:
    """Start an emulator on a free loopback port, serving in a background thread.

    ``state`` defaults to ``default_state(plan)``; ``plan`` is also the plan of any zone in
    ``state`` that names none. ``.token`` is the first token of the state.
    """
    data = default_state(plan) if state is None else state
    server = CloudflareEmulator(
        EmulatorState(data, default_plan=plan), rate_limit=rate_limit, rate_window=rate_window
    )
    server.start()
    tokens = server.state.tokens
    return Emulator(
        server=server,
        token=str(tokens[0]["value"]) if tokens else "",
        account_id=str(server.state.account["id"]),
    )


@pytest.fixture
def cloudflare_emulator() -> Iterator[Emulator]:
    """A fresh emulator with the default state on the Free plan, stopped after the test."""
    emulator = start_emulator()
    try:
        yield emulator
    finally:
        emulator.stop()
