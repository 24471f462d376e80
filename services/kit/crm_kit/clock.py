"""Time as the stores keep it: UTC, cut to milliseconds.

BSON dates hold milliseconds, so a value cut here reads back equal to what
was written, and what a service returns equals what it stored.
"""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo


def to_ms(dt: datetime) -> datetime:
    dt = dt.astimezone(timezone.utc)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def now_ms() -> datetime:
    return to_ms(datetime.now(timezone.utc))


def local_date(at: datetime, zone: tzinfo) -> date:
    """The calendar day `at` falls on in `zone`: the business's day. At 01:00
    in Shanghai it is still yesterday in UTC; a due date, an overdue count or
    a contract's last day must not wait eight hours for UTC to catch up. A
    naive `at` is UTC, as the stores keep time."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(zone).date()
