"""Orders: pure rules (no I/O).

Money is integer minor units in one currency per order. A line's total is
quantity x unit price - discount (the discount is for the whole line and
never above quantity x unit price); the order's totals are sums of its
lines, computed here and never taken from a caller. A line keeps the
product's unit cost as of the order: a later cost change never rewrites it.

States: draft -> confirmed -> partially_delivered -> delivered -> closed,
or cancelled. Between confirmed and delivered the state is derived from the
lines' delivery (`delivery_state`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from crm_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, PreconditionViolation
from crm_kit.money import MAX_MINOR_UNITS, Money, validate_money
from crm_kit.validation import clean_text, collect

DRAFT, CONFIRMED, PARTIALLY_DELIVERED, DELIVERED, CLOSED, CANCELLED = (
    "draft", "confirmed", "partially_delivered", "delivered", "closed", "cancelled")
STATES = (DRAFT, CONFIRMED, PARTIALLY_DELIVERED, DELIVERED, CLOSED, CANCELLED)
OPEN_STATES = (DRAFT, CONFIRMED, PARTIALLY_DELIVERED, DELIVERED)
# Confirmed orders whose lines may still be amended and shipped.
IN_DELIVERY = (CONFIRMED, PARTIALLY_DELIVERED)

MAX_LINES = 200
MAX_QUANTITY = 1_000_000
REASON_MAX, CARRIER_MAX, TRACKING_MAX = 500, 100, 100
CONTACT_NAME_MAX, CONTACT_PHONE_MAX, ADDRESS_MAX = 200, 40, 1000
NUMBER_PREFIX = "SO"
# Imports of historical orders: per call, and how far back an order date may go.
MAX_IMPORT = 500
EARLIEST_ORDER = datetime(2000, 1, 1, tzinfo=timezone.utc)


def order_number(year: int, sequence: int) -> str:
    """"SO-2026-000123": one sequence per year, six digits (more past 999,999)."""
    return f"{NUMBER_PREFIX}-{year:04d}-{sequence:06d}"


@dataclass(frozen=True)
class Delivery:
    """Where and to whom: personal data, removed when the customer is erased."""

    contact_name: str = ""
    contact_phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    product_id: str
    sku: str
    product_name: str
    unit: str
    quantity: int
    unit_price: Money
    discount: Money
    unit_cost: Money  # as of the order
    shipped_quantity: int = 0
    carrier: str = ""
    tracking_number: str = ""
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    # The product's margin grade when the line was priced (commission and the roll-ups by grade).
    margin_grade: str = ""

    @property
    def gross(self) -> Money:
        return self.unit_price.times(self.quantity)

    @property
    def total(self) -> Money:
        return Money(self.gross.minor_units - self.discount.minor_units, self.unit_price.currency_code)

    @property
    def cost(self) -> Money:
        return self.unit_cost.times(self.quantity)

    @property
    def delivered(self) -> bool:
        return self.delivered_at is not None and self.shipped_quantity >= self.quantity


@dataclass(frozen=True)
class LineChange:
    line_id: str
    product_id: str
    kind: str  # added | removed | changed
    previous_quantity: int
    quantity: int
    previous_line_total: Money | None
    line_total: Money | None


@dataclass(frozen=True)
class Amendment:
    number: int
    amended_by: str
    amended_at: datetime
    reason: str
    changes: tuple[LineChange, ...]
    previous_total: Money
    total: Money


@dataclass(frozen=True)
class Order:
    id: str
    number: str
    customer_id: str
    owner_id: str
    team_id: str
    state: str
    currency_code: str  # "" while a draft has no lines
    lines: tuple[OrderLine, ...]
    delivery: Delivery
    created_by: str
    created_at: datetime
    updated_at: datetime
    revision: int = 1
    next_line: int = 1  # the number of the next new line's id ("ln<n>"), never reused
    amendments: tuple[Amendment, ...] = ()
    confirmed_at: datetime | None = None
    delivered_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str = ""
    erased_at: datetime | None = None  # the customer was erased: personal data gone
    request_key: str = ""  # the caller's retry key it was created under, if any
    region: str = ""  # the customer's region code as of the order (set again when it is confirmed)

    @property
    def total(self) -> Money:
        return _sum((line.total for line in self.lines), self.currency_code)

    @property
    def discount_total(self) -> Money:
        return _sum((line.discount for line in self.lines), self.currency_code)

    @property
    def cost_total(self) -> Money:
        return _sum((line.cost for line in self.lines), self.currency_code)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


def _sum(amounts, currency: str) -> Money:
    total = 0
    for amount in amounts:
        total += amount.minor_units
    return Money(total, currency)


# --- what callers ask for ---------------------------------------------------------

@dataclass(frozen=True)
class LineInput:
    line_id: str
    product: str
    quantity: int
    unit_price: Money | None
    discount: Money | None


@dataclass(frozen=True)
class PricedProduct:
    """What a line needs to know of a product (crm_sales.products.model.Product has more)."""

    id: str
    sku: str
    name: str
    unit: str
    list_price: Money
    unit_cost: Money
    grade: str = ""  # the product's margin grade now


@dataclass(frozen=True)
class Shipment:
    line_id: str
    quantity: int
    carrier: str
    tracking_number: str


def validate_delivery(d: Delivery, field_name: str = "delivery") -> Delivery:
    violations: list[FieldViolation] = []
    name = collect(violations, clean_text, d.contact_name, f"{field_name}.contact_name", CONTACT_NAME_MAX)
    phone = collect(violations, clean_text, d.contact_phone, f"{field_name}.contact_phone", CONTACT_PHONE_MAX)
    address = collect(violations, clean_text, d.address, f"{field_name}.address", ADDRESS_MAX, False, True)
    if violations:
        raise InvalidArgument(violations)
    return Delivery(name, phone, address)


def validate_reason(reason: str, field_name: str = "reason", required: bool = False) -> str:
    return clean_text(reason, field_name, REASON_MAX, required, True)


def check_line_inputs(lines: list[LineInput], *, required: bool = False) -> None:
    """The shape of each line before any product is read: counts, quantities,
    money; one answer names every bad field."""
    violations: list[FieldViolation] = []
    if len(lines) > MAX_LINES:
        violations.append(FieldViolation("lines", f"at most {MAX_LINES} lines"))
    if required and not lines:
        violations.append(FieldViolation("lines", "at least one line is required"))
    seen: set[str] = set()
    for i, line in enumerate(lines):
        where = f"lines[{i}]"
        if line.line_id:
            if line.line_id in seen:
                violations.append(FieldViolation(f"{where}.line_id", "names a line given twice"))
            seen.add(line.line_id)
        elif not line.product.strip():
            violations.append(FieldViolation(f"{where}.product", "is required (a product id or SKU)"))
        if len(line.product) > 100:
            violations.append(FieldViolation(f"{where}.product", "must be at most 100 characters"))
        q = line.quantity
        if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= MAX_QUANTITY:
            violations.append(FieldViolation(f"{where}.quantity", f"must be a whole number from 1 to {MAX_QUANTITY}"))
        for name, money in (("unit_price", line.unit_price), ("discount", line.discount)):
            if money is not None:
                collect(violations, validate_money, money, f"{where}.{name}")
    if violations:
        raise InvalidArgument(violations)


def price_lines(inputs: list[LineInput], products: list[PricedProduct | None], kept: dict[str, OrderLine],
                next_line: int, order_currency: str = "") -> tuple[tuple[OrderLine, ...], int]:
    """The order's new lines and its next line number. `products[i]` is the
    product of new line i (None for a kept line); `kept` the order's current
    lines by id. A kept line keeps its product, unit cost and (unless given)
    price; a new line takes the product's list price and current unit cost.
    Every line must be in one currency; every discount within its line."""
    violations: list[FieldViolation] = []
    out: list[OrderLine] = []
    currency = order_currency  # an amendment stays in the order's currency; a draft takes its first line's
    for i, (line, product) in enumerate(zip(inputs, products)):
        where = f"lines[{i}]"
        if line.line_id:
            previous = kept.get(line.line_id)
            if previous is None:
                violations.append(FieldViolation(f"{where}.line_id", "is not a line of this order"))
                continue
            if line.product and line.product not in (previous.product_id, previous.sku):
                violations.append(FieldViolation(f"{where}.product", "a kept line keeps its product; remove the "
                                                                    "line and add a new one instead"))
                continue
            base = previous
        else:
            base = OrderLine(f"ln{next_line}", product.id, product.sku, product.name, product.unit, 0,
                             product.list_price, Money(0, product.list_price.currency_code), product.unit_cost,
                             margin_grade=product.grade)
            next_line += 1
        unit_price = line.unit_price or base.unit_price
        discount = line.discount or Money(0, unit_price.currency_code)
        line_currency = base.unit_cost.currency_code  # the product's currency: the cost is in it
        if not currency:
            currency = line_currency
        if {unit_price.currency_code, discount.currency_code, line_currency} != {currency}:
            violations.append(FieldViolation(where, f"mixes currencies: every amount of an order is in {currency}"))
            continue
        priced = replace(base, quantity=line.quantity, unit_price=unit_price, discount=discount)
        if discount.minor_units > priced.gross.minor_units:
            violations.append(FieldViolation(f"{where}.discount",
                                             f"must not be above the line's price ({priced.gross.minor_units})"))
            continue
        if priced.gross.minor_units > MAX_MINOR_UNITS or priced.cost.minor_units > MAX_MINOR_UNITS:
            violations.append(FieldViolation(where, "the line's amount is too large"))
            continue
        out.append(priced)
    if not violations and sum(line.total.minor_units for line in out) > MAX_MINOR_UNITS:
        violations.append(FieldViolation("lines", "the order's total is too large"))
    if violations:
        raise InvalidArgument(violations)
    return tuple(out), next_line


# --- state changes (each returns the new order, or raises) ---------------------------

def _refuse(order: Order, what: str, message: str) -> FailedPrecondition:
    return FailedPrecondition([PreconditionViolation(what, f"orders/{order.id}", message)], message)


def require_revision(order: Order, expected: int) -> None:
    if expected and expected != order.revision:
        raise _refuse(order, "REVISION", f"the order changed since revision {expected} (now {order.revision})")


def require_draft(order: Order) -> None:
    if order.state != DRAFT:
        raise _refuse(order, "STATE", f"the order is {order.state}: only a draft's lines are edited; amend it")


def require_amendable(order: Order) -> None:
    if order.state not in IN_DELIVERY:
        raise _refuse(order, "STATE", f"the order is {order.state}: only a confirmed order not yet delivered "
                                      "is amended")


def edit_draft(order: Order, lines: tuple[OrderLine, ...], next_line: int, delivery: Delivery,
               now: datetime) -> Order:
    require_draft(order)
    currency = lines[0].unit_price.currency_code if lines else ""
    return replace(order, lines=lines, next_line=next_line, currency_code=currency, delivery=delivery,
                   updated_at=now)


def confirm(order: Order, owner_id: str, team_id: str, now: datetime, region: str | None = None) -> Order:
    if order.state != DRAFT:
        raise _refuse(order, "STATE", f"the order is {order.state} already: only a draft is confirmed")
    if not order.lines:
        raise _refuse(order, "LINES", "an order without lines cannot be confirmed")
    return replace(order, state=CONFIRMED, owner_id=owner_id, team_id=team_id, confirmed_at=now, updated_at=now,
                   region=order.region if region is None else region)


def amend(order: Order, lines: tuple[OrderLine, ...], next_line: int, by: str, reason: str,
          now: datetime) -> Order:
    require_amendable(order)
    new_by_id = {line.line_id: line for line in lines}
    violations: list[FieldViolation] = []
    for old in order.lines:
        new = new_by_id.get(old.line_id)
        if old.shipped_quantity and (new is None or new.quantity < old.shipped_quantity):
            violations.append(FieldViolation(
                "lines", f"line {old.line_id} shipped {old.shipped_quantity}: it cannot go below that nor be removed"))
    if violations:
        raise InvalidArgument(violations)
    changes = line_changes(order.lines, lines)
    if not changes:
        raise InvalidArgument(FieldViolation("lines", "change nothing: an amendment must change a line"))
    amended = replace(order, lines=tuple(_redeliver(line) for line in lines), next_line=next_line, updated_at=now)
    record = Amendment(len(order.amendments) + 1, by, now, reason, changes, order.total, amended.total)
    return _with_delivery_state(replace(amended, amendments=(*order.amendments, record)), now)


def with_delivery_of(lines: tuple[OrderLine, ...], current: tuple[OrderLine, ...]) -> tuple[OrderLine, ...]:
    """`lines` (priced on an older read of the order) with the delivery
    progress the current order records for each kept line: shipments that
    landed meanwhile are not undone by an amendment."""
    now_by_id = {line.line_id: line for line in current}
    return tuple(replace(line, shipped_quantity=now.shipped_quantity, carrier=now.carrier,
                         tracking_number=now.tracking_number, shipped_at=now.shipped_at,
                         delivered_at=now.delivered_at)
                 if (now := now_by_id.get(line.line_id)) is not None else line for line in lines)


def _redeliver(line: OrderLine) -> OrderLine:
    """A delivered line whose quantity went up is no longer delivered."""
    return line if line.delivered_at is None or line.shipped_quantity >= line.quantity \
        else replace(line, delivered_at=None)


def line_changes(before: tuple[OrderLine, ...], after: tuple[OrderLine, ...]) -> tuple[LineChange, ...]:
    old = {line.line_id: line for line in before}
    new = {line.line_id: line for line in after}
    changes = []
    for line in before:
        if line.line_id not in new:
            changes.append(LineChange(line.line_id, line.product_id, "removed", line.quantity, 0, line.total, None))
    for line in after:
        previous = old.get(line.line_id)
        if previous is None:
            changes.append(LineChange(line.line_id, line.product_id, "added", 0, line.quantity, None, line.total))
        elif (previous.quantity, previous.unit_price, previous.discount) != \
                (line.quantity, line.unit_price, line.discount):
            changes.append(LineChange(line.line_id, line.product_id, "changed", previous.quantity, line.quantity,
                                      previous.total, line.total))
    return tuple(changes)


def cancel(order: Order, reason: str, now: datetime) -> Order:
    if order.state not in (DRAFT, CONFIRMED):
        raise _refuse(order, "STATE", f"the order is {order.state}: only a draft or a confirmed order of which "
                                      "nothing shipped is cancelled")
    return replace(order, state=CANCELLED, cancelled_at=now, cancel_reason=reason, updated_at=now)


def ship(order: Order, shipments: list[Shipment], at: datetime, now: datetime) -> Order:
    if order.state not in IN_DELIVERY:
        raise _refuse(order, "STATE", f"the order is {order.state}: only a confirmed order ships")
    lines = {line.line_id: line for line in order.lines}
    violations: list[FieldViolation] = []
    if not shipments:
        violations.append(FieldViolation("shipments", "at least one shipment is required"))
    seen: set[str] = set()
    for i, s in enumerate(shipments):
        where = f"shipments[{i}]"
        line = lines.get(s.line_id)
        if line is None or s.line_id in seen:
            violations.append(FieldViolation(f"{where}.line_id", "is not a line of this order" if line is None
                                             else "names a line given twice"))
            continue
        seen.add(s.line_id)
        remaining = line.quantity - line.shipped_quantity
        if isinstance(s.quantity, bool) or not isinstance(s.quantity, int) or not 1 <= s.quantity <= remaining:
            message = f"must be from 1 to {remaining} (what remains to ship)" if remaining \
                else "nothing remains to ship"
            violations.append(FieldViolation(f"{where}.quantity", message))
        carrier = collect(violations, clean_text, s.carrier, f"{where}.carrier", CARRIER_MAX, True)
        tracking = collect(violations, clean_text, s.tracking_number, f"{where}.tracking_number", TRACKING_MAX)
        if violations:
            continue
        lines[s.line_id] = replace(line, shipped_quantity=line.shipped_quantity + s.quantity, carrier=carrier,
                                   tracking_number=tracking, shipped_at=at)
    if violations:
        raise InvalidArgument(violations)
    return _with_delivery_state(replace(order, lines=tuple(lines[line.line_id] for line in order.lines),
                                        updated_at=now), now)


def deliver(order: Order, line_ids: list[str], at: datetime, now: datetime) -> Order:
    if order.state not in IN_DELIVERY:
        raise _refuse(order, "STATE", f"the order is {order.state}: only a confirmed order is delivered")
    lines = {line.line_id: line for line in order.lines}
    violations: list[FieldViolation] = []
    if not line_ids:
        violations.append(FieldViolation("line_ids", "at least one line is required"))
    if len(set(line_ids)) != len(line_ids):
        violations.append(FieldViolation("line_ids", "names a line twice"))
    for i, line_id in enumerate(line_ids):
        line = lines.get(line_id)
        if line is None:
            violations.append(FieldViolation(f"line_ids[{i}]", "is not a line of this order"))
        elif line.shipped_quantity < line.quantity:
            violations.append(FieldViolation(f"line_ids[{i}]", f"only {line.shipped_quantity} of {line.quantity} "
                                                               "shipped: ship the rest first"))
        elif line.delivered_at is not None:
            violations.append(FieldViolation(f"line_ids[{i}]", "was delivered already"))
        elif line.shipped_at is not None and at < line.shipped_at:
            violations.append(FieldViolation("deliver_time", "is before the line was shipped"))
        else:
            lines[line_id] = replace(line, delivered_at=at)
    if violations:
        raise InvalidArgument(violations)
    return _with_delivery_state(replace(order, lines=tuple(lines[line.line_id] for line in order.lines),
                                        updated_at=now), now)


def delivery_state(lines: tuple[OrderLine, ...]) -> str:
    if lines and all(line.delivered for line in lines):
        return DELIVERED
    if any(line.shipped_quantity for line in lines):
        return PARTIALLY_DELIVERED
    return CONFIRMED


def _with_delivery_state(order: Order, now: datetime) -> Order:
    state = delivery_state(order.lines)
    delivered_at = order.delivered_at
    if state == DELIVERED and order.state != DELIVERED:
        delivered_at = max(line.delivered_at for line in order.lines)
    return replace(order, state=state, delivered_at=delivered_at if state == DELIVERED else None)


def close(order: Order, now: datetime) -> Order:
    if order.state != DELIVERED:
        raise _refuse(order, "STATE", f"the order is {order.state}: only a delivered order is closed")
    return replace(order, state=CLOSED, closed_at=now, updated_at=now)


def erase_personal_data(order: Order, now: datetime) -> Order:
    """Delivery details and free-text reasons go; lines, money and times stay."""
    return replace(order, delivery=Delivery(), cancel_reason="",
                   amendments=tuple(replace(a, reason="") for a in order.amendments),
                   erased_at=order.erased_at or now)


def has_personal_data(order: Order) -> bool:
    return order.delivery != Delivery() or bool(order.cancel_reason) or any(a.reason for a in order.amendments)


@dataclass(frozen=True)
class OrderDraft:
    """A new order, before it has an id and a number."""

    customer_id: str
    lines: list[LineInput] = field(default_factory=list)
    delivery: Delivery = Delivery()


# --- imports of historical orders ------------------------------------------------------

@dataclass(frozen=True)
class ImportItem:
    """One historical order to import: confirmed as of `ordered_at`."""

    request_id: str  # the caller's key for this order: a re-sent item imports nothing twice
    draft: OrderDraft
    ordered_at: datetime | None


def validate_ordered_at(at: datetime | None, now: datetime, skew: timedelta) -> datetime:
    """An order date in the past (a clock `skew` ahead allowed), not before EARLIEST_ORDER."""
    if at is None:
        raise InvalidArgument(FieldViolation("ordered_at", "is required"))
    if at < EARLIEST_ORDER:
        raise InvalidArgument(FieldViolation("ordered_at", f"must not be before {EARLIEST_ORDER.date().isoformat()}"))
    if at > now + skew:
        raise InvalidArgument(FieldViolation("ordered_at", "must not be in the future"))
    return at


def imported(order_id: str, customer_id: str, owner_id: str, team_id: str, lines: tuple[OrderLine, ...],
             next_line: int, delivery: Delivery, by: str, ordered_at: datetime, now: datetime,
             request_key: str, region: str = "") -> Order:
    """A historical order as stored: confirmed when it was ordered (its
    number is taken later, from the year of `ordered_at`)."""
    if not lines:
        raise InvalidArgument(FieldViolation("lines", "at least one line is required"))
    return Order(id=order_id, number="", customer_id=customer_id, owner_id=owner_id, team_id=team_id,
                 state=CONFIRMED, currency_code=lines[0].unit_price.currency_code, lines=lines, delivery=delivery,
                 created_by=by, created_at=ordered_at, updated_at=now, next_line=next_line,
                 confirmed_at=ordered_at, request_key=request_key, region=region)
