"""``/zones/{zone_id}/dns_records``: list, create, get, patch, put, delete, and the batch call."""

from __future__ import annotations

from typing import Any

from tests.emulators.cloudflare.api import ApiError, JsonDict, paginate, success
from tests.emulators.cloudflare.call import Call
from tests.emulators.cloudflare.records import build_record, check_conflicts, matches_filters

MAX_PER_PAGE = 5_000_000  # the contract's maximum for this endpoint
BATCH_LIMIT = {"free": 200, "pro": 3500}
ORDER_FIELDS = ("type", "name", "content", "ttl", "proxied")


def _record(call: Call) -> JsonDict:
    record: JsonDict | None = call.zone["records"].get(call.params["record_id"])
    if record is None:
        raise ApiError(404, 81044, "Record does not exist.")
    return record


def _refuse_injected(call: Call, records: list[JsonDict]) -> None:
    """A ``batch_fail`` fault makes any write touching its record fail, as a bad record would."""
    names = {record["name"] for record in records}
    fault = call.faults.take(
        call.method, call.path, ("batch_fail",), lambda f: f.record_name in names
    )
    if fault is not None:
        kind = next(r["type"] for r in records if r["name"] == fault.record_name)
        raise ApiError(
            400,
            1004,
            "DNS Validation Error",
            [{"code": 9005, "message": f"Content for {kind} record is invalid."}],
        )


def list_records(call: Call) -> JsonDict:
    """List records with the live filters and a page size up to the contract's maximum."""
    filters = {
        k: v for k, v in call.query.items() if k not in {"page", "per_page", "order", "direction"}
    }
    records = [r for r in call.zone["records"].values() if matches_filters(r, filters)]
    order = call.query.get("order")
    if order in ORDER_FIELDS:
        records.sort(key=lambda r: str(r[order]), reverse=call.query.get("direction") == "desc")
    return paginate(records, call.query, 100, 1, MAX_PER_PAGE)


def get_record(call: Call) -> JsonDict:
    """One record by id."""
    return success(_record(call))


def create_record(call: Call) -> JsonDict:
    """Create one record; refuses conflicts (81053) and exact duplicates (81057)."""
    record = build_record(call.json_object(), call.zone)
    check_conflicts(record, list(call.zone["records"].values()))
    _refuse_injected(call, [record])
    call.zone["records"][record["id"]] = record
    return success(record)


def patch_record(call: Call) -> JsonDict:
    """Change the given fields of one record."""
    record = build_record(call.json_object(), call.zone, _record(call), merge=True)
    check_conflicts(record, list(call.zone["records"].values()))
    _refuse_injected(call, [record])
    call.zone["records"][record["id"]] = record
    return success(record)


def put_record(call: Call) -> JsonDict:
    """Replace one record whole (fields not sent, such as comment and tags, are cleared)."""
    record = build_record(call.json_object(), call.zone, _record(call))
    check_conflicts(record, list(call.zone["records"].values()))
    _refuse_injected(call, [record])
    call.zone["records"][record["id"]] = record
    return success(record)


def delete_record(call: Call) -> JsonDict:
    """Delete one record; the result is just its id."""
    record = _record(call)
    _refuse_injected(call, [record])
    del call.zone["records"][record["id"]]
    return success({"id": record["id"]})


def _operations(body: JsonDict, key: str) -> list[JsonDict]:
    operations: Any = body.get(key) or []
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise ApiError(400, 1004, f"{key}: must be a list of objects")
    return operations


class _Working:
    """The zone's records during a batch, indexed by name so each check is O(records at a name)."""

    def __init__(self, records: dict[str, JsonDict]) -> None:
        self.records = dict(records)
        self.by_name: dict[str, dict[str, JsonDict]] = {}
        for record in records.values():
            self.by_name.setdefault(record["name"], {})[record["id"]] = record

    def remove(self, record_id: str) -> JsonDict:
        record = self.records.pop(record_id, None)
        if record is None:
            raise ApiError(404, 81044, "Record does not exist.")
        del self.by_name[record["name"]][record_id]
        return record

    def place(self, record: JsonDict) -> JsonDict:
        check_conflicts(record, list(self.by_name.get(record["name"], {}).values()))
        if record["id"] in self.records:
            self.remove(record["id"])
        self.records[record["id"]] = record
        self.by_name.setdefault(record["name"], {})[record["id"]] = record
        return record


def batch(call: Call) -> JsonDict:
    """Deletes, then patches, then puts, then posts, against a copy; committed only if all pass."""
    body = call.json_object()
    ops = {key: _operations(body, key) for key in ("deletes", "patches", "puts", "posts")}
    size = sum(len(items) for items in ops.values())
    limit = BATCH_LIMIT[call.zone["plan"]]
    if size > limit:
        raise ApiError(
            400, 81002, f"Batch contains {size} records, exceeding the limit of {limit}."
        )
    zone = call.zone
    working = _Working(zone["records"])
    result: dict[str, list[JsonDict]] = {key: [] for key in ops}
    for op in ops["deletes"]:
        result["deletes"].append(working.remove(str(op.get("id"))))
    for key, merge in (("patches", True), ("puts", False)):
        for op in ops[key]:
            previous = working.records.get(str(op.get("id")))
            if previous is None:
                raise ApiError(404, 81044, "Record does not exist.")
            result[key].append(working.place(build_record(op, zone, previous, merge=merge)))
    for op in ops["posts"]:
        result["posts"].append(working.place(build_record(op, zone)))
    _refuse_injected(call, [record for records in result.values() for record in records])
    zone["records"] = working.records
    return success(result)
