"""Trim streams by age, never past an entry some group has not acknowledged.

The cut is ``MINID = now - retention``, lowered to the *floor*: for every
consumer group, the oldest entry it still has pending (XPENDING summary) and
the successor of its last-delivered id (entries it has not even been given
yet); the floor is the smallest of those. Everything older than the cut is
removed exactly (``XTRIM MINID``, not ``~``, so the result is predictable).
"""

from __future__ import annotations

import time

import redis
from prometheus_client import Counter

from crm_kit.events.bus import text

TRIMMED = Counter("crm_events_trimmed_total", "Stream entries removed by age.", ["stream"])


def _parse(entry_id) -> tuple[int, int]:
    ms, _, seq = text(entry_id).partition("-")
    return int(ms), int(seq or 0)


def successor(entry_id) -> tuple[int, int]:
    ms, seq = _parse(entry_id)
    return (ms, seq + 1) if seq < 2**64 - 1 else (ms + 1, 0)


def trim_floor(client: redis.Redis, stream: str) -> tuple[int, int] | None:
    """The oldest id some group still needs, or None when no group exists."""
    floor: tuple[int, int] | None = None
    for group in client.xinfo_groups(stream):
        name = group["name"]
        candidates = [successor(group["last-delivered-id"])]
        if group.get("pending"):
            summary = client.xpending(stream, name)
            if summary.get("pending") and summary.get("min") is not None:
                candidates.append(_parse(summary["min"]))
        low = min(candidates)
        floor = low if floor is None else min(floor, low)
    return floor


def trim_stream(client: redis.Redis, stream: str, retention_seconds: float, *, now_ms: int | None = None) -> int:
    """Remove the entries older than `retention_seconds` that every group
    has acknowledged. Returns how many were removed."""
    if not client.exists(stream):
        return 0
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    cut = (max(0, now_ms - int(retention_seconds * 1000)), 0)
    floor = trim_floor(client, stream)
    if floor is not None:
        cut = min(cut, floor)
    if cut <= (0, 0):
        return 0
    removed = client.xtrim(stream, minid=f"{cut[0]}-{cut[1]}", approximate=False)
    if removed:
        TRIMMED.labels(stream).inc(removed)
    return removed
