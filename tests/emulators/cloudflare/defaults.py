"""The state the emulator starts with when given none: the example platform's account."""

from __future__ import annotations

from tests.emulators.cloudflare.api import JsonDict

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
TOKEN = "homeport-emulator-token-all-permissions"
TUNNEL_ID = "6ff42ae2-765d-4adf-8112-31c55c1551ef"
ZONE_IDS = {
    "elkhair.tech": "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1",
    "eelkhair.net": "ee1ee1ee1ee1ee1ee1ee1ee1ee1ee1ee",
}
PAGES_PROJECT = "landing-backup"
PAGES_DOMAINS = ("elkhair.tech", "www.elkhair.tech", "dev.elkhair.tech")
ALL_PERMISSIONS = (
    "zone:read",
    "dns:read",
    "dns:write",
    "waf:read",
    "waf:write",
    "zone_settings:read",
    "zone_settings:write",
    "tunnel:read",
    "tunnel:write",
    "pages:read",
    "pages:write",
)


def default_state(plan: str = "free") -> JsonDict:
    """A fresh copy of the default state (edit it freely before passing it to the emulator).

    - account ``ACCOUNT_ID`` (``0123456789abcdef0123456789abcdef``, the example platform's);
    - one token ``TOKEN`` holding every permission in ``ALL_PERMISSIONS``, on every zone;
    - zones ``elkhair.tech`` and ``eelkhair.net`` (ids in ``ZONE_IDS``) on ``plan``, with no DNS
      records, no WAF rules and Cloudflare's default settings;
    - tunnel ``TUNNEL_ID`` named ``homelab``: ``healthy``, two connections, configuration
      version 1 holding only the catch-all ``{"service": "http_status:404"}``;
    - Pages project ``landing-backup`` (``landing-backup.pages.dev``) with the custom domains
      ``PAGES_DOMAINS``, all ``active``.
    """
    return {
        "account": {"id": ACCOUNT_ID, "name": "homeport"},
        "tokens": [{"value": TOKEN, "permissions": list(ALL_PERMISSIONS)}],
        "zones": [
            {"id": zone_id, "name": name, "plan": plan} for name, zone_id in ZONE_IDS.items()
        ],
        "tunnels": [
            {
                "id": TUNNEL_ID,
                "name": "homelab",
                "status": "healthy",
                "connections": 2,
                "config": {"ingress": [{"service": "http_status:404"}]},
                "config_version": 1,
            }
        ],
        "pages_projects": [
            {
                "name": PAGES_PROJECT,
                "domains": [{"name": name, "status": "active"} for name in PAGES_DOMAINS],
            }
        ],
    }
