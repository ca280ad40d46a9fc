"""What the emulated account holds, loaded from and dumped to the state file's JSON.

The loader accepts a terse hand-written file (names and values only) as well as a full dump,
and fills in everything the API would have added (ids, timestamps, defaults), so that
``load(dump(state)) == state``.
"""

from __future__ import annotations

import copy
import threading

from tests.emulators.cloudflare.api import JsonDict
from tests.emulators.cloudflare.clock import new_id, new_uuid, timestamp
from tests.emulators.cloudflare.records import build_record
from tests.emulators.cloudflare.settings import merge_settings

PLANS = ("free", "pro")
PLAN_NAMES = {"free": "Free Website", "pro": "Pro Website"}
PLAN_PRICES = {"free": 0, "pro": 20}


class EmulatorState:
    """The account's zones, tunnels, Pages projects and tokens, guarded by one lock."""

    def __init__(self, data: JsonDict, default_plan: str = "free") -> None:
        self.lock = threading.RLock()
        self.default_plan = default_plan
        self.load(data)

    def load(self, data: JsonDict) -> None:
        """Replace everything with the state described by ``data`` (a state file's content)."""
        with self.lock:
            account = data.get("account") or {}
            self.account: JsonDict = {
                "id": account.get("id") or new_id(),
                "name": account.get("name", "homeport"),
            }
            self.tokens: list[JsonDict] = [dict(token) for token in data.get("tokens", [])]
            self.zones: dict[str, JsonDict] = {}
            for zone in data.get("zones", []):
                built = self._zone(zone)
                self.zones[built["id"]] = built
            self.tunnels: dict[str, JsonDict] = {}
            for tunnel in data.get("tunnels", []):
                built = _tunnel(tunnel, self.account["id"])
                self.tunnels[built["id"]] = built
            self.projects: dict[str, JsonDict] = {}
            for project in data.get("pages_projects", []):
                built = _project(project)
                self.projects[built["name"]] = built

    def dump(self) -> JsonDict:
        """The whole state as the state file's JSON (loadable again with ``load``)."""
        with self.lock:
            zones = []
            for zone in self.zones.values():
                zone_json = {k: v for k, v in zone.items() if k not in {"records", "rulesets"}}
                zone_json["records"] = list(zone["records"].values())
                zone_json["rulesets"] = list(zone["rulesets"].values())
                zones.append(zone_json)
            projects = []
            for project in self.projects.values():
                projects.append({**project, "domains": list(project["domains"].values())})
            return copy.deepcopy(
                {
                    "account": self.account,
                    "tokens": self.tokens,
                    "zones": zones,
                    "tunnels": list(self.tunnels.values()),
                    "pages_projects": projects,
                }
            )

    def zone_by_name(self, name: str) -> JsonDict | None:
        """The zone called ``name``, if the account has it."""
        return next((z for z in self.zones.values() if z["name"] == name), None)

    def _zone(self, given: JsonDict) -> JsonDict:
        plan = given.get("plan", self.default_plan)
        if isinstance(plan, dict):
            plan = plan.get("legacy_id", self.default_plan)
        if plan not in PLANS:
            raise ValueError(f"zone {given.get('name')}: plan must be one of {PLANS}")
        now = timestamp()
        zone: JsonDict = {
            "id": given.get("id") or new_id(),
            "name": given["name"].lower().rstrip("."),
            "status": given.get("status", "active"),
            "paused": given.get("paused", False),
            "type": "full",
            "development_mode": 0,
            "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
            "original_name_servers": [],
            "original_registrar": None,
            "original_dnshost": None,
            "created_on": given.get("created_on", now),
            "modified_on": given.get("modified_on", now),
            "activated_on": given.get("activated_on", now),
            "meta": {"phishing_detected": False, "cdn_only": False, "dns_only": False},
            "owner": {
                "id": self.account["id"],
                "type": "organization",
                "name": self.account["name"],
            },
            "account": dict(self.account),
            "permissions": ["#dns_records:edit", "#dns_records:read", "#zone:read"],
            "plan": plan,
        }
        zone["settings"] = merge_settings(given.get("settings", {}), plan)
        zone["records"] = {}
        for record in given.get("records", []):
            built = build_record(record, zone)
            built["id"] = record.get("id") or built["id"]
            for stamp in ("created_on", "modified_on"):
                built[stamp] = record.get(stamp, built[stamp])
            zone["records"][built["id"]] = built
        zone["rulesets"] = {}
        for ruleset in given.get("rulesets", []):
            built = build_ruleset(ruleset, None)
            zone["rulesets"][built["id"]] = built
        return zone


