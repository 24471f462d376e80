"""What a sales fact changes in the roll-ups: pure rules (no I/O), shared by
the event path and the rebuild, so both count exactly alike.

- An order counts in the month it was confirmed (business time zone) with
  its current lines: revenue and cost per customer, per product (order
  count: the orders holding the product) and per rep (the order's owner);
  an amendment changes that month by the difference of the lines, a
  cancellation takes the order's lines and its count back.
- Cash counts in the month money moved: a receipt in its month, a refund
  or void (negative) in the month of the refund; per customer and per rep
  (the plan's owner); products see no cash.
- An approved expense counts in the month it was spent: per rep always,
  per customer when it names one.
Each bucket change goes to the month's bucket and to its quarter's. A
customer's series document gets the customer's changes keyed by month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo

from crm_sales.profitability.months import Month
from crm_sales.profitability.rollups.model import CUSTOMER, PRODUCT, REP, Figures
from crm_sales.profitability.rollups.store import Change, bucket_id, series_id, series_key, shard_of


@dataclass(frozen=True)
class LineFacts:
    product_id: str
    margin_grade: str
    revenue: int
    cost: int


@dataclass(frozen=True)
class OrderFacts:
    """An order as the roll-ups count it (its lines as they stand)."""

    customer_id: str
    owner_id: str
    team_id: str
    region: str
    currency: str
    confirmed_at: datetime
    lines: tuple[LineFacts, ...]


DocChanges = list[tuple[str, Change]]


def _utc_text(at: datetime) -> str:
    """A time as compared between rows: epoch milliseconds, 13 digits (sorts as text until 2286)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return f"{int(at.timestamp() * 1000):013d}"


def buckets(dimension: str, currency: str, month: Month, change: Change) -> DocChanges:
    """The change in the member's month bucket and in its quarter bucket."""
    shard = shard_of(change.key, dimension)
    return [(bucket_id(dimension, currency, month, shard), change),
            (bucket_id(dimension, currency, month.quarter, shard), change)]


def order_changes(o: OrderFacts, tz: tzinfo, sign: int = 1) -> DocChanges:
    """The order's contribution (sign 1), or its removal (sign -1: figures
    only, no attributes)."""
    month = Month.of(o.confirmed_at, tz)
    as_of = _utc_text(o.confirmed_at) if sign > 0 else ""
    revenue = sum(line.revenue for line in o.lines)
    cost = sum(line.cost for line in o.lines)
    total = Figures(revenue=sign * revenue, cost=sign * cost, orders=sign)
    out: DocChanges = [
        *buckets(CUSTOMER, o.currency, month,
                 Change(o.customer_id, total, o.owner_id if sign > 0 else "", o.team_id if sign > 0 else "",
                        o.region if sign > 0 else "", as_of=as_of)),
        (series_id(o.currency, o.customer_id), Change(series_key(o.customer_id, month), total)),
    ]
    if o.owner_id:
        out += buckets(REP, o.currency, month, Change(o.owner_id, total, team_id=o.team_id if sign > 0 else "",
                                                      as_of=as_of))
    by_product: dict[str, list] = {}
    for line in o.lines:
        part = by_product.setdefault(line.product_id, [0, 0, line.margin_grade])
        part[0] += line.revenue
        part[1] += line.cost
        part[2] = line.margin_grade or part[2]
    for product_id in sorted(by_product):
        revenue, cost, grade = by_product[product_id]
        out += buckets(PRODUCT, o.currency, month,
                       Change(product_id, Figures(revenue=sign * revenue, cost=sign * cost, orders=sign),
                              margin_grade=grade if sign > 0 else "", as_of=as_of))
    return out


def amendment_changes(before: OrderFacts, after: OrderFacts, tz: tzinfo) -> DocChanges:
    return order_changes(before, tz, -1) + order_changes(after, tz, 1)


def cash_changes(customer_id: str, owner_id: str, currency: str, amount: int, on: date) -> DocChanges:
    """`amount` collected (negative: paid back) on the business day `on`: a receipt's date is a calendar
    day already, so its month is that day's, in whatever zone the business keeps."""
    month = Month.of_date(on)
    cash = Figures(cash=amount)
    out: DocChanges = [*buckets(CUSTOMER, currency, month, Change(customer_id, cash)),
                       (series_id(currency, customer_id), Change(series_key(customer_id, month), cash))]
    if owner_id:
        out += buckets(REP, currency, month, Change(owner_id, cash))
    return out


def expense_changes(owner_id: str, customer_id: str, currency: str, amount: int, spent_on: date) -> DocChanges:
    month = Month.of_date(spent_on)
    spent = Figures(expenses=amount)
    out: DocChanges = []
    if owner_id:
        out += buckets(REP, currency, month, Change(owner_id, spent))
    if customer_id:
        out += buckets(CUSTOMER, currency, month, Change(customer_id, spent))
        out.append((series_id(currency, customer_id), Change(series_key(customer_id, month), spent)))
    return out
