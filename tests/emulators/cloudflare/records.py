"""DNS record rules of the live API: names, content, TTL, proxying, comments, tags, conflicts.

Pure functions over plain dicts, so the batch endpoint can validate a whole batch against a
copy of the zone before anything is applied.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from tests.emulators.cloudflare.api import ApiError, JsonDict, validation_error
from tests.emulators.cloudflare.clock import new_id, timestamp

PROXIABLE_TYPES = frozenset({"A", "AAAA", "CNAME"})
KNOWN_TYPES = frozenset(
    {
        "A",
        "AAAA",
        "CAA",
        "CERT",
        "CNAME",
        "DNSKEY",
        "DS",
        "HTTPS",
        "LOC",
        "MX",
        "NAPTR",
        "NS",
        "PTR",
        "SMIMEA",
        "SRV",
        "SSHFP",
        "SVCB",
        "TLSA",
        "TXT",
        "URI",
    }
)
COMMENT_LIMIT = {"free": 100, "pro": 500}
TAG_LIMIT = {"free": 0, "pro": 10}
EDITABLE_FIELDS = (
    "type",
    "name",
    "content",
    "proxied",
    "ttl",
    "comment",
    "tags",
    "priority",
    "data",
    "settings",
)


def to_ascii(name: str) -> str:
    """Lowercase punycode, no trailing dot: how the API stores every name."""
    name = name.strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        raise validation_error(9005, f"Content for {name!r} is not a valid hostname") from None


def qualify(name: str, zone_name: str) -> str:
    """The stored name: ``@`` is the apex; a relative name gets the zone appended."""
    if name.strip() == "@":
        return zone_name
    full = to_ascii(name)
    if full == zone_name or full.endswith("." + zone_name):
        return full
    return f"{full}.{zone_name}"


def _check_content(kind: str, content: str) -> str:
    if kind == "A":
        try:
            return str(ipaddress.IPv4Address(content))
        except ValueError:
            raise validation_error(
                9005, "Content for A record must be a valid IPv4 address."
            ) from None
    if kind == "AAAA":
        try:
            return str(ipaddress.IPv6Address(content))
        except ValueError:
            raise validation_error(
                9005, "Content for AAAA record must be a valid IPv6 address."
            ) from None
    if kind in {"CNAME", "NS", "MX", "PTR"}:
        if not content or " " in content.strip():
            raise validation_error(9005, f"Content for {kind} record is invalid.")
        return to_ascii(content)
    return content


def _check_ttl(ttl: Any) -> int:
    if not isinstance(ttl, int | float) or isinstance(ttl, bool):
        raise validation_error(
            9021, "Invalid TTL. Must be between 60 and 86400, or 1 for automatic."
        )
    if ttl != 1 and not 60 <= ttl <= 86400:
        raise validation_error(
            9021, "Invalid TTL. Must be between 60 and 86400, or 1 for automatic."
        )
    return int(ttl)


def _check_annotations(record: JsonDict, plan: str) -> None:
    comment = record.get("comment")
    if comment is not None and len(comment) > COMMENT_LIMIT[plan]:
        raise ApiError(
            400,
            9313,
            f"DNS record comment exceeds the maximum length of {COMMENT_LIMIT[plan]} characters.",
        )
    tags = record.get("tags") or []
    if len(tags) > TAG_LIMIT[plan]:
        raise validation_error(
            9300, f"DNS record has {len(tags)} tags, exceeding the quota of {TAG_LIMIT[plan]}."
        )
    for tag in tags:
        if not isinstance(tag, str) or ":" not in tag:
            raise validation_error(9301, f"Tag {tag!r} must have the form name:value.")


FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "name": (str,),
    "content": (str,),
    "proxied": (bool,),
    "ttl": (int, float),
    "comment": (str, type(None)),
    "tags": (list, type(None)),
    "priority": (int, float),
    "data": (dict,),
    "settings": (dict, type(None)),
}


def _check_types(fields: JsonDict) -> None:
    for key, value in fields.items():
        if not isinstance(value, FIELD_TYPES[key]) or (key != "proxied" and value is True):
            raise validation_error(1004, f"{key}: {value!r} is not a valid value")
    if not all(isinstance(tag, str) for tag in fields.get("tags") or []):
        raise validation_error(1004, "tags: every tag must be a string")


def build_record(
    body: JsonDict, zone: JsonDict, previous: JsonDict | None = None, *, merge: bool = False
) -> JsonDict:
    """Validate ``body`` (a create, PUT, or PATCH when ``merge``) into the record the API stores."""
    fields = {key: body[key] for key in EDITABLE_FIELDS if key in body}
    if merge and previous is not None:
        fields = {**{key: previous[key] for key in EDITABLE_FIELDS if key in previous}, **fields}
    _check_types(fields)
    kind = str(fields.get("type", "")).upper()
    if kind not in KNOWN_TYPES:
        raise validation_error(9000, f"DNS record type {kind!r} is invalid.")
    if not fields.get("name"):
        raise validation_error(9007, "DNS record name is required.")
    content = fields.get("content")
    if content is None and "data" not in fields:
        raise validation_error(9008, "DNS record content is required.")
    proxied = bool(fields.get("proxied", False))
    if proxied and kind not in PROXIABLE_TYPES:
        raise ApiError(400, 9004, "This record type cannot be proxied.")
    if kind in {"MX", "URI"} and "priority" not in fields:
        raise validation_error(9101, f"{kind} records require a priority.")
    record: JsonDict = {
        "id": previous["id"] if previous else new_id(),
        "type": kind,
        "name": qualify(str(fields["name"]), zone["name"]),
        "content": _check_content(kind, str(content or "")),
        "proxiable": kind in PROXIABLE_TYPES,
        "proxied": proxied,
        "ttl": 1 if proxied else _check_ttl(fields.get("ttl", 1)),
        "settings": fields.get("settings") or {},
        "meta": {},
        "tags": list(fields.get("tags") or []),
        "created_on": previous["created_on"] if previous else timestamp(),
        "modified_on": timestamp(),
    }
    for extra in ("comment", "priority", "data"):
        if fields.get(extra) is not None:
            record[extra] = fields[extra]
    _check_annotations(record, zone["plan"])
    return record


def check_conflicts(record: JsonDict, others: list[JsonDict]) -> None:
    """Refuse what the live API refuses: a CNAME beside another record, or an exact duplicate."""
    for other in others:
        if other["id"] == record["id"] or other["name"] != record["name"]:
            continue
        if "CNAME" in (other["type"], record["type"]):
            raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
        if other["type"] == record["type"] and other["content"] == record["content"]:
            raise ApiError(400, 81057, "Record already exists.")


def matches_filters(record: JsonDict, query: dict[str, str]) -> bool:
    """Whether a record passes the list endpoint's filters (``match=any`` ORs them)."""
    tests = [_filter(record, key, value) for key, value in query.items()]
    tests = [result for result in tests if result is not None]
    if not tests:
        return True
    return any(tests) if query.get("match") == "any" else all(tests)


