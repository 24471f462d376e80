"""Order rules, pure: pricing, totals, amendments and the delivery state."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from crm_kit.errors import FailedPrecondition, InvalidArgument
from crm_kit.money import Money
from crm_sales.orders import model as rules
from crm_sales.orders.model import Delivery, LineInput, Order, PricedProduct, Shipment

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def product(n: int, price: int = 1000, cost: int = 400, code: str = "CNY") -> PricedProduct:
    return PricedProduct(f"prd_{n}", f"SKU-{n}", f"P{n}", "pcs", Money(price, code), Money(cost, code))


def order(lines=()) -> Order:
    return Order("ord_1", "SO-2026-000001", "cus_1", "rep-a", "team-1", rules.DRAFT,
                 lines[0].unit_price.currency_code if lines else "", tuple(lines), Delivery(), "rep-a", NOW, NOW,
                 next_line=len(lines) + 1)


def priced(inputs, products, kept=None, currency=""):
    return rules.price_lines(inputs, products, kept or {}, 1, currency)[0]


def test_the_order_number_has_a_year_and_six_digits():
    assert rules.order_number(2026, 123) == "SO-2026-000123"
    assert rules.order_number(2026, 1_234_567) == "SO-2026-1234567"


line_specs = st.lists(st.tuples(st.integers(1, 1000), st.integers(0, 10**6), st.integers(0, 10**6),
                                st.integers(0, 100)), min_size=1, max_size=20)


@given(line_specs)
def test_totals_are_the_sums_of_the_lines_and_never_negative(specs):
    inputs, products = [], []
    for i, (quantity, price, cost, discount_pct) in enumerate(specs):
        discount = price * quantity * discount_pct // 100
        inputs.append(LineInput("", f"prd_{i}", quantity, None, Money(discount, "CNY")))
        products.append(product(i, price, cost))
    o = order(priced(inputs, products))
    assert o.total.minor_units == sum(p * q - p * q * d // 100 for q, p, _c, d in specs)
    assert o.cost_total.minor_units == sum(c * q for q, _p, c, _d in specs)
    assert o.total.minor_units + o.discount_total.minor_units == sum(p * q for q, p, _c, _d in specs)
    assert all(line.total.minor_units >= 0 for line in o.lines)


def test_a_discount_above_the_line_price_and_mixed_currencies_are_refused():
    with pytest.raises(InvalidArgument) as err:
        priced([LineInput("", "a", 2, None, Money(2001, "CNY"))], [product(1)])
    assert [v.field for v in err.value.violations] == ["lines[0].discount"]
    with pytest.raises(InvalidArgument) as err:
        priced([LineInput("", "a", 1, None, None), LineInput("", "b", 1, None, None)],
               [product(1), product(2, code="USD")])
    assert [v.field for v in err.value.violations] == ["lines[1]"]


def test_a_kept_line_keeps_its_cost_and_price_when_amended():
    (first,) = priced([LineInput("", "a", 2, None, None)], [product(1, 1000, 400)])
    confirmed = rules.confirm(order([first]), "rep-a", "team-1", NOW)
    lines, next_line = rules.price_lines([LineInput(first.line_id, "", 5, None, None),
                                          LineInput("", "b", 1, None, None)],
                                         [None, product(1, 1000, 700)], {first.line_id: first}, 2, "CNY")
    amended = rules.amend(confirmed, lines, next_line, "boss", "more", NOW)
    assert [line.unit_cost.minor_units for line in amended.lines] == [400, 700]
    (record,) = amended.amendments
    assert (record.previous_total.minor_units, record.total.minor_units) == (2000, 6000)
    assert [(c.kind, c.previous_quantity, c.quantity) for c in record.changes] == [("changed", 2, 5), ("added", 0, 1)]


def test_delivery_state_is_derived_from_the_lines():
    a, b = priced([LineInput("", "a", 2, None, None), LineInput("", "b", 1, None, None)], [product(1), product(2)])
    o = rules.confirm(order([a, b]), "rep-a", "team-1", NOW)
    o = rules.ship(o, [Shipment(a.line_id, 1, "SF", "")], NOW, NOW)
    assert o.state == rules.PARTIALLY_DELIVERED
    with pytest.raises(InvalidArgument):
        rules.ship(o, [Shipment(a.line_id, 2, "SF", "")], NOW, NOW)  # one remains
    o = rules.ship(o, [Shipment(a.line_id, 1, "SF", ""), Shipment(b.line_id, 1, "EMS", "E1")], NOW, NOW)
    later = NOW + timedelta(days=2)
    o = rules.deliver(o, [a.line_id, b.line_id], later, later)
    assert o.state == rules.DELIVERED and o.delivered_at == later
    with pytest.raises(FailedPrecondition):
        rules.cancel(o, "", later)
    assert rules.close(o, later).state == rules.CLOSED


def test_erasure_keeps_the_money_and_drops_the_personal_data():
    (a,) = priced([LineInput("", "a", 1, None, None)], [product(1)])
    o = rules.cancel(replace(order([a]), delivery=Delivery("王五", "+86", "上海")), "王五 changed his mind", NOW)
    erased = rules.erase_personal_data(o, NOW)
    assert erased.delivery == Delivery() and erased.cancel_reason == "" and not rules.has_personal_data(erased)
    assert erased.total == o.total and erased.lines == o.lines


# --- imports of historical orders ---------------------------------------------------------

def test_an_order_date_is_required_in_the_past_and_not_before_2000():
    skew = timedelta(minutes=5)
    assert rules.validate_ordered_at(NOW - timedelta(days=365), NOW, skew) == NOW - timedelta(days=365)
    assert rules.validate_ordered_at(NOW + timedelta(minutes=1), NOW, skew)  # the caller's clock a little ahead
    for at, says in ((None, "is required"), (NOW + timedelta(hours=1), "future"),
                     (datetime(1999, 12, 31, 23, 59, tzinfo=timezone.utc), "2000-01-01")):
        with pytest.raises(InvalidArgument) as err:
            rules.validate_ordered_at(at, NOW, skew)
        assert err.value.violations[0].field == "ordered_at" and says in err.value.violations[0].description


def test_an_imported_order_is_confirmed_as_of_its_order_date():
    lines = priced([LineInput("", "prd_1", 2, None, None)], [product(1)])
    ordered = NOW - timedelta(days=100)
    o = rules.imported("ord_9", "cus_1", "rep-a", "team-1", lines, 2, Delivery(), "erp", ordered, NOW, "import:k")
    assert (o.state, o.confirmed_at, o.created_at, o.updated_at) == (rules.CONFIRMED, ordered, ordered, NOW)
    assert o.total == Money(2000, "CNY") and o.currency_code == "CNY"
    with pytest.raises(InvalidArgument):
        rules.imported("ord_9", "cus_1", "rep-a", "team-1", (), 1, Delivery(), "erp", ordered, NOW, "import:k")
