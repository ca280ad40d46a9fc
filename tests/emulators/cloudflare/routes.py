"""The route table: method, path pattern (below ``/client/v4``), handler, required permission."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.emulators.cloudflare import routes_account as account
from tests.emulators.cloudflare import routes_dns as dns
from tests.emulators.cloudflare import routes_zones as zones
from tests.emulators.cloudflare.call import Handler

ZONE = r"/zones/(?P<zone_id>[^/]+)"
ACCOUNT = r"/accounts/(?P<account_id>[^/]+)"
TUNNEL = ACCOUNT + r"/cfd_tunnel/(?P<tunnel_id>[^/]+)"
PROJECT = ACCOUNT + r"/pages/projects/(?P<project_name>[^/]+)"
RULESET = ZONE + r"/rulesets/(?P<ruleset_id>[^/]+)"


@dataclass(frozen=True)
class Route:
    """One endpoint; ``permission`` is what the token needs (``write`` implies ``read``)."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    permission: str


def _route(method: str, pattern: str, handler: Handler, permission: str) -> Route:
    return Route(method, re.compile(pattern + "/?$"), handler, permission)


ROUTES: tuple[Route, ...] = (
    _route("GET", "/zones", zones.list_zones, "zone:read"),
    _route("GET", ZONE, zones.get_zone, "zone:read"),
    # Not in the contract: octoDNS's Cloudflare provider reads page rules with every zone.
    _route("GET", ZONE + "/pagerules", zones.list_page_rules, "zone:read"),
    _route("GET", ZONE + "/dns_records", dns.list_records, "dns:read"),
    _route("POST", ZONE + "/dns_records", dns.create_record, "dns:write"),
    _route("POST", ZONE + "/dns_records/batch", dns.batch, "dns:write"),
    _route("GET", ZONE + "/dns_records/(?P<record_id>[^/]+)", dns.get_record, "dns:read"),
    _route("PATCH", ZONE + "/dns_records/(?P<record_id>[^/]+)", dns.patch_record, "dns:write"),
    _route("PUT", ZONE + "/dns_records/(?P<record_id>[^/]+)", dns.put_record, "dns:write"),
    _route("DELETE", ZONE + "/dns_records/(?P<record_id>[^/]+)", dns.delete_record, "dns:write"),
    _route("GET", ZONE + "/settings", zones.list_settings, "zone_settings:read"),
    _route("PATCH", ZONE + "/settings", zones.patch_settings, "zone_settings:write"),
    _route(
        "GET", ZONE + "/settings/(?P<setting_id>[^/]+)", zones.get_setting, "zone_settings:read"
    ),
    _route(
        "PATCH",
        ZONE + "/settings/(?P<setting_id>[^/]+)",
        zones.patch_setting,
        "zone_settings:write",
    ),
    _route("GET", ZONE + "/rulesets", zones.list_rulesets, "waf:read"),
    _route("POST", ZONE + "/rulesets", zones.create_ruleset, "waf:write"),
    _route(
        "GET",
        ZONE + "/rulesets/phases/(?P<phase>[^/]+)/entrypoint",
        zones.get_entrypoint,
        "waf:read",
    ),
    _route(
        "PUT",
        ZONE + "/rulesets/phases/(?P<phase>[^/]+)/entrypoint",
        zones.put_entrypoint,
        "waf:write",
    ),
    _route("GET", RULESET, zones.get_ruleset, "waf:read"),
    _route("PUT", RULESET, zones.put_ruleset, "waf:write"),
    _route("DELETE", RULESET, zones.delete_ruleset, "waf:write"),
    _route("POST", RULESET + "/rules", zones.create_rule, "waf:write"),
    _route("PATCH", RULESET + "/rules/(?P<rule_id>[^/]+)", zones.patch_rule, "waf:write"),
    _route("DELETE", RULESET + "/rules/(?P<rule_id>[^/]+)", zones.delete_rule, "waf:write"),
    _route("GET", ACCOUNT + "/cfd_tunnel", account.list_tunnels, "tunnel:read"),
    _route("POST", ACCOUNT + "/cfd_tunnel", account.create_tunnel, "tunnel:write"),
    _route("GET", TUNNEL, account.get_tunnel, "tunnel:read"),
    _route("PATCH", TUNNEL, account.patch_tunnel, "tunnel:write"),
    _route("DELETE", TUNNEL, account.delete_tunnel, "tunnel:write"),
    _route("GET", TUNNEL + "/configurations", account.get_configuration, "tunnel:read"),
    _route("PUT", TUNNEL + "/configurations", account.put_configuration, "tunnel:write"),
    _route("GET", ACCOUNT + "/pages/projects", account.list_projects, "pages:read"),
    _route("POST", ACCOUNT + "/pages/projects", account.create_project, "pages:write"),
    _route("GET", PROJECT, account.get_project, "pages:read"),
    _route("PATCH", PROJECT, account.patch_project, "pages:write"),
    _route("DELETE", PROJECT, account.delete_project, "pages:write"),
    _route("GET", PROJECT + "/domains", account.list_domains, "pages:read"),
    _route("POST", PROJECT + "/domains", account.add_domain, "pages:write"),
    _route("GET", PROJECT + "/domains/(?P<domain_name>[^/]+)", account.get_domain, "pages:read"),
    _route(
        "PATCH", PROJECT + "/domains/(?P<domain_name>[^/]+)", account.patch_domain, "pages:write"
    ),
    _route(
        "DELETE", PROJECT + "/domains/(?P<domain_name>[^/]+)", account.delete_domain, "pages:write"
    ),
)


def find_route(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """The route for ``method path``, its path parameters, and whether the path exists at all.

    Literal segments win over parameters (``/dns_records/batch`` is not a record id).
    """
    path_known = False
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        params = found.groupdict()
        if params.get("record_id") == "batch" or params.get("ruleset_id") == "phases":
            continue
        path_known = True
        if route.method == method:
            return route, params, True
    return None, {}, path_known
