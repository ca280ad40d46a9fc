"""A reconciler's plan: a sorted, printable, checksummed value that never does anything."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ChangeKind = Literal["create", "update", "delete"]
KIND_ORDER: dict[str, int] = {"delete": 0, "update": 1, "create": 2}
SYMBOL: dict[str, str] = {"create": "+", "update": "~", "delete": "-"}


@dataclass(frozen=True)
class Change:
    """One create, update or delete of one thing, named by ``resource`` and ``key``.

    ``before`` and ``after`` are JSON-able pictures of the thing (None where it does not exist);
    ``detail`` is a short sentence for the printed plan (why, or what differs).
    """

    kind: ChangeKind
    resource: str
    key: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    detail: str = ""

    def sort_key(self) -> tuple[str, int, str]:
        """Resources in name order, deletes before updates before creates, then keys."""
        return (self.resource, KIND_ORDER[self.kind], self.key)

    def fields_changed(self) -> list[str]:
        """The fields an update changes, sorted."""
        before, after = self.before or {}, self.after or {}
        return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))

    def line(self) -> str:
        """``~ container web: image a -> b`` style, one line."""
        text = f"{SYMBOL[self.kind]} {self.resource} {self.key}"
        return f"{text}: {self.detail}" if self.detail else text

    def to_json(self) -> dict[str, Any]:
        """The change as plain data."""
        return {
            "kind": self.kind,
            "resource": self.resource,
            "key": self.key,
            "before": _plain(self.before),
            "after": _plain(self.after),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Unrealisable:
    """Something the file wants that this plan will not bring about, and why (drift too)."""

    resource: str
    key: str
    reason: str

    def line(self) -> str:
        """``! dns elkhair.tech CNAME: why`` style, one line."""
        return f"! {self.resource} {self.key}: {self.reason}"

    def to_json(self) -> dict[str, str]:
        """As plain data."""
        return {"resource": self.resource, "key": self.key, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    """What a reconciler would do to ``target`` (an environment, an account, a server).

    ``basis`` fingerprints the current state the plan was computed against, so that the checksum
    changes when the world does even if the changes look alike; ``left_alone`` counts things that
    exist but are not homeport's; ``notes`` are warnings that do not make the plan drift.
    """

    subsystem: str
    target: str
    changes: tuple[Change, ...] = ()
    unrealisable: tuple[Unrealisable, ...] = ()
    notes: tuple[str, ...] = ()
    left_alone: int = 0
    basis: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        subsystem: str,
        target: str,
        changes: list[Change] | tuple[Change, ...] = (),
        unrealisable: list[Unrealisable] | tuple[Unrealisable, ...] = (),
        **rest: Any,
    ) -> Plan:
        """A plan with its changes and problems in their stable order."""
        return cls(
            subsystem,
            target,
            tuple(sorted(changes, key=Change.sort_key)),
            tuple(sorted(unrealisable, key=lambda u: (u.resource, u.key))),
            **rest,
        )

    @property
    def drift(self) -> bool:
        """True when the world differs from the file: changes to make, or things it cannot."""
        return bool(self.changes or self.unrealisable)

    @property
    def checksum(self) -> str:
        """sha256 over the changes, the problems, the target and the basis."""
        body = json.dumps(
            {
                "subsystem": self.subsystem,
                "target": self.target,
                "changes": [c.to_json() for c in self.changes],
                "unrealisable": [u.to_json() for u in self.unrealisable],
                "basis": self.basis,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()

    def counts(self) -> dict[str, int]:
        """How many creates, updates and deletes."""
        out = {"create": 0, "update": 0, "delete": 0}
        for change in self.changes:
            out[change.kind] += 1
        return out

    def summary(self) -> str:
        """One line: says the target matches the file only when it does."""
        alone = f"; {self.left_alone} left alone (not homeport's)" if self.left_alone else ""
        if not self.drift:
            return f"No changes: {self.target} matches the file{alone}"
        c = self.counts()
        parts = [f"{c['create']} to create, {c['update']} to update, {c['delete']} to delete"]
        if self.unrealisable:
            parts.append(f"{len(self.unrealisable)} desired but not possible (see '!' lines)")
        return f"Plan for {self.target}: " + "; ".join(parts) + alone

    def lines(self) -> list[str]:
        """The printed plan: one line per change and per problem, then notes, then the summary."""
        out = [c.line() for c in self.changes]
        out += [u.line() for u in self.unrealisable]
        out += [f"note: {n}" for n in self.notes]
        out.append(self.summary())
        if self.drift:
            out.append(f"checksum: {self.checksum}")
        return out

    def to_json(self) -> dict[str, Any]:
        """The whole plan as plain data (what ``--json`` prints)."""
        return {
            "subsystem": self.subsystem,
            "target": self.target,
            "drift": self.drift,
            "checksum": self.checksum,
            "counts": self.counts(),
            "changes": [c.to_json() for c in self.changes],
            "unrealisable": [u.to_json() for u in self.unrealisable],
            "notes": list(self.notes),
            "left_alone": self.left_alone,
            **{k: _plain(v) for k, v in self.extra.items()},
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
