"""Products: pure rules (no I/O).

A product has a list price and a unit cost in one currency, integer minor
units. Margin (price - cost) and margin rate are derived, never entered.
The margin rate is in basis points, rounded down (floor): a rate is never
rounded up into a better grade (39.995 % is 3999 bp, not 4000).

Margin grades are configurable bands of margin rate, best first, e.g.
"A:4000,B:2500,C:1000,D:0": a product takes the first band whose lower
bound its rate reaches; a rate below every bound (a negative margin, say)
takes the last band, and so does a free product (price 0: no rate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.money import Money, validate_money
from crm_kit.settings import SettingsError
from crm_kit.validation import clean_text, collect

BASIS_POINTS = 10_000
SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,63}$")
NAME_MAX, UNIT_MAX = 200, 32
DEFAULT_GRADES = "A:4000,B:2500,C:1000,D:0"
# A cost far above the price makes a rate of minus billions of basis points; shown
# clamped here (it fits a 32-bit field and grades the same: the last band).
MIN_RATE_BP = -10**9


@dataclass(frozen=True)
class GradeBand:
    grade: str
    min_rate_bp: int  # the lowest margin rate (basis points) in this band


@dataclass(frozen=True)
class Product:
    id: str
    sku: str
    name: str
    unit: str
    list_price: Money
    unit_cost: Money
    active: bool
    revision: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by: str = ""
    # Derived from price and cost under the configured bands (`graded`), never entered.
    grade: str = field(default="", compare=False)

    @property
    def margin(self) -> Money:
        return Money(self.list_price.minor_units - self.unit_cost.minor_units, self.list_price.currency_code)

    @property
    def margin_rate_bp(self) -> int:
        return margin_rate_bp(self.list_price.minor_units, self.unit_cost.minor_units)


def margin_rate_bp(price: int, cost: int) -> int:
    """(price - cost) / price in basis points, floored; 0 for a free product;
    never below MIN_RATE_BP."""
    if price <= 0:
        return 0
    return max(MIN_RATE_BP, (price - cost) * BASIS_POINTS // price)


def grade_for(rate_bp: int, price: int, bands: tuple[GradeBand, ...]) -> str:
    if price > 0:
        for band in bands[:-1]:
            if rate_bp >= band.min_rate_bp:
                return band.grade
    return bands[-1].grade


def graded(product: Product, bands: tuple[GradeBand, ...]) -> Product:
    return replace(product, grade=grade_for(product.margin_rate_bp, product.list_price.minor_units, bands))


def parse_grade_bands(raw: str, variable: str = "SALES_MARGIN_GRADES") -> tuple[GradeBand, ...]:
    """"A:4000,B:2500,C:1000,D:0" -> bands, best first. Grades are 1..8
    letters or digits, unique; bounds whole basis points from 0 to 10000,
    strictly falling. At least two bands (one band grades nothing)."""
    bands: list[GradeBand] = []
    for part in raw.split(","):
        grade, sep, bound = part.strip().partition(":")
        grade = grade.strip()
        if not sep or not re.fullmatch(r"[A-Za-z0-9]{1,8}", grade) or not re.fullmatch(r"\d{1,5}", bound.strip()):
            raise SettingsError(f"environment variable {variable}: {part.strip()!r} is not GRADE:BASIS_POINTS "
                                "(for example A:4000)")
        bands.append(GradeBand(grade, int(bound)))
    if len(bands) < 2:
        raise SettingsError(f"environment variable {variable} needs at least two bands")
    if len({b.grade for b in bands}) != len(bands):
        raise SettingsError(f"environment variable {variable} names a grade twice")
    bounds = [b.min_rate_bp for b in bands]
    if any(b > BASIS_POINTS for b in bounds) or any(a <= b for a, b in zip(bounds, bounds[1:])):
        raise SettingsError(f"environment variable {variable}: bounds must fall strictly, best grade first, "
                            f"each at most {BASIS_POINTS} basis points")
    return tuple(bands)


# --- input ------------------------------------------------------------------

def clean_sku(raw: str, field_name: str = "sku") -> str:
    """Trimmed and upper-cased (SKUs are case-insensitive: "a-100" is "A-100")."""
    sku = raw.strip().upper() if isinstance(raw, str) else ""
    if not sku:
        raise InvalidArgument(FieldViolation(field_name, "is required"))
    if not SKU_PATTERN.match(sku):
        raise InvalidArgument(FieldViolation(
            field_name, "must be 1 to 64 letters, digits, '.', '_', '/' or '-', starting with a letter or digit"))
    return sku


def check_prices(list_price: Money, unit_cost: Money, violations: list[FieldViolation]) -> None:
    """Whole, non-negative minor units in one currency one prices in."""
    price = collect(violations, validate_money, list_price, "list_price")
    cost = collect(violations, validate_money, unit_cost, "unit_cost")
    if price is not None and cost is not None and price.currency_code != cost.currency_code:
        violations.append(FieldViolation("unit_cost.currency_code",
                                         f"must be the list price's currency ({price.currency_code})"))


@dataclass(frozen=True)
class ProductDraft:
    sku: str
    name: str
    unit: str
    list_price: Money
    unit_cost: Money
    active: bool = True


def build_draft(*, sku: str, name: str, unit: str, list_price: Money | None, unit_cost: Money | None,
                active: bool = True) -> ProductDraft:
    violations: list[FieldViolation] = []
    sku = collect(violations, clean_sku, sku)
    name = collect(violations, clean_text, name, "name", NAME_MAX, True)
    unit = collect(violations, clean_text, unit or "each", "unit", UNIT_MAX, True)
    if list_price is None:
        violations.append(FieldViolation("list_price", "is required"))
    if unit_cost is None:
        violations.append(FieldViolation("unit_cost", "is required"))
    if list_price is not None and unit_cost is not None:
        check_prices(list_price, unit_cost, violations)
    if violations:
        raise InvalidArgument(violations)
    return ProductDraft(sku, name, unit, list_price, unit_cost, active)


@dataclass(frozen=True)
class ProductChanges:
    """What an update sets; None leaves a field as it is."""
    name: str | None = None
    unit: str | None = None
    list_price: Money | None = None
    unit_cost: Money | None = None
    active: bool | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in (self.name, self.unit, self.list_price, self.unit_cost, self.active))


def clean_changes(changes: ProductChanges) -> ProductChanges:
    violations: list[FieldViolation] = []
    name = collect(violations, clean_text, changes.name, "name", NAME_MAX, True) if changes.name is not None else None
    unit = collect(violations, clean_text, changes.unit, "unit", UNIT_MAX, True) if changes.unit is not None else None
    for value, field_name in ((changes.list_price, "list_price"), (changes.unit_cost, "unit_cost")):
        if value is not None:
            collect(violations, validate_money, value, field_name)
    if changes.is_empty():
        violations.append(FieldViolation("update", "names nothing to change"))
    if violations:
        raise InvalidArgument(violations)
    return replace(changes, name=name, unit=unit)


def apply_changes(current: Product, changes: ProductChanges) -> Product:
    """The product after `changes` (already cleaned); price and cost must
    still share one currency (a currency change sends both)."""
    updated = replace(
        current,
        name=current.name if changes.name is None else changes.name,
        unit=current.unit if changes.unit is None else changes.unit,
        list_price=current.list_price if changes.list_price is None else changes.list_price,
        unit_cost=current.unit_cost if changes.unit_cost is None else changes.unit_cost,
        active=current.active if changes.active is None else changes.active,
    )
    if updated.list_price.currency_code != updated.unit_cost.currency_code:
        which = "unit_cost" if changes.unit_cost is not None else "list_price"
        other = updated.list_price if which == "unit_cost" else updated.unit_cost
        raise InvalidArgument(FieldViolation(f"{which}.currency_code",
                                             f"must be the currency of the product's "
                                             f"{'list price' if which == 'unit_cost' else 'unit cost'} "
                                             f"({other.currency_code}); change both to change the currency"))
    return updated


@dataclass(frozen=True)
class GradeChange:
    """One step of a product's grade history (from its revision claims)."""
    revision: int
    grade: str
    margin_rate_bp: int
    list_price: Money
    unit_cost: Money
    changed_at: datetime
    changed_by: str


def grade_history(states: list[tuple[int, Product, datetime, str]]) -> list[GradeChange]:
    """The revisions at which the grade changed (the first revision always),
    oldest first, from (revision, graded product, when, who) of every revision."""
    out: list[GradeChange] = []
    for revision, product, at, by in states:
        if not out or out[-1].grade != product.grade:
            out.append(GradeChange(revision, product.grade, product.margin_rate_bp, product.list_price,
                                   product.unit_cost, at, by))
    return out
