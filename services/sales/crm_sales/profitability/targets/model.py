"""Targets, attainment and rankings: pure rules (no I/O).

A target is one month's goal of a rep or a team in one currency: revenue,
gross margin and collected cash, whole minor units. Attainment is actual
over target in basis points (10000 = met), rounded down, and undefined
(None) when the target is 0. A team's actual is the sum of its reps' (each
rep counted in the team the roll-ups attribute them to for the period).

Rankings order reps by one figure, best first; equal figures share a rank
(standard competition ranking: 1, 2, 2, 4), listed by rep id within a tie so
the order is stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.money import MAX_MINOR_UNITS, validate_currency

from crm_sales.profitability.months import Month, months_between

SCOPES = ("rep", "team")
METRICS = ("revenue", "margin", "cash", "new_customers", "orders")
MONEY_METRICS = ("revenue", "margin", "cash")
BASIS_POINTS = 10_000
MAX_MONTHS = 36
_SUBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")


@dataclass(frozen=True)
class Goals:
    revenue: int = 0
    margin: int = 0
    cash: int = 0

    def __add__(self, other: "Goals") -> "Goals":
        return Goals(self.revenue + other.revenue, self.margin + other.margin, self.cash + other.cash)


@dataclass(frozen=True)
class Target:
    scope: str
    subject_id: str
    team_id: str
    month: Month
    currency: str
    goals: Goals
    revision: int = 1
    updated_at: datetime | None = None
    updated_by: str = ""

    @property
    def key(self) -> str:
        return target_key(self.scope, self.subject_id, self.month, self.currency)


def target_key(scope: str, subject_id: str, month: Month, currency: str) -> str:
    return f"{scope}:{subject_id}|{month}|{currency}"


def attainment_bp(actual: int, target: int) -> int | None:
    """actual / target in basis points, rounded down (toward minus infinity); None for a 0 target."""
    if target <= 0:
        return None
    return actual * BASIS_POINTS // target


@dataclass(frozen=True)
class MonthFigures:
    """Target and actual of one month (or a range: `label` "2026-01..2026-03")."""

    label: str
    target: Goals
    actual: Goals

    @property
    def revenue_bp(self) -> int | None:
        return attainment_bp(self.actual.revenue, self.target.revenue)

    @property
    def margin_bp(self) -> int | None:
        return attainment_bp(self.actual.margin, self.target.margin)

    @property
    def cash_bp(self) -> int | None:
        return attainment_bp(self.actual.cash, self.target.cash)


def total(rows: list[MonthFigures]) -> MonthFigures:
    label = f"{rows[0].label}..{rows[-1].label}" if rows else ""
    target, actual = Goals(), Goals()
    for row in rows:
        target, actual = target + row.target, actual + row.actual
    return MonthFigures(label, target, actual)


@dataclass(frozen=True)
class Ranked:
    rank: int
    rep_id: str
    team_id: str
    value: int


def rank(values: dict[str, tuple[int, str]]) -> list[Ranked]:
    """{rep id: (value, team id)} -> best first; ties share the better rank."""
    ordered = sorted(values.items(), key=lambda item: (-item[1][0], item[0]))
    out: list[Ranked] = []
    for position, (rep_id, (value, team_id)) in enumerate(ordered, 1):
        shared = out[-1].rank if out and out[-1].value == value else position
        out.append(Ranked(shared, rep_id, team_id, value))
    return out


# --- input ----------------------------------------------------------------------

def clean_scope(scope: object) -> str:
    if scope not in SCOPES:
        raise InvalidArgument(FieldViolation("scope", "must be rep or team"))
    return scope


def clean_subject(subject: object, field_name: str = "subject_id", required: bool = True) -> str:
    if subject == "" and not required:
        return ""
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise InvalidArgument(FieldViolation(field_name, "must be an id of 1 to 128 letters, digits, '.', '_', ':', "
                                                         "'@' or '-'"))
    return subject


def clean_goals(revenue: object, margin: object, cash: object) -> Goals:
    violations = []
    for name, value in (("revenue_minor_units", revenue), ("margin_minor_units", margin),
                        ("cash_minor_units", cash)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_MINOR_UNITS:
            violations.append(FieldViolation(name, f"must be whole minor units from 0 to {MAX_MINOR_UNITS}"))
    if violations:
        raise InvalidArgument(violations)
    if not (revenue or margin or cash):
        raise InvalidArgument(FieldViolation("revenue_minor_units", "a target needs at least one figure above 0"))
    return Goals(revenue, margin, cash)


def clean_range(start: object, end: object) -> list[Month]:
    first = Month.parse(start, "start_month")
    last = Month.parse(end, "end_month") if end else first
    months = months_between(first, last)
    if not months:
        raise InvalidArgument(FieldViolation("end_month", "must not be before start_month"))
    if len(months) > MAX_MONTHS:
        raise InvalidArgument(FieldViolation("end_month", f"the range spans at most {MAX_MONTHS} months"))
    return months


def clean_currency(code: object) -> str:
    return validate_currency(code, "currency_code")


def clean_metric(metric: object) -> str:
    if metric not in METRICS:
        raise InvalidArgument(FieldViolation("metric", "must be one of " + ", ".join(METRICS)))
    return metric