def _text_test(actual: str | None, op: str, wanted: str) -> bool:
    if op == "absent":
        return not actual
    if op == "present":
        return bool(actual)
    value, wanted = (actual or "").lower(), wanted.lower()
    return {
        "exact": value == wanted,
        "contains": wanted in value,
        "startswith": value.startswith(wanted),
        "endswith": value.endswith(wanted),
    }.get(op, False)


def _filter(record: JsonDict, key: str, value: str) -> bool | None:
    field, _, op = key.partition(".")
    op = op or "exact"
    if field == "type":
        return bool(record["type"] == value.upper())
    if field == "name":
        wanted = to_ascii(value) if op == "exact" else value
        return _text_test(record["name"], op, wanted)
    if field == "content":
        return _text_test(record["content"], op, value)
    if field == "proxied":
        return bool(record["proxied"] == (value.lower() == "true"))
    if field == "comment":
        return _text_test(record.get("comment"), op, value)
    if field == "tag":
        return _tag_test(record.get("tags") or [], op, value)
    return None


def _tag_test(tags: list[str], op: str, value: str) -> bool:
    names = {tag.partition(":")[0].lower(): tag.partition(":")[2] for tag in tags}
    if op == "present":
        return value.lower() in names
    if op == "absent":
        return value.lower() not in names
    name, _, wanted = value.partition(":")
    return name.lower() in names and _text_test(names[name.lower()], op, wanted)
