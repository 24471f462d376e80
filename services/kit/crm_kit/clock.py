"""Time as the stores keep it: UTC, cut to milliseconds.

BSON dates hold milliseconds, so a value cut here reads back equal to what
was written, and what a service returns equals what it stored.
"""

from __future__ import annotations

from datetime import datetime, timezone


def to_ms(dt: datetime) -> datetime:
    dt = dt.astimezone(timezone.utc)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def now_ms() -> datetime:
    return to_ms(datetime.now(timezone.utc))
