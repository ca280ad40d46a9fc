"""A City database's IPv4 search tree flattened into sorted arrays, with numpy.

A MaxMind database is a binary search tree over address bits. ``flatten_ipv4`` walks its IPv4
part once, level by level (each level is a handful of vectorised operations, so the whole tree of
GeoLite2 City takes about a second), and returns every IPv4 network as its first address and
the tree's value for it: ``node_count`` means "no data", anything above it points at a record in
the data section, the same for every network that shares the record. ``geo_index`` builds the
gateway's index from that. Only the builder (a child process, or ``geo-update``) imports numpy.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from homeport.gateway.errors import GeoDatabaseError

IPV4_BITS = 32
IPV4_IN_IPV6_DEPTH = 96


def flatten_ipv4(
    path: Path, node_count: int, record_size: int, ip_version: int
) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """The IPv4 networks of the database at ``path``: sorted first addresses and their pointers.

    Neighbouring networks with the same pointer are merged, so each start begins a new answer.
    A pointer equal to ``node_count`` means "no data".
    """
    if record_size not in (24, 28, 32):
        raise GeoDatabaseError(f"{path}: record size {record_size} is not 24, 28 or 32 bits")
    node_bytes = record_size // 4
    tree = np.memmap(path, dtype=np.uint8, mode="r", shape=(node_count * node_bytes,))
    keys = _sorted_leaves(tree, node_count, record_size, ip_version)
    del tree  # unmapped before the arrays are made: the build's peak memory stays lower
    halves = keys.view(np.uint32).reshape(-1, 2)  # views of each key's two 32-bit halves
    low, high = (0, 1) if sys.byteorder == "little" else (1, 0)
    pointers, starts = halves[:, low], halves[:, high]
    changes = np.ones(len(pointers), dtype=bool)  # merge neighbours with the same record
    np.not_equal(pointers[1:], pointers[:-1], out=changes[1:])
    return starts[changes], pointers[changes]


def _sorted_leaves(
    tree: NDArray[np.uint8], node_count: int, record_size: int, ip_version: int
) -> NDArray[np.uint64]:
    """Every IPv4 leaf as one 64-bit key, ``first address << 32 | record``, in address order."""
    node = 0
    if ip_version == 6:
        for _ in range(IPV4_IN_IPV6_DEPTH):
            node = int(_records(tree, np.array([node], dtype=np.uint32), record_size)[0][0])
            if node >= node_count:
                break
    if node >= node_count:  # the whole IPv4 space is one leaf
        return np.array([node], dtype=np.uint64)
    starts = np.zeros(1, dtype=np.uint32)
    nodes = np.array([node], dtype=np.uint32)
    # a tree of node_count nodes has at most node_count + 1 leaves; one in-place sort orders them
    keys = np.empty(node_count + 1, dtype=np.uint64)
    filled = 0
    for depth in range(IPV4_BITS):
        left, right = _records(tree, nodes, record_size)
        bit = np.uint32(1 << (IPV4_BITS - 1 - depth))
        child_starts = np.concatenate([starts, starts | bit])
        children = np.concatenate([left, right])
        del left, right
        inner = children < node_count
        leaf = ~inner
        found = int(np.count_nonzero(leaf))
        window = keys[filled : filled + found]
        window[:] = child_starts[leaf]
        window <<= np.uint64(32)
        window |= children[leaf].astype(np.uint64)
        filled += found
        nodes = children[inner]
        starts = child_starts[inner]
        del children, child_starts, inner, leaf
        if not len(nodes):
            break
    if len(nodes):
        raise GeoDatabaseError("the database's IPv4 tree is deeper than 32 bits")
    keys = keys[:filled]
    keys.sort()
    return keys


def _records(
    tree: NDArray[np.uint8], nodes: NDArray[np.uint32], record_size: int
) -> tuple[NDArray[np.integer[Any]], NDArray[np.integer[Any]]]:
    """The left and right records of ``nodes``, decoded as the MaxMind DB spec lays them out."""
    base = nodes.astype(np.int64) * (record_size // 4)

    def byte(index: int) -> NDArray[np.uint32]:
        # one column at a time: temporaries stay the size of the level, not seven times it
        return tree[base + index].astype(np.uint32)

    if record_size == 24:
        left = (byte(0) << 16) | (byte(1) << 8) | byte(2)
        right = (byte(3) << 16) | (byte(4) << 8) | byte(5)
    elif record_size == 28:  # the middle byte's high nibble belongs to the left
        middle = byte(3)
        left = ((middle & 0xF0) << 20) | (byte(0) << 16) | (byte(1) << 8) | byte(2)
        right = ((middle & 0x0F) << 24) | (byte(4) << 16) | (byte(5) << 8) | byte(6)
    else:
        left = (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3)
        right = (byte(4) << 24) | (byte(5) << 16) | (byte(6) << 8) | byte(7)
    return left, right
