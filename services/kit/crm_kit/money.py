"""Money: integer minor units plus an ISO 4217 currency, never a float.

Amounts stay below 2**53 (MAX_MINOR_UNITS), so JSON clients whose numbers
are doubles (JavaScript) read every amount exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pycountry

from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.validation import collect

MAX_MINOR_UNITS = 10**15
# Codes in ISO 4217 that are not money one prices in (no currency, testing,
# precious metals, bond-market and SDR units).
_NOT_MONEY = frozenset({"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA"})


@dataclass(frozen=True)
class Money:
    minor_units: int
    currency_code: str

    def __add__(self, other: "Money") -> "Money":
        if other.currency_code != self.currency_code:
            raise ValueError(f"cannot add {other.currency_code} to {self.currency_code}")
        return Money(self.minor_units + other.minor_units, self.currency_code)

    def times(self, quantity: int) -> "Money":
        return Money(self.minor_units * quantity, self.currency_code)

    def to_json(self) -> dict:
        return {"minor_units": self.minor_units, "currency_code": self.currency_code}


@cache
def currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies) - _NOT_MONEY


def validate_currency(code: str, field_name: str) -> str:
    if not isinstance(code, str) or len(code) != 3 or not code.isascii() or not code.isupper() \
            or code not in currency_codes():
        raise InvalidArgument(FieldViolation(field_name, "must be an ISO 4217 currency code such as CNY"))
    return code


def validate_money(money: Money, field_name: str, maximum: int = MAX_MINOR_UNITS) -> Money:
    """Whole minor units from 0 to `maximum` in a currency one prices in."""
    violations: list[FieldViolation] = []
    amount = money.minor_units
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= maximum:
        violations.append(FieldViolation(f"{field_name}.minor_units",
                                         f"must be a whole number of minor units from 0 to {maximum}"))
    collect(violations, validate_currency, money.currency_code, f"{field_name}.currency_code")
    if violations:
        raise InvalidArgument(violations)
    return money
