"""Customer value grades: pure rules (no I/O).

A value grade grades a *customer* by the gross margin they brought in one
calendar year (their profit contribution). It is not a product's margin
grade and not the loyalty programme's VIP tier.

Bands are cumulative shares of the year's positive margin, best first
(settings SALES_VALUE_GRADE_BANDS, "A:50,B:30,C:20"): A holds the customers
who together make the top 50 % of the margin, B the next 30 %, C the rest.
Customers whose margin is zero or negative get the no-margin grade ("D").

The rule, exactly (integers only): rank the customers with a positive
margin; for each, `ahead` is the margin of every customer with a strictly
larger margin. The customer gets the first band whose cumulative share
`s` (percent) satisfies `ahead * 100 < s * total`. So
- the customer who crosses a boundary belongs to the band above it (the
  top customer is always in the first band, even if they alone make 90 %);
- equal margins always get the same grade (ties never depend on ids);
- a larger margin never gets a worse grade;
- every customer gets exactly one grade (the shares add up to 100 %).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from crm_kit.settings import SettingsError

DEFAULT_BANDS = "A:50,B:30,C:20"
NO_MARGIN_GRADE = "D"
_CODE = re.compile(r"[A-Z][A-Z0-9]{0,7}")


@dataclass(frozen=True)
class ValueBand:
    grade: str
    share_percent: int  # this band's own share of the year's positive margin


@dataclass(frozen=True)
class ValueBands:
    bands: tuple[ValueBand, ...]
    no_margin_grade: str = NO_MARGIN_GRADE

    @property
    def grades(self) -> tuple[str, ...]:
        """Every grade, best first, the no-margin grade last."""
        return (*(b.grade for b in self.bands), self.no_margin_grade)

    def rank(self, grade: str) -> int:
        """0 for the best grade; larger is worse (unknown grades rank last)."""
        grades = self.grades
        return grades.index(grade) if grade in grades else len(grades)


def parse_bands(raw: str, variable: str = "SALES_VALUE_GRADE_BANDS",
                no_margin_grade: str = NO_MARGIN_GRADE) -> ValueBands:
    """"A:50,B:30,C:20" -> bands, best first: grades 1..8 upper-case letters
    or digits (starting with a letter), unique and not the no-margin grade;
    shares whole percents, each at least 1, adding up to exactly 100."""
    bands: list[ValueBand] = []
    for part in raw.split(","):
        grade, sep, share = part.strip().partition(":")
        grade, share = grade.strip(), share.strip()
        if not sep or not _CODE.fullmatch(grade) or not re.fullmatch(r"\d{1,3}", share) or int(share) < 1:
            raise SettingsError(f"environment variable {variable}: {part.strip()!r} is not GRADE:PERCENT "
                                "(for example A:50)")
        bands.append(ValueBand(grade, int(share)))
    codes = [b.grade for b in bands]
    if len(set(codes)) != len(codes) or no_margin_grade in codes:
        raise SettingsError(f"environment variable {variable} names a grade twice "
                            f"(or the no-margin grade {no_margin_grade})")
    if sum(b.share_percent for b in bands) != 100:
        raise SettingsError(f"environment variable {variable}: the shares must add up to 100 percent")
    return ValueBands(tuple(bands), no_margin_grade)


def grade_customers(margins: Mapping[str, int], bands: ValueBands) -> dict[str, str]:
    """{customer id: grade} for every customer in `margins` (their year's
    gross margin, integer minor units of one currency). See the module's
    docstring for the rule."""
    out = {cid: bands.no_margin_grade for cid, margin in margins.items() if margin <= 0}
    positive = sorted(((m, cid) for cid, m in margins.items() if m > 0), reverse=True)
    total = sum(m for m, _ in positive)
    limits: list[tuple[int, str]] = []  # (cumulative percent, grade)
    cumulative = 0
    for band in bands.bands:
        cumulative += band.share_percent
        limits.append((cumulative, band.grade))
    ahead = 0       # margin of customers strictly larger than the current one
    i = 0
    while i < len(positive):
        margin = positive[i][0]
        j = i
        while j < len(positive) and positive[j][0] == margin:
            j += 1
        grade = next(g for share, g in limits if ahead * 100 < share * total)
        for _, cid in positive[i:j]:
            out[cid] = grade
        ahead += margin * (j - i)
        i = j
    return out


def counts(grades: Mapping[str, str], bands: ValueBands) -> dict[str, int]:
    """How many customers got each grade (every grade listed, zeros too)."""
    out = {g: 0 for g in bands.grades}
    for grade in grades.values():
        out[grade] = out.get(grade, 0) + 1
    return out


UNGRADED = "none"  # the metrics label of customers never graded


def by_grade(margins_and_nets: Mapping[str, tuple[int, int]], grades: Mapping[str, str]) -> dict[str, tuple[int, int]]:
    """{customer: (margin, net)} summed per customer's current grade ("none"
    for customers never graded): {grade: (margin, net)}."""
    out: dict[str, tuple[int, int]] = {}
    for customer_id, (margin, net) in margins_and_nets.items():
        grade = grades.get(customer_id, UNGRADED)
        m, n = out.get(grade, (0, 0))
        out[grade] = (m + margin, n + net)
    return out
