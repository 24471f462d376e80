"""Roll-up figures: pure rules (no I/O).

Every figure is an integer in minor units of one currency (an order's
currency; reports are per currency): revenue (line totals after discount),
cost of goods (quantity x the unit cost stored on the line), attributed
expenses (approved sales expenses), order count and collected cash
(receipts minus refunds and voids, in the receipt's month). Margin and net
contribution are derived, never stored.

A contribution rate is a customer's margin over the period's total margin,
in parts per million, rounded half away from zero, as an integer: no float
on the money path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# Dimensions of a roll-up: what a bucket's members are.
CUSTOMER, PRODUCT, REP = "customer", "product", "rep"
DIMENSIONS = (CUSTOMER, PRODUCT, REP)
PPM = 1_000_000


@dataclass(frozen=True)
class Figures:
    revenue: int = 0
    cost: int = 0
    expenses: int = 0
    orders: int = 0
    cash: int = 0

    @classmethod
    def zero(cls) -> "Figures":
        return cls()

    @property
    def margin(self) -> int:
        return self.revenue - self.cost

    @property
    def net(self) -> int:
        return self.margin - self.expenses

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(self.revenue + other.revenue, self.cost + other.cost, self.expenses + other.expenses,
                       self.orders + other.orders, self.cash + other.cash)

    def __sub__(self, other: "Figures") -> "Figures":
        return Figures(self.revenue - other.revenue, self.cost - other.cost, self.expenses - other.expenses,
                       self.orders - other.orders, self.cash - other.cash)

    def __neg__(self) -> "Figures":
        return Figures.zero() - self

    @property
    def is_zero(self) -> bool:
        return self == ZERO

    def as_list(self) -> list[int]:
        """The stored form: [revenue, cost, expenses, orders, cash]."""
        return [self.revenue, self.cost, self.expenses, self.orders, self.cash]

    @classmethod
    def from_list(cls, values) -> "Figures":
        revenue, cost, expenses, orders, cash = (int(v) for v in values)
        return cls(revenue, cost, expenses, orders, cash)


ZERO = Figures()


@dataclass(frozen=True)
class Attributed:
    """A member's figures over a period, with who it was attributed to: for a
    customer the owner, team and region of its latest counted order in the
    period; for a rep the team; for a product its margin grade."""

    figures: Figures
    owner_id: str = ""
    team_id: str = ""
    region: str = ""
    margin_grade: str = ""
    # The month the attributes were taken from (the latest one that set them).
    as_of: str = ""

    def plus(self, figures: Figures, *, month: str, owner_id: str = "", team_id: str = "", region: str = "",
             margin_grade: str = "") -> "Attributed":
        """These figures added; attributes taken over when `month` is at least as late as the current ones."""
        out = replace(self, figures=self.figures + figures)
        if (owner_id or team_id or region or margin_grade) and month >= self.as_of:
            out = replace(out, owner_id=owner_id or out.owner_id, team_id=team_id or out.team_id,
                          region=region or out.region, margin_grade=margin_grade or out.margin_grade, as_of=month)
        return out


def rate_ppm(part: int, whole: int) -> int:
    """part / whole in parts per million, rounded half away from zero; 0 when whole is 0."""
    if whole == 0:
        return 0
    numerator = part * PPM
    sign = -1 if (numerator < 0) != (whole < 0) else 1
    q, r = divmod(abs(numerator), abs(whole))
    if 2 * r >= abs(whole):
        q += 1
    return sign * q


def ppm_text(ppm: int) -> str:
    """Parts per million as an exact decimal fraction: 123456 -> "0.123456"."""
    sign = "-" if ppm < 0 else ""
    whole, frac = divmod(abs(ppm), PPM)
    return f"{sign}{whole}.{frac:06d}"


def change_ppm(now: int, before: int) -> int | None:
    """(now - before) / |before| in ppm; None when before is 0 (no base to compare with)."""
    if before == 0:
        return None
    return rate_ppm(now - before, abs(before))
