"""Carry out a plan: journal first, then the tunnel, DNS in batches, WAF rules, settings.

Order and guarantees:
- the journal of pre-images is written before the first change;
- the tunnel configuration is PUT only if its version is still the one the plan was made from;
- DNS changes go per zone in all-or-nothing batches (deletes, patches, posts; at most 200 per
  batch on Free); a refused batch is retried record by record so the error names the record;
- WAF rules go through the phase entrypoint, whose PUT replaces the whole list: the rules homeport
  does not own are read again just before and merged back in place;
- settings one by one; one the plan cannot change is skipped with a warning.
A failure half-way leaves a state that the next ``apply`` (a fresh plan) completes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeport.edge.cloudflare import CloudflareApi
from homeport.edge.errors import CloudflareApiError, EdgeError, TunnelMovedError
from homeport.edge.journal import build_journal, write_journal
from homeport.edge.plan import Change, Delete, Plan, Update
from homeport.edge.state import WAF_PHASE, CurrentEdge, DesiredEdge, Rule

BATCH_LIMIT = {"free": 200}
PAID_BATCH_LIMIT = 3500
READ_ONLY_RULE_KEYS = frozenset({"version", "last_updated", "categories"})

Progress = Callable[[str], None]


@dataclass
class ApplyReport:
    """What an apply did."""

    journal: Path | None
    done: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def batch_limit(plan: str) -> int:
    """Records per DNS batch call on a zone plan."""
    return BATCH_LIMIT.get(plan, PAID_BATCH_LIMIT)


def record_body(fields: dict[str, Any], name: str, record_type: str) -> dict[str, Any]:
    """The API body for a record."""
    body = {"name": name, "type": record_type, **fields}
    if body.get("priority") is None:
        body.pop("priority", None)
    return body


@dataclass(frozen=True)
class DnsOp:
    """One record operation of a batch: ``delete``, ``patch`` or ``post``."""

    op: str
    label: str
    body: dict[str, Any]


def dns_ops(changes: Iterable[Change]) -> list[DnsOp]:
    """Deletes, then patches, then posts (the batch endpoint's own order)."""
    ops: list[DnsOp] = []
    for change in changes:
        name, record_type = change.key.rsplit(" ", 1)
        label = f"{change.kind} {change.key}"
        if isinstance(change, Delete):
            ops.append(DnsOp("delete", label, {"id": change.id}))
        elif isinstance(change, Update):
            body = record_body(dict(change.after), name, record_type)
            ops.append(DnsOp("patch", label, {"id": change.id, **body}))
        else:
            ops.append(DnsOp("post", label, record_body(dict(change.after), name, record_type)))
    order = {"delete": 0, "patch": 1, "post": 2}
    return sorted(ops, key=lambda op: order[op.op])


def chunk(ops: list[DnsOp], limit: int) -> list[list[DnsOp]]:
    """Consecutive batches of at most ``limit`` operations, keeping the order."""
    return [ops[start : start + limit] for start in range(0, len(ops), limit)]


def merge_rules(
    fresh: list[dict[str, Any]], owned: list[Rule], replaced_ids: set[str]
) -> list[dict[str, Any]]:
    """The full rule list to PUT: unowned rules where they are, homeport's block in one place."""
    mine_by_ref = {r.get("ref"): r for r in fresh if str(r.get("ref", "")).startswith("homeport:")}
    block = []
    for rule in owned:
        body: dict[str, Any] = rule.fields()
        previous = mine_by_ref.get(rule.ref)
        if previous is not None and previous.get("id"):
            body = {"id": previous["id"], **body}
        block.append(body)
    out: list[dict[str, Any]] = []
    placed = False
    for raw in fresh:
        is_mine = str(raw.get("ref", "")).startswith("homeport:") or raw.get("id") in replaced_ids
        if is_mine:
            if not placed:
                out.extend(block)
                placed = True
            continue
        out.append({k: v for k, v in raw.items() if k not in READ_ONLY_RULE_KEYS})
    if not placed:
        out.extend(block)
    return out


class Applier:
    """Carries out one plan through one API client."""

    def __init__(
        self,
        api: CloudflareApi,
        plan: Plan,
        desired: DesiredEdge,
        current: CurrentEdge,
        progress: Progress | None = None,
    ) -> None:
        self.api = api
        self.plan = plan
        self.desired = desired
        self.current = current
        self.progress = progress or (lambda _message: None)

    def run(self, state_dir: Path) -> ApplyReport:
        """Apply the plan; the journal is written before anything changes."""
        if not self.plan.has_changes:
            return ApplyReport(journal=None)
        self.check_tunnel_version()
        journal = build_journal(self.plan, self.current, self.desired.account_id)
        report = ApplyReport(journal=write_journal(state_dir, journal))
        self.progress(f"journal of pre-images: {report.journal}")
        self.apply_tunnel(report)
        for zone in self.plan.zones():
            self.apply_dns(zone, report)
            self.apply_waf(zone, report)
            self.apply_settings(zone, report)
        return report

    def check_tunnel_version(self) -> None:
        """Refuse when the tunnel config moved since the plan (someone edited the dashboard)."""
        if not any(True for _ in self.plan.select("", "tunnel")):
            return
        now = self.api.tunnel_config(self.desired.account_id, self.desired.tunnel_id)
        version = int(now.get("version") or 0)
        if version != self.plan.tunnel_version:
            raise TunnelMovedError(
                f"tunnel {self.desired.tunnel_id}: its configuration changed since the plan "
                f"(version {self.plan.tunnel_version} -> {version}), probably in the dashboard; "
                "nothing was changed. Run 'homeport edge plan' again, review, then apply"
            )

    def apply_tunnel(self, report: ApplyReport) -> None:
        """PUT the whole ingress when the plan changes it."""
        if not any(True for _ in self.plan.select("", "tunnel")):
            return
        config = {"ingress": self.desired.ingress or []}
        self.api.put_tunnel_config(self.desired.account_id, self.desired.tunnel_id, config)
        report.done.append(f"tunnel {self.desired.tunnel_id}: ingress replaced")
        self.progress(report.done[-1])

    def apply_dns(self, zone: str, report: ApplyReport) -> None:
        """DNS changes of one zone, in batches."""
        ops = dns_ops(self.plan.select(zone, "dns"))
        if not ops:
            return
        zone_id = self.current.zones[zone].id
        limit = batch_limit(self.current.zones[zone].plan)
        for number, batch in enumerate(chunk(ops, limit), start=1):
            run_batch(self.api, zone_id, zone, batch)
            report.done.append(f"{zone}: DNS batch {number} ({len(batch)} records)")
            self.progress(report.done[-1])

    def apply_waf(self, zone: str, report: ApplyReport) -> None:
        """Homeport's rules merged with the ones it does not own, in one PUT."""
        changes = list(self.plan.select(zone, "waf"))
        if not changes:
            return
        zone_id = self.current.zones[zone].id
        fresh = self.api.waf_entrypoint(zone_id, zone, WAF_PHASE)
        left_alone = {c.key for c in self.plan.conflicts if c.zone == zone and c.resource == "waf"}
        owned = [r for r in self.desired.zones[zone].rules if r.ref not in left_alone]
        adopted = {c.id for c in changes if isinstance(c, Update) and c.id}
        rules = merge_rules(list((fresh or {}).get("rules") or []), owned, adopted)
        self.api.put_waf_entrypoint(zone_id, zone, WAF_PHASE, rules)
        report.done.append(f"{zone}: WAF custom rules written ({len(changes)} changed)")
        self.progress(report.done[-1])

    def apply_settings(self, zone: str, report: ApplyReport) -> None:
        """Settings one by one; a locked one is skipped with a warning."""
        zone_id = self.current.zones[zone].id
        for change in self.plan.select(zone, "setting"):
            if not isinstance(change, Update):
                continue  # settings are only ever updated
            value = change.after.get("value")
            try:
                self.api.edit_setting(zone_id, zone, change.key, value)
            except CloudflareApiError as exc:
                if exc.status == 400 and "editable" in str(exc):
                    report.warnings.append(f"{zone}: skipped {change.key}: {exc}")
                    continue
                raise
            report.done.append(f"{zone}: setting {change.key} = {value}")
            self.progress(report.done[-1])


def run_batch(api: CloudflareApi, zone_id: str, zone: str, batch: list[DnsOp]) -> None:
    """One batch; when Cloudflare refuses it, the same changes record by record."""
    parts: dict[str, list[dict[str, Any]]] = {"delete": [], "patch": [], "post": []}
    for op in batch:
        parts[op.op].append(op.body)
    try:
        api.dns_batch(
            zone_id, zone, deletes=parts["delete"], patches=parts["patch"], posts=parts["post"]
        )
        return
    except CloudflareApiError as exc:
        if not 400 <= exc.status < 500 or exc.status == 429:
            raise
    for op in batch:
        what = f"{zone}: {op.label}"
        try:
            if op.op == "delete":
                api.dns_delete(zone_id, what, str(op.body["id"]))
            elif op.op == "patch":
                body = {k: v for k, v in op.body.items() if k != "id"}
                api.dns_patch(zone_id, what, str(op.body["id"]), body)
            else:
                api.dns_create(zone_id, what, op.body)
        except CloudflareApiError as exc:
            raise EdgeError(
                f"{exc}. The records before it in this batch were applied; fix the record in "
                "the file and run apply again"
            ) from exc
