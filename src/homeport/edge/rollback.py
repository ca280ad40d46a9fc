"""Put back the pre-images an apply journaled: records, WAF rules, settings, tunnel config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeport.edge import normalize
from homeport.edge.apply import READ_ONLY_RULE_KEYS, DnsOp, batch_limit, chunk, run_batch
from homeport.edge.cloudflare import CloudflareApi
from homeport.edge.current import read_zone
from homeport.edge.journal import read_journal
from homeport.edge.state import WAF_PHASE, Record

RECORD_FIELDS = ("name", "type", "content", "proxied", "ttl", "comment", "priority")


@dataclass
class RollbackReport:
    """What a rollback put back."""

    done: list[str] = field(default_factory=list)


def _body(data: dict[str, Any]) -> dict[str, Any]:
    body = {k: data.get(k) for k in RECORD_FIELDS}
    if body["priority"] is None:
        del body["priority"]
    return body


def restore_ops(entry: dict[str, Any], records: list[Record]) -> list[DnsOp]:
    """The DNS operations that bring ``records`` back to the journal's pre-images (pure)."""
    by_id = {r.id: r for r in records}
    ops: list[DnsOp] = []
    for made in entry.get("records_created", []):
        name, record_type = str(made["key"]).rsplit(" ", 1)
        for record in records:
            if record.owned and (record.name, record.type, record.content) == (
                name,
                record_type,
                made["content"],
            ):
                ops.append(DnsOp("delete", f"delete {record.key}", {"id": record.id}))
    for before in entry.get("records_before", []):
        now = by_id.get(before["id"])
        label = f"{before['name']} {before['type']}"
        if now is None:
            ops.append(DnsOp("post", f"create {label}", _body(before)))
        elif {**now.fields(), "id": now.id} != before:
            ops.append(DnsOp("patch", f"update {label}", {"id": before["id"], **_body(before)}))
    order = {"delete": 0, "patch": 1, "post": 2}
    return sorted(ops, key=lambda op: order[op.op])


def rollback(api: CloudflareApi, path: Path) -> RollbackReport:
    """Restore every pre-image in the journal at ``path``."""
    journal = read_journal(path)
    report = RollbackReport()
    tunnel = journal.get("tunnel")
    account_id = str(journal.get("account_id"))
    if tunnel:
        api.put_tunnel_config(account_id, tunnel["id"], tunnel.get("config") or {})
        report.done.append(f"tunnel {tunnel['id']}: configuration of version {tunnel['version']}")
    for name, entry in journal["zones"].items():
        zone = read_zone(api, normalize.hostname(name), with_settings=False)
        ops = restore_ops(entry, zone.records)
        for batch in chunk(ops, batch_limit(zone.plan)):
            run_batch(api, zone.id, name, batch)
        if ops:
            report.done.append(f"{name}: {len(ops)} DNS records restored")
        if "waf_before" in entry:
            rules = [
                {k: v for k, v in rule.items() if k not in READ_ONLY_RULE_KEYS}
                for rule in entry["waf_before"]["rules"]
            ]
            api.put_waf_entrypoint(zone.id, name, WAF_PHASE, rules)
            report.done.append(f"{name}: WAF custom rules restored ({len(rules)})")
        for setting, value in entry.get("settings_before", {}).items():
            api.edit_setting(zone.id, name, setting, value)
            report.done.append(f"{name}: setting {setting} = {value}")
    return report
