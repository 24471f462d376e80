"""Roll-up rules with money as integers: months in the business time zone,
contribution rates in ppm, what an order, an amendment, a cancellation, a
receipt, a refund and an expense change, and the stored rows read back."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from hypothesis import given, strategies as st

from crm_kit.errors import InvalidArgument
from crm_sales.profitability.months import Month, business_zone, covering, months_between
from crm_sales.profitability.rollups.changes import (
    LineFacts, OrderFacts, amendment_changes, cash_changes, expense_changes, order_changes)
from crm_sales.profitability.rollups.model import Figures, change_ppm, ppm_text, rate_ppm
from crm_sales.profitability.rollups.store import Row, apply_change, merge_text, rows_from, rows_text

SHANGHAI = business_zone("Asia/Shanghai")


def test_a_timestamp_counts_in_its_month_in_the_business_time_zone():
    assert Month.of(datetime(2026, 3, 31, 15, 59, tzinfo=timezone.utc), SHANGHAI) == Month(2026, 3)
    assert Month.of(datetime(2026, 3, 31, 16, 0, tzinfo=timezone.utc), SHANGHAI) == Month(2026, 4)


def test_months_parse_order_and_step():
    assert Month.parse("2026-03") == Month(2026, 3) and str(Month(2026, 3)) == "2026-03"
    assert Month(2025, 12).next() == Month(2026, 1) and Month(2026, 1).prev() == Month(2025, 12)
    assert Month(2026, 2).year_earlier() == Month(2025, 2) and Month(2025, 12) < Month(2026, 1)
    assert months_between(Month(2025, 11), Month(2026, 2)) == [Month(2025, 11), Month(2025, 12), Month(2026, 1),
                                                             Month(2026, 2)]
    assert months_between(Month(2026, 2), Month(2026, 1)) == []
    assert Month(2026, 3).quarter == "2026-Q1" and Month(2026, 10).quarter == "2026-Q4"
    assert covering(Month(2026, 1), Month(2026, 12)) == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert covering(Month(2025, 12), Month(2026, 11)) == ["2025-12", "2026-Q1", "2026-Q2", "2026-Q3", "2026-10",
                                                          "2026-11"]
    assert covering(Month(2026, 2), Month(2026, 3)) == ["2026-02", "2026-03"]
    for bad in ("2026-13", "2026-3", "26-03", "1999-12", "2026-03-01", "", "２０２６-03"):
        with pytest.raises(InvalidArgument):
            Month.parse(bad)


def test_rates_are_integer_ppm_rounded_half_away_from_zero():
    assert rate_ppm(1, 3) == 333_333 and rate_ppm(2, 3) == 666_667 and rate_ppm(-2, 3) == -666_667
    assert rate_ppm(1, 2_000_000) == 1 and rate_ppm(1, 2_000_001) == 0  # half a ppm rounds up, less does not
    assert rate_ppm(5, 0) == 0
    assert ppm_text(750_000) == "0.750000" and ppm_text(-1_500_000) == "-1.500000" and ppm_text(7) == "0.000007"
    assert change_ppm(30, 10) == 2_000_000 and change_ppm(-10, 10) == -2_000_000 and change_ppm(5, 0) is None
    assert change_ppm(5, -10) == 1_500_000  # from a loss of 10 to a margin of 5: up by 150 % of the loss


@given(st.lists(st.integers(-10**15, 10**15), min_size=1, max_size=30))
def test_rates_of_a_period_add_up_to_the_whole_within_rounding(margins):
    total = sum(margins)
    if total == 0:
        return
    rates = [rate_ppm(m, total) for m in margins]
    assert abs(sum(rates) - 1_000_000) <= len(margins)


def _order(lines, at=datetime(2026, 3, 10, 2, tzinfo=timezone.utc), owner="rep-a"):
    return OrderFacts("cus_a", owner, "team-1", "浙江", "CNY", at, tuple(LineFacts(*line) for line in lines))


def _apply(changes) -> dict[str, dict[str, Row]]:
    docs: dict[str, dict[str, Row]] = {}
    for doc_id, change in changes:
        apply_change(docs.setdefault(doc_id, {}), change)
    return docs


def _figures(docs) -> dict:
    """{(dimension, key): figures} of the month buckets and series (quarter buckets checked apart)."""
    return {(doc_id.split("|")[1], key): row.figures for doc_id, rows in docs.items() for key, row in rows.items()
            if "-Q" not in doc_id}


def test_an_order_counts_per_customer_product_rep_and_series():
    order = _order([("prd_1", "A", 1000, 400), ("prd_2", "C", 500, 450), ("prd_1", "A", 300, 100)])
    got = _figures(_apply(order_changes(order, SHANGHAI)))
    assert got[("customer", "cus_a")] == Figures(revenue=1800, cost=950, orders=1)
    assert got[("rep", "rep-a")] == Figures(revenue=1800, cost=950, orders=1)
    assert got[("product", "prd_1")] == Figures(revenue=1300, cost=500, orders=1)  # one order holding it
    assert got[("product", "prd_2")] == Figures(revenue=500, cost=450, orders=1)
    assert got[("customer", "cus_a|2026-03")] == Figures(revenue=1800, cost=950, orders=1)  # the series, by month
    assert got[("customer", "cus_a")].margin == 850
    quarter = {key: row.figures for doc_id, rows in _apply(order_changes(order, SHANGHAI)).items()
               if "|2026-Q1|" in doc_id for key, row in rows.items()}
    assert quarter == {"cus_a": got[("customer", "cus_a")], "rep-a": got[("rep", "rep-a")],
                       "prd_1": got[("product", "prd_1")], "prd_2": got[("product", "prd_2")]}


def test_an_amendment_changes_by_the_difference_and_a_cancellation_takes_all_back():
    before = _order([("prd_1", "A", 1000, 400), ("prd_2", "C", 500, 450)])
    after = _order([("prd_1", "A", 3000, 1200), ("prd_3", "B", 200, 100)])
    docs = _apply(order_changes(before, SHANGHAI) + amendment_changes(before, after, SHANGHAI))
    got = _figures(docs)
    assert got[("customer", "cus_a")] == Figures(revenue=3200, cost=1300, orders=1)
    assert got[("product", "prd_2")] == Figures()  # removed: nothing left, not even the order
    assert got[("product", "prd_3")] == Figures(revenue=200, cost=100, orders=1)
    for doc_id, change in order_changes(after, SHANGHAI, -1):
        apply_change(docs.setdefault(doc_id, {}), change)
    assert all(f == Figures() for f in _figures(docs).values())


def test_cash_counts_when_money_moves_and_expenses_when_spent():
    got = _figures(_apply(cash_changes("cus_a", "rep-a", "CNY", 700, date(2026, 2, 27))
                          + cash_changes("cus_a", "rep-a", "CNY", -200, date(2026, 3, 2))
                          + expense_changes("rep-a", "cus_a", "CNY", 150, date(2026, 3, 31))
                          + expense_changes("rep-b", "", "CNY", 90, date(2026, 3, 1))))
    assert got[("customer", "cus_a|2026-02")] == Figures(cash=700)
    assert got[("customer", "cus_a|2026-03")] == Figures(cash=-200, expenses=150)
    assert got[("rep", "rep-b")] == Figures(expenses=90)
    assert Figures(revenue=1000, cost=600, expenses=150).net == 250


def test_the_latest_order_gives_the_attributes_and_rows_read_back_exactly():
    docs = _apply(order_changes(_order([("prd_1", "A", 10, 5)], datetime(2026, 3, 20, tzinfo=timezone.utc), "rep-b"),
                                SHANGHAI)
                  + order_changes(_order([("prd_1", "A", 10, 5)], datetime(2026, 3, 1, tzinfo=timezone.utc), "rep-a"),
                                  SHANGHAI))
    bucket = next(rows for doc_id, rows in docs.items() if doc_id.startswith("b|customer"))
    assert bucket["cus_a"].owner_id == "rep-b"  # applied first, but the later order
    assert rows_from(rows_text(bucket)) == bucket
    totals: dict[str, list] = {}
    merge_text(totals, rows_text(bucket))
    merge_text(totals, rows_text(bucket))
    assert totals["cus_a"][:5] == [40, 20, 0, 4, 0] and totals["cus_a"][5] == "rep-b"


line_facts = st.builds(LineFacts, st.sampled_from(["prd_1", "prd_2", "prd_3"]), st.sampled_from(["A", "B", ""]),
                       st.integers(0, 10**9), st.integers(0, 10**9))
steps = st.lists(st.tuples(st.sampled_from(["amend", "cancel", "receipt", "refund"]),
                           st.lists(line_facts, min_size=1, max_size=4), st.integers(1, 10**6),
                           st.dates(date(2025, 1, 1), date(2026, 12, 31))), max_size=12)


@given(st.lists(st.tuples(st.lists(line_facts, min_size=1, max_size=4),
                          st.datetimes(datetime(2025, 1, 1), datetime(2026, 12, 31)), steps), min_size=1,
                max_size=5))
def test_events_applied_one_by_one_equal_the_rebuild_from_the_final_state(histories):
    """Any history of confirmations, amendments, cancellations, receipts and
    refunds: applying each event's changes gives exactly the figures the
    rebuild computes from what is left (live orders' lines, every money move)."""
    incremental: list = []
    final: list = []
    for n, (lines, confirmed_at, history) in enumerate(histories):
        order = OrderFacts(f"cus_{n % 2}", f"rep-{n % 3}", "team-1", "浙江", "CNY",
                           confirmed_at.replace(tzinfo=timezone.utc), tuple(lines))
        incremental += order_changes(order, SHANGHAI)
        live = True
        for kind, new_lines, amount, on in history:
            if kind == "amend" and live:
                amended = OrderFacts(*[getattr(order, f) for f in ("customer_id", "owner_id", "team_id", "region",
                                                                   "currency", "confirmed_at")], tuple(new_lines))
                incremental += amendment_changes(order, amended, SHANGHAI)
                order = amended
            elif kind == "cancel" and live:
                incremental += order_changes(order, SHANGHAI, -1)
                live = False
            elif kind in ("receipt", "refund"):
                money = cash_changes(order.customer_id, order.owner_id, "CNY", amount if kind == "receipt" else -amount,
                                     on)
                incremental += money
                final += money
        if live:
            final += order_changes(order, SHANGHAI)

    def figures(changes):
        return {(doc_id, key): row.figures for doc_id, rows in _apply(changes).items()
                for key, row in rows.items() if not row.figures.is_zero}

    assert figures(incremental) == figures(final)


def test_a_receipt_counts_in_the_month_of_its_date_in_any_zone():
    """Payments publish a receipt's date as noon UTC of it. Read back through a zone from UTC+12 on, that
    is the next day: a receipt of 31 March in Auckland counted in April. Its date is its month."""
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from crm_sales.payments import events as payment_events
    from crm_sales.profitability.rollups.events import changes_of

    plan = SimpleNamespace(kind="order", debt_id="ord_1", customer_id="cus_a", owner_id="rep-a", team_id="t1",
                           currency="NZD")
    receipt = SimpleNamespace(id="rcp_1", amount=500, method="bank_transfer", received_on=date(2026, 3, 31))
    refund = SimpleNamespace(id="rfd_1", amount=200, void=False, refunded_on=date(2026, 12, 31))
    auckland = ZoneInfo("Pacific/Auckland")
    got = _figures(_apply(changes_of(payment_events.received(plan, receipt), auckland)
                          + changes_of(payment_events.refunded(plan, receipt, refund), auckland)))
    assert got[("customer", "cus_a|2026-03")] == Figures(cash=500)
    assert got[("customer", "cus_a|2026-12")] == Figures(cash=-200)  # not next year's
    assert ("customer", "cus_a|2026-04") not in got and ("customer", "cus_a|2027-01") not in got
