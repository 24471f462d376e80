"""Calendar months, the unit every profitability figure counts in.

A timestamp belongs to the month of its date in the business time zone
(settings SALES_TIMEZONE, default Asia/Shanghai): an order confirmed at
2026-03-31 20:00 UTC counts in April in Shanghai.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from crm_kit.clock import local_date
from crm_kit.errors import FieldViolation, InvalidArgument

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_ZONE = ZoneInfo(DEFAULT_TIMEZONE)  # where no zone is given (SALES_TIMEZONE's default)
_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits only (\d takes any script's)
# Months outside these years are refused (no figure predates the earliest order date).
FIRST_YEAR, LAST_YEAR = 2000, 2999


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self):
        if not (1 <= self.year <= 9999 and 1 <= self.month <= 12):
            raise ValueError(f"no such month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str, field_name: str = "month") -> "Month":
        """"2026-03" -> Month(2026, 3); anything else is INVALID_ARGUMENT naming the field."""
        found = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
        if found:
            year, month = int(found.group(1)), int(found.group(2))
            if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12:
                return cls(year, month)
        raise InvalidArgument(FieldViolation(field_name, f"must be a month YYYY-MM from {FIRST_YEAR} to {LAST_YEAR}"))

    @classmethod
    def of(cls, at: datetime, tz: tzinfo) -> "Month":
        """The month of `at` (aware; a naive time is taken as UTC) in `tz`."""
        return cls.of_date(local_date(at, tz))

    @classmethod
    def of_date(cls, day: date) -> "Month":
        return cls(day.year, day.month)

    @classmethod
    def from_index(cls, index: int) -> "Month":
        return cls(index // 12, index % 12 + 1)

    @property
    def index(self) -> int:
        """Months since year 0: consecutive months differ by one."""
        return self.year * 12 + self.month - 1

    def next(self) -> "Month":
        return Month.from_index(self.index + 1)

    def prev(self) -> "Month":
        return Month.from_index(self.index - 1)

    def plus(self, months: int) -> "Month":
        return Month.from_index(self.index + months)

    def year_earlier(self) -> "Month":
        return Month(self.year - 1, self.month)

    @property
    def quarter(self) -> str:
        """"2026-Q1" for January to March 2026."""
        return f"{self.year:04d}-Q{(self.month - 1) // 3 + 1}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months_between(start: Month, end: Month) -> list[Month]:
    """Every month from `start` to `end`, both included (empty when end < start)."""
    return [Month.from_index(i) for i in range(start.index, end.index + 1)]


def business_zone(name: str = DEFAULT_TIMEZONE) -> ZoneInfo:
    return ZoneInfo(name)


def covering(start: Month, end: Month) -> list[str]:
    """The fewest calendar quarters ("2026-Q1") and months ("2026-03") that
    cover `start`..`end` exactly: whole quarters inside the period, months at
    its ragged ends. Twelve months read as four quarters, or two quarters and
    six months at worst."""
    out: list[str] = []
    index = start.index
    while index <= end.index:
        month = Month.from_index(index)
        if (month.month - 1) % 3 == 0 and index + 2 <= end.index:
            out.append(month.quarter)
            index += 3
        else:
            out.append(str(month))
            index += 1
    return out
