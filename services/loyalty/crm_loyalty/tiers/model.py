"""VIP tiers (pure rules, no I/O).

Qualification is the total over a rolling 12-month window of either the
amount paid (minor units of one currency: LOYALTY_TIER_CURRENCY) or the
points earned (order and referral awards; gifts and adjustments do not
qualify). A customer moves up as soon as the total crosses a threshold;
down only on the review date, and by one level at most. The review date is
set a year after an upgrade (or the account's opening) and moves a year on
at each review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

BASES = ("paid_amount", "points")
WINDOW_DAYS = 365
REVIEW_DAYS = 365
# code:name:threshold:multiplier percent:birthday gift points, lowest first; the lowest starts at 0.
DEFAULT_TIERS = ("member:Member:0:100:100,silver:Silver:500000:110:200,"
                 "gold:Gold:2000000:125:500,platinum:Platinum:5000000:150:1000")


@dataclass(frozen=True)
class Tier:
    code: str
    name: str
    threshold: int
    multiplier_percent: int
    birthday_gift_points: int


@dataclass(frozen=True)
class TierLadder:
    tiers: tuple[Tier, ...]
    basis: str = "paid_amount"
    currency: str = "CNY"

    @classmethod
    def parse(cls, raw: str, basis: str = "paid_amount", currency: str = "CNY") -> "TierLadder":
        if basis not in BASES:
            raise ValueError(f"basis must be one of {', '.join(BASES)}")
        tiers = []
        for part in filter(None, (p.strip() for p in raw.split(","))):
            bits = part.split(":")
            try:
                code, name, threshold, multiplier, gift = bits[0], bits[1], int(bits[2]), int(bits[3]), int(bits[4])
                if len(bits) != 5:
                    raise ValueError
            except (ValueError, IndexError):
                raise ValueError(f"{part!r} is not code:name:threshold:multiplier_percent:birthday_points") from None
            if not code.isascii() or not code.replace("_", "").isalnum() or not code.islower() or len(code) > 20:
                raise ValueError(f"tier code {code!r}: lowercase letters, digits, _")
            if not name or len(name) > 40:
                raise ValueError(f"tier {code}: a name of 1..40 characters")
            if threshold < 0 or not 0 <= multiplier <= 1000 or not 0 <= gift <= 1_000_000:
                raise ValueError(f"tier {code}: threshold >= 0, multiplier 0..1000 percent, gift 0..1000000")
            tiers.append(Tier(code, name, threshold, multiplier, gift))
        if not tiers:
            raise ValueError("at least one tier")
        if tiers[0].threshold != 0:
            raise ValueError("the lowest tier's threshold is 0")
        if any(b.threshold <= a.threshold for a, b in zip(tiers, tiers[1:])):
            raise ValueError("thresholds rise strictly from the lowest tier to the highest")
        if len({t.code for t in tiers}) != len(tiers):
            raise ValueError("a tier code is named twice")
        return cls(tuple(tiers), basis, currency)

    @property
    def lowest(self) -> Tier:
        return self.tiers[0]

    def index(self, code: str) -> int:
        for i, tier in enumerate(self.tiers):
            if tier.code == code:
                return i
        return 0  # a tier no longer configured counts as the lowest

    def get(self, code: str) -> Tier:
        return self.tiers[self.index(code)]

    def qualified(self, value: int) -> int:
        """The index of the highest tier `value` reaches."""
        best = 0
        for i, tier in enumerate(self.tiers):
            if value >= tier.threshold:
                best = i
        return best

    def next_above(self, code: str) -> Tier | None:
        i = self.index(code)
        return self.tiers[i + 1] if i + 1 < len(self.tiers) else None

    def after_review(self, code: str, value: int) -> int:
        """Index kept at a review: the qualified tier, but at most one below the current."""
        current = self.index(code)
        return max(min(current, self.qualified(value)), current - 1) if current else 0


def window_start(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=WINDOW_DAYS)


def warning(ladder: TierLadder, code: str, value: int, review_date: dt.date | None, today: dt.date,
            warning_days: int) -> str:
    """The tier a downgrade would bring at the coming review, when the review
    is within `warning_days` and the total as of today would not keep the
    tier; "" otherwise."""
    if review_date is None or (review_date - today).days > warning_days:
        return ""
    kept = ladder.after_review(code, value)
    return ladder.tiers[kept].code if kept < ladder.index(code) else ""
