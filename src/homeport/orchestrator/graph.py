"""The resource graph, pure: who waits for whom and how, what may start now, the critical chain.

A wait has one of three conditions (the platform file's three keys):

- ``healthy``   (``wait_for``): the dependency runs and its health check passes;
- ``started``   (``wait_for_start``): the dependency's process runs;
- ``completed`` (``wait_for_completion``): the dependency exited with code 0.

Nothing here does I/O: the supervisor asks these functions what to do and does it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from homeport.errors import HomeportError
from homeport.model.references import find_cycle
from homeport.model.services import Service

Condition = Literal["healthy", "started", "completed"]
CONDITION_OF_KEY: dict[str, Condition] = {
    "wait_for": "healthy",
    "wait_for_start": "started",
    "wait_for_completion": "completed",
}


class GraphError(HomeportError):
    """The services cannot be ordered: an unknown name or a cycle."""


@dataclass(frozen=True, order=True)
class Wait:
    """``waiter`` may start only once ``target`` meets ``condition``."""

    waiter: str
    target: str
    condition: Condition


@dataclass(frozen=True)
class Progress:
    """What the graph needs to know about one resource at one moment."""

    started: bool = False
    healthy: bool = False
    completed: bool = False
    failed: bool = False

    def meets(self, condition: Condition) -> bool:
        """Whether this resource satisfies a wait with ``condition``."""
        if condition == "completed":
            return self.completed
        if condition == "started":
            return self.started or self.completed
        return self.healthy or self.completed


@dataclass(frozen=True)
class Graph:
    """Resources (names) and the waits between them; acyclic by construction."""

    names: tuple[str, ...]
    waits: tuple[Wait, ...] = field(default=())

    def waits_of(self, name: str) -> list[Wait]:
        """The waits ``name`` must see satisfied before it starts."""
        return [w for w in self.waits if w.waiter == name]

    def dependencies(self, name: str) -> list[str]:
        """The resources ``name`` waits for, in any way."""
        return [w.target for w in self.waits_of(name)]

    def dependents(self, name: str) -> list[str]:
        """The resources that wait for ``name`` directly."""
        return [w.waiter for w in self.waits if w.target == name]

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form: nodes and edges."""
        return {
            "nodes": list(self.names),
            "edges": [
                {"from": w.waiter, "to": w.target, "condition": w.condition} for w in self.waits
            ],
        }


def build_graph(services: Mapping[str, Service]) -> Graph:
    """The graph of every service in the platform; raise GraphError on a cycle or unknown name."""
    waits: list[Wait] = []
    for name, service in services.items():
        for key, condition in CONDITION_OF_KEY.items():
            for target in getattr(service, key):
                if target not in services:
                    raise GraphError(
                        f"service '{name}' waits for '{target}', which is not a service"
                    )
                waits.append(Wait(name, target, condition))
    return make_graph(list(services), waits)


def make_graph(names: Iterable[str], waits: Iterable[Wait]) -> Graph:
    """A graph from names and waits, checked for cycles."""
    names = tuple(names)
    waits = tuple(sorted(set(waits)))
    adjacency = {n: [w.target for w in waits if w.waiter == n] for n in names}
    cycle = find_cycle(adjacency)
    if cycle:
        raise GraphError(f"dependency cycle: {' -> '.join(cycle)}; remove one of these waits")
    return Graph(names, waits)


def closure(graph: Graph, selected: Iterable[str]) -> Graph:
    """The part of the graph that ``selected`` needs: those resources and all they wait for."""
    wanted = list(selected)
    unknown = [n for n in wanted if n not in graph.names]
    if unknown:
        raise GraphError(
            f"no service named {', '.join(repr(n) for n in unknown)}; "
            f"expected one of: {', '.join(graph.names)}"
        )
    keep: set[str] = set()
    stack = wanted or list(graph.names)
    while stack:
        name = stack.pop()
        if name not in keep:
            keep.add(name)
            stack.extend(graph.dependencies(name))
    names = tuple(n for n in graph.names if n in keep)
    return Graph(names, tuple(w for w in graph.waits if w.waiter in keep))


def unmet(graph: Graph, name: str, progress: Mapping[str, Progress]) -> list[Wait]:
    """The waits of ``name`` that are not yet satisfied."""
    return [
        w for w in graph.waits_of(name) if not progress.get(w.target, Progress()).meets(w.condition)
    ]


def blocked_by(graph: Graph, name: str, progress: Mapping[str, Progress]) -> list[str]:
    """Dependencies of ``name`` that failed, so that ``name`` can never start."""
    return [w.target for w in unmet(graph, name, progress) if progress[w.target].failed]


def startable(graph: Graph, progress: Mapping[str, Progress]) -> list[str]:
    """Every resource not started yet whose waits are all satisfied: they all start at once."""
    return [
        n
        for n in graph.names
        if not progress.get(n, Progress()).started
        and not progress.get(n, Progress()).completed
        and not progress.get(n, Progress()).failed
        and not unmet(graph, n, progress)
    ]


def regated_by(graph: Graph, name: str) -> list[str]:
    """Resources to stop and gate again when ``name`` restarts: waiters on it running, transitively.

    Waiters for completion are left alone: a finished step does not un-finish.
    """
    found: list[str] = []
    stack = [name]
    while stack:
        current = stack.pop()
        for wait in graph.waits:
            if (
                wait.target == current
                and wait.condition != "completed"
                and wait.waiter not in found
            ):
                found.append(wait.waiter)
                stack.append(wait.waiter)
    return [n for n in graph.names if n in found]


def stop_levels(graph: Graph, names: Iterable[str] | None = None) -> list[list[str]]:
    """Reverse dependency order: each level holds resources no remaining resource waits for."""
    remaining = set(graph.names if names is None else names)
    levels: list[list[str]] = []
    while remaining:
        waited_on = {w.target for w in graph.waits if w.waiter in remaining}
        level = [n for n in graph.names if n in remaining and n not in waited_on]
        levels.append(level)
        remaining -= set(level)
    return levels


@dataclass(frozen=True)
class Timing:
    """When one resource was started and became ready (healthy or completed), in seconds."""

    started: float | None
    ready: float | None


@dataclass(frozen=True)
class ChainLink:
    """One resource of the critical chain: ready at ``at``, which took ``took`` since its start."""

    name: str
    at: float
    took: float


def critical_chain(graph: Graph, timings: Mapping[str, Timing]) -> list[ChainLink]:
    """The dependency path that set the time to ready, last resource first (systemd-analyze style).

    Start from the resource ready last; step to the dependency whose readiness released it (the
    one ready last among its waits); repeat until a resource that waited on nothing.
    """
    ready = {n: t for n, t in timings.items() if t.ready is not None and t.started is not None}
    if not ready:
        return []
    current: str | None = max(ready, key=lambda n: ready[n].ready or 0.0)
    chain: list[ChainLink] = []
    while current is not None:
        timing = ready[current]
        at, started = timing.ready or 0.0, timing.started or 0.0
        chain.append(ChainLink(current, at, max(0.0, at - started)))
        gates = [d for d in graph.dependencies(current) if d in ready]
        current = max(gates, key=lambda n: ready[n].ready or 0.0) if gates else None
    return chain
