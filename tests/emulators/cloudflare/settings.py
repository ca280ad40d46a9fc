"""Zone settings: the ones a zone starts with, which values each accepts, which a plan locks."""

from __future__ import annotations

from typing import Any

from tests.emulators.cloudflare.api import ApiError, JsonDict
from tests.emulators.cloudflare.clock import timestamp

ON_OFF = ("on", "off")

# setting id -> (default value, accepted values or None for "any value of the default's type")
SETTINGS: dict[str, tuple[Any, tuple[Any, ...] | None]] = {
    "always_use_https": ("off", ON_OFF),
    "automatic_https_rewrites": ("on", ON_OFF),
    "brotli": ("on", ON_OFF),
    "browser_check": ("on", ON_OFF),
    "challenge_ttl": (
        1800,
        (
            300,
            900,
            1800,
            2700,
            3600,
            7200,
            10800,
            14400,
            28800,
            57600,
            86400,
            604800,
            2592000,
            31536000,
        ),
    ),
    "development_mode": ("off", ON_OFF),
    "email_obfuscation": ("on", ON_OFF),
    "hotlink_protection": ("off", ON_OFF),
    "http3": ("on", ON_OFF),
    "ipv6": ("on", ON_OFF),
    "min_tls_version": ("1.0", ("1.0", "1.1", "1.2", "1.3")),
    "opportunistic_encryption": ("on", ON_OFF),
    "security_level": (
        "medium",
        ("off", "essentially_off", "low", "medium", "high", "under_attack"),
    ),
    "ssl": ("full", ("off", "flexible", "full", "strict")),
    "tls_1_3": ("on", ("on", "off", "zrt")),
    "waf": ("off", ON_OFF),
    "websockets": ("on", ON_OFF),
}

# Settings the Free plan shows but does not let you change.
LOCKED_ON_FREE = frozenset({"waf"})


def default_settings(plan: str) -> dict[str, JsonDict]:
    """Every setting a new zone on ``plan`` starts with."""
    now = timestamp()
    return {
        setting_id: {
            "id": setting_id,
            "value": default,
            "editable": not (plan == "free" and setting_id in LOCKED_ON_FREE),
            "modified_on": now,
        }
        for setting_id, (default, _accepted) in SETTINGS.items()
    }


def merge_settings(given: dict[str, Any], plan: str) -> dict[str, JsonDict]:
    """Defaults overlaid with a state file's ``{"ssl": "strict"}`` or full setting objects."""
    settings = default_settings(plan)
    for setting_id, value in given.items():
        entry = value if isinstance(value, dict) and "value" in value else {"value": value}
        base = settings.get(setting_id, {"id": setting_id, "editable": True})
        settings[setting_id] = {**base, **entry, "id": setting_id}
        settings[setting_id].setdefault("modified_on", timestamp())
    return settings


def edit_setting(settings: dict[str, JsonDict], setting_id: str, body: JsonDict) -> JsonDict:
    """Apply a ``PATCH {"value": ...}`` to one setting, refusing locked ones and unknown values."""
    current = settings.get(setting_id)
    if current is None:
        raise ApiError(404, 1003, f"Invalid or missing zone setting: {setting_id}")
    if "value" not in body:
        raise ApiError(400, 1007, f"Invalid value for zone setting {setting_id}")
    if not current.get("editable", True):
        raise ApiError(400, 1025, f"Zone setting {setting_id} is not editable on this zone's plan")
    accepted = SETTINGS.get(setting_id, (None, None))[1]
    if accepted is not None and body["value"] not in accepted:
        raise ApiError(400, 1007, f"Invalid value for zone setting {setting_id}")
    current.update(value=body["value"], modified_on=timestamp())
    return current
