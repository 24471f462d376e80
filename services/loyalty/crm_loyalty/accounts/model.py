"""Rules of the points ledger (pure, no I/O): how many points an amount
earns, when a lot expires, what a refund claws back.

An account is a set of lots, each with its own expiry day; the balance is
always the sum of the lots. A clawback larger than what is left becomes a
single negative lot (the debt), which the next awards pay off first, so the
balance may go below zero and still equals the sum of the lots.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

DEFAULT_EARN_RULES = "CNY:1:100"
DEFAULT_EXPIRY = "end_of_next_year"
# One award or adjustment never exceeds this (the store's numbers stay exact far below 2**53).
MAX_POINTS = 10**12
MAX_ADJUSTMENT = 10_000_000

KINDS = ("order_award", "referral_award", "care_gift", "adjustment", "redemption",
         "redemption_cancelled", "expiry", "clawback")
# Kinds an in-process caller (another feature) may award with.
AWARD_KINDS = ("order_award", "referral_award", "care_gift", "adjustment")


@dataclass(frozen=True)
class EarnRule:
    points: int
    per_minor_units: int


@dataclass(frozen=True)
class EarnRules:
    """Points per amount, per currency: "CNY:1:100,USD:7:100" is 1 point per
    100 fen and 7 points per 100 cents. Other currencies earn nothing."""
    rules: tuple[tuple[str, EarnRule], ...]

    @classmethod
    def parse(cls, raw: str) -> "EarnRules":
        rules = []
        for part in filter(None, (p.strip() for p in raw.split(","))):
            bits = part.split(":")
            if len(bits) != 3 or len(bits[0]) != 3 or not bits[0].isalpha() or not bits[0].isupper():
                raise ValueError(f"{part!r} is not CURRENCY:POINTS:PER_MINOR_UNITS")
            try:
                points, per = int(bits[1]), int(bits[2])
            except ValueError:
                raise ValueError(f"{part!r} is not CURRENCY:POINTS:PER_MINOR_UNITS") from None
            if not 0 <= points <= 10_000 or not 1 <= per <= 1_000_000:
                raise ValueError(f"{part!r}: points 0..10000, per 1..1000000 minor units")
            rules.append((bits[0], EarnRule(points, per)))
        if len({c for c, _ in rules}) != len(rules):
            raise ValueError("a currency is named twice")
        return cls(tuple(rules))

    def base_points(self, minor_units: int, currency: str) -> int:
        """Points before the tier multiplier (whole points, rounded down)."""
        for code, rule in self.rules:
            if code == currency and minor_units > 0:
                return min(MAX_POINTS, minor_units * rule.points // rule.per_minor_units)
        return 0


@dataclass(frozen=True)
class ExpiryRule:
    """"months:N": a lot lives N months from the day it was earned (to the
    same day of the month, or the month's last); "end_of_next_year": until
    31 December of the following year. The expiry day is the last day the
    points count."""
    months: int = 0

    @classmethod
    def parse(cls, raw: str) -> "ExpiryRule":
        if raw == "end_of_next_year":
            return cls(0)
        kind, _, n = raw.partition(":")
        if kind == "months" and n.isdigit() and 1 <= int(n) <= 120:
            return cls(int(n))
        raise ValueError(f"{raw!r} is neither months:N (1..120) nor end_of_next_year")

    def expires_on(self, earned_on: dt.date) -> dt.date:
        if not self.months:
            return dt.date(earned_on.year + 1, 12, 31)
        return add_months(earned_on, self.months)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def multiplied(base_points: int, multiplier_percent: int) -> int:
    return min(MAX_POINTS, base_points * multiplier_percent // 100)


def clawback_target(awarded: int, order_total: int, refunded_total: int) -> int:
    """How many of an order's awarded points are clawed back once
    `refunded_total` of its `order_total` is refunded: pro rata, rounded up
    (a full refund takes all of them; a partial one never leaves a
    fraction of a point more than was paid for)."""
    if order_total <= 0 or awarded <= 0:
        return 0
    refunded_total = max(0, min(refunded_total, order_total))
    return -(-awarded * refunded_total // order_total)