def zone_view(zone: JsonDict) -> JsonDict:
    """A zone as ``GET /zones`` shows it (its plan as an object; no records or settings)."""
    view = {k: v for k, v in zone.items() if k not in {"records", "rulesets", "settings", "plan"}}
    plan = zone["plan"]
    view["plan"] = {
        "id": plan,
        "name": PLAN_NAMES[plan],
        "price": PLAN_PRICES[plan],
        "currency": "USD",
        "frequency": "monthly" if PLAN_PRICES[plan] else "",
        "is_subscribed": True,
        "can_subscribe": False,
        "legacy_id": plan,
        "legacy_discount": False,
        "externally_managed": False,
    }
    return view


def build_ruleset(given: JsonDict, previous: JsonDict | None) -> JsonDict:
    """A zone ruleset with rule ids and versions assigned, keeping ids of rules that had one."""
    version = int(previous["version"]) + 1 if previous else int(given.get("version", 1))
    now = timestamp()
    old_rules = {rule["id"]: rule for rule in (previous or {}).get("rules", [])}
    rules = []
    for rule in given.get("rules", []):
        built = {"enabled": True, "description": "", **rule}
        old = old_rules.get(str(rule.get("id")))
        built["id"] = old["id"] if old else (rule.get("id") or new_id())
        built.setdefault("ref", built["id"])
        built["version"] = str(int(old["version"]) + 1) if old else str(rule.get("version", 1))
        built["last_updated"] = now
        rules.append(built)
    return {
        "id": (previous or given).get("id") or new_id(),
        "name": given.get("name") or (previous or {}).get("name") or "default",
        "description": given.get("description", (previous or {}).get("description", "")),
        "kind": "zone",
        "phase": given.get("phase") or (previous or {}).get("phase"),
        "version": str(version),
        "last_updated": now,
        "rules": rules,
    }


def _tunnel(given: JsonDict, account_id: str) -> JsonDict:
    now = timestamp()
    connections = given.get("connections", [])
    if isinstance(connections, int):
        connections = [connection(index) for index in range(connections)]
    status = given.get("status") or ("healthy" if connections else "inactive")
    config = given.get("config") or {"ingress": [{"service": "http_status:404"}]}
    return {
        "id": given.get("id") or new_uuid(),
        "account_tag": account_id,
        "name": given.get("name", "homeport"),
        "created_at": given.get("created_at", now),
        "deleted_at": given.get("deleted_at"),
        "status": status,
        "tun_type": "cfd_tunnel",
        "remote_config": True,
        "connections": connections,
        "conns_active_at": given.get("conns_active_at", now if connections else None),
        "conns_inactive_at": given.get("conns_inactive_at"),
        "metadata": given.get("metadata", {}),
        "config": normalise_tunnel_config(config),
        "config_version": int(given.get("config_version", 1)),
        "config_created_at": given.get("config_created_at", now),
    }


def connection(index: int) -> JsonDict:
    """One cloudflared connection to a Cloudflare colo."""
    return {
        "id": new_uuid(),
        "uuid": new_uuid(),
        "client_id": new_uuid(),
        "client_version": "2024.6.1",
        "colo_name": ("dfw08", "ord02", "iad10", "atl01")[index % 4],
        "is_pending_reconnect": False,
        "opened_at": timestamp(),
        "origin_ip": "192.0.2.150",
    }


def normalise_tunnel_config(config: JsonDict) -> JsonDict:
    """What the API stores: every ingress rule and the config itself get an ``originRequest``."""
    stored = copy.deepcopy(config)
    stored.setdefault("originRequest", {})
    for rule in stored.get("ingress", []):
        rule.setdefault("originRequest", {})
    return stored


def _project(given: JsonDict) -> JsonDict:
    name = given["name"]
    now = timestamp()
    domains = {}
    for domain in given.get("domains", []):
        built = build_domain(domain if isinstance(domain, dict) else {"name": domain})
        domains[built["name"]] = built
    return {
        "id": given.get("id") or new_uuid(),
        "name": name,
        "subdomain": f"{name}.pages.dev",
        "created_on": given.get("created_on", now),
        "production_branch": given.get("production_branch", "main"),
        "build_config": given.get("build_config", {}),
        "deployment_configs": given.get("deployment_configs", {"preview": {}, "production": {}}),
        "domains": domains,
    }


def build_domain(given: JsonDict) -> JsonDict:
    """A Pages custom domain; ``status`` is one of active, pending, deactivated (default active)."""
    status = given.get("status", "active")
    return {
        "id": given.get("id") or new_uuid(),
        "name": given["name"].lower(),
        "status": status,
        "created_on": given.get("created_on", timestamp()),
        "domain_id": given.get("domain_id") or new_uuid(),
        "certificate_authority": "google",
        "validation_data": {"method": "http", "status": status},
        "verification_data": {"status": status},
        "zone_tag": given.get("zone_tag"),
    }
