"""Refuse plans that would do more harm than a typo should be able to.

Like octoDNS's ``raise_if_unsafe``: updating or deleting more than 30 % of the records homeport
owns in a zone that has at least 10 of them needs ``--force``; so does any change to NS records
(a wrong NS record takes the zone, or a delegated subdomain, off the internet).
"""

from __future__ import annotations

from homeport.edge.errors import UnsafePlanError
from homeport.edge.plan import Plan

MAX_CHANGE_RATIO = 0.30
MIN_RECORDS = 10


def unsafe_reasons(plan: Plan) -> list[str]:
    """Why the plan is unsafe, one sentence per reason; empty when it is safe."""
    reasons: list[str] = []
    for zone in plan.zones():
        dns = list(plan.select(zone, "dns"))
        ns = sorted({c.key for c in dns if c.key.endswith(" NS")})
        if ns:
            reasons.append(f"{zone}: the plan changes NS records ({', '.join(ns)})")
        owned = plan.owned_records.get(zone, 0)
        touched = sum(1 for c in dns if c.kind in ("update", "delete"))
        if owned >= MIN_RECORDS and touched / owned > MAX_CHANGE_RATIO:
            reasons.append(
                f"{zone}: the plan updates or deletes {touched} of the {owned} records homeport "
                f"owns ({touched / owned:.0%}, more than {MAX_CHANGE_RATIO:.0%})"
            )
    return reasons


def check_safety(plan: Plan, *, force: bool = False) -> None:
    """Raise UnsafePlanError (exit 3) when the plan is unsafe and ``force`` is not given."""
    reasons = unsafe_reasons(plan)
    if reasons and not force:
        raise UnsafePlanError(
            "refusing an unsafe plan: " + "; ".join(reasons) + ". Review it, then pass --force"
        )
