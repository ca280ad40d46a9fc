"""Before any change: the desired state fits each zone's plan, and the token may do the writes.

Limits (pure): record comments (100 characters on Free, 500 on paid plans; homeport's marker
included), custom WAF rules per zone (5 Free, 20 Pro, 100 Business, 1,000 Enterprise, counting the
rules homeport does not own), and the regex operator ``matches`` (Business and Enterprise only).
homeport never writes DNS tags, which only paid plans accept.

Permissions (I/O): each write the plan needs is tried first as a write that changes nothing (an
empty DNS batch, a setting set to its current value, the rule list PUT back as it is, the tunnel
renamed to its own name), so a missing permission stops the apply before its first real change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from homeport.edge.apply import READ_ONLY_RULE_KEYS
from homeport.edge.cloudflare import CloudflareApi
from homeport.edge.desired import cname_clashes
from homeport.edge.errors import PermissionMissing, PlanLimitError
from homeport.edge.plan import Plan
from homeport.edge.state import WAF_PHASE, CurrentEdge, DesiredEdge

COMMENT_LIMIT = {"free": 100}
PAID_COMMENT_LIMIT = 500
WAF_RULE_LIMIT = {"free": 5, "pro": 20, "business": 100, "enterprise": 1000}
REGEX_PLANS = frozenset({"business", "enterprise"})
_REGEX = re.compile(r"\s(matches|~)\s")


def limit_problems(desired: DesiredEdge, current: CurrentEdge) -> list[str]:
    """Everything in the desired state that the zones' plans refuse (pure)."""
    problems: list[str] = []
    for name, want in sorted(desired.zones.items()):
        problems.extend(cname_clashes(want))
        have = current.zones.get(name)
        plan = have.plan if have is not None else want.plan
        limit = COMMENT_LIMIT.get(plan, PAID_COMMENT_LIMIT)
        for record in want.records:
            if len(record.comment or "") > limit:
                problems.append(
                    f"{name}: the comment of {record.key} is {len(record.comment or '')} "
                    f"characters with homeport's marker; the {plan} plan allows {limit}: shorten it"
                )
        theirs = [r for r in have.rules if not r.owned] if have is not None else []
        count = len(want.rules) + len(theirs)
        allowed = WAF_RULE_LIMIT.get(plan, 5)
        if count > allowed:
            problems.append(
                f"{name}: {count} custom WAF rules ({len(want.rules)} in the file, {len(theirs)} "
                f"not homeport's); the {plan} plan allows {allowed}"
            )
        if plan not in REGEX_PLANS:
            for rule in want.rules:
                if _REGEX.search(f" {rule.expression} "):
                    problems.append(
                        f"{name}: WAF rule {rule.ref} uses the regex operator 'matches', which "
                        f"the {plan} plan does not allow (Business and Enterprise only)"
                    )
    return problems


def check_limits(desired: DesiredEdge, current: CurrentEdge) -> None:
    """Raise PlanLimitError listing every limit the desired state exceeds."""
    problems = limit_problems(desired, current)
    if problems:
        raise PlanLimitError("; ".join(problems))


def check_permissions(
    api: CloudflareApi, plan: Plan, desired: DesiredEdge, current: CurrentEdge
) -> None:
    """Try each write the plan needs as a write that changes nothing."""
    for name in plan.zones():
        zone = current.zones[name]
        if any(True for _ in plan.select(name, "dns")):
            with _needs(f"edit DNS records of {name}", "Zone / DNS / Edit"):
                api.dns_batch(zone.id, name)
        setting = next(plan.select(name, "setting"), None)
        if setting is not None:
            with _needs(f"edit zone settings of {name}", "Zone / Zone Settings / Edit"):
                api.edit_setting(zone.id, name, setting.key, zone.settings[setting.key].value)
        if any(True for _ in plan.select(name, "waf")):
            rules = [
                {k: v for k, v in rule.items() if k not in READ_ONLY_RULE_KEYS}
                for rule in zone.raw_rules
            ]
            with _needs(f"edit WAF custom rules of {name}", "Zone / Zone WAF / Edit"):
                api.put_waf_entrypoint(zone.id, name, WAF_PHASE, rules)
    if any(True for _ in plan.select("", "tunnel")):
        with _needs(f"read tunnel {desired.tunnel_id}", "Account / Cloudflare Tunnel / Read"):
            tunnel = api.tunnel(desired.account_id, desired.tunnel_id)
        with _needs(f"edit tunnel {desired.tunnel_id}", "Account / Cloudflare Tunnel / Edit"):
            api.rename_tunnel(desired.account_id, desired.tunnel_id, str(tunnel.get("name")))


@contextmanager
def _needs(what: str, permission: str) -> Iterator[None]:
    try:
        yield
    except PermissionMissing as exc:
        raise PermissionMissing(
            f"the API token cannot {what}: give it the permission {permission} ({exc})"
        ) from exc
