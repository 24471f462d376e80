"""Commission rules with integers only: rates by margin grade, the base,
pro rata earning with cumulative rounding, clawback, bands, plan choice,
statements and the close."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from crm_kit.errors import InvalidArgument
from crm_sales.products.model import DEFAULT_GRADES, parse_grade_bands
from crm_sales.profitability.commission import model
from crm_sales.profitability.commission.model import (
    Assignment, Band, CommissionPlan, LineFigures, Movement, OrderLedger, Setup, Statement, band_bonus, earn,
    pricing_of)
from crm_sales.profitability.months import Month

GRADES = parse_grade_bands(DEFAULT_GRADES)
MARCH, APRIL = Month(2026, 3), Month(2026, 4)
PLAN = CommissionPlan("std", "Standard", "margin", "CNY", (("A", 1000), ("B", 600), ("C", 300), ("D", 0)))


def receipt(n: int, amount: int, month: Month = MARCH) -> Movement:
    return Movement(f"evt_r{n}", "receipt", "ord_1", f"rct_{n}", "", amount, month)


def refund(n: int, amount: int, month: Month = MARCH, void: bool = False) -> Movement:
    return Movement(f"evt_f{n}", "void" if void else "refund", "ord_1", "rct_1", f"rfd_{n}", -amount, month)


LINES = [LineFigures("ln1", "prd_a", "A", 10_000, 5_000),   # margin 5,000 at 10 %
         LineFigures("ln2", "prd_d", "D", 3_333, 3_300)]    # margin 33 at 0 %
TOTAL = 13_333


def run(movements, lines=LINES, total=TOTAL, plan=PLAN):
    ledger, out = OrderLedger("ord_1", "rep-1", "team-1", "CNY"), []
    for movement in movements:
        ledger, made = earn(ledger, movement, lines, total, pricing_of(plan))
        out.extend(made)
    return ledger, out


def test_the_line_grade_is_the_products_grade_from_price_and_unit_cost():
    assert model.line_grade(10_000, 5_000, GRADES) == "A"   # 50 %
    assert model.line_grade(10_000, 7_000, GRADES) == "B"   # 30 %
    assert model.line_grade(10_000, 9_500, GRADES) == "D"   # 5 %
    assert model.line_grade(10_000, 12_000, GRADES) == "D"  # a loss: the last grade
    assert model.line_grade(0, 0, GRADES) == "D"


def test_a_fully_paid_order_earns_each_lines_full_commission_at_once():
    _ledger, lines = run([receipt(1, TOTAL)])
    assert [(x.line_id, x.grade, x.base, x.rate_bp, x.amount) for x in lines] == [("ln1", "A", 5_000, 1000, 500),
                                                                                   ("ln2", "D", 33, 0, 0)]


def test_the_revenue_base_uses_the_line_total():
    plan = CommissionPlan("rev", "On revenue", "revenue", "CNY", (("A", 100), ("D", 100)))
    _ledger, lines = run([receipt(1, TOTAL)], plan=plan)
    assert [(x.base, x.amount) for x in lines] == [(10_000, 100), (3_333, 33)]


def test_a_line_sold_at_a_loss_earns_no_commission_on_margin():
    _ledger, lines = run([receipt(1, 100)], lines=[LineFigures("ln1", "p", "A", 100, 150)], total=100)
    assert lines == []


def test_partial_receipts_earn_pro_rata_and_add_up_to_the_full_commission():
    plan = CommissionPlan("odd", "Odd", "margin", "CNY", (("A", 777),))
    lines = [LineFigures("ln1", "p", "A", 1_001, 0)]
    _ledger, made = run([receipt(1, 333), receipt(2, 333), receipt(3, 335)], lines=lines, total=1_001, plan=plan)
    # floor(1001*777/10000) = 77 in the end, each receipt the difference of the floors to date
    assert [x.amount for x in made] == [25, 26, 26]
    assert sum(x.amount for x in made) == 1_001 * 777 // 10_000
    assert sum(x.base for x in made) == 1_001


def test_a_refund_claws_back_its_share_and_a_void_everything():
    ledger, made = run([receipt(1, TOTAL), refund(1, TOTAL // 2)])
    assert [(x.line_id, x.base, x.amount) for x in made if x.kind == "refund"] == [("ln1", -2_500, -250),
                                                                                   ("ln2", -17, 0)]
    ledger, made = run([receipt(1, TOTAL), refund(1, TOTAL, void=True)])
    assert sum(x.amount for x in made) == 0 and sum(x.base for x in made) == 0 and ledger.earned == {}
    assert [x.kind for x in made if x.amount] == ["receipt", "void"]


def test_an_overpayment_earns_nothing_more_and_an_event_applies_once():
    ledger, made = run([receipt(1, TOTAL), receipt(2, 500)])
    assert sum(x.amount for x in made) == 500
    again, repeat = earn(ledger, receipt(2, 500), LINES, TOTAL, pricing_of(PLAN))
    assert again == ledger and repeat == ledger.applied["evt_r2"]


def test_an_order_keeps_the_rates_of_its_first_priced_receipt():
    better = CommissionPlan("std", "Standard", "margin", "CNY", (("A", 2000),))
    ledger, _ = run([receipt(1, TOTAL // 2)])
    ledger, made = earn(ledger, receipt(2, TOTAL - TOTAL // 2), LINES, TOTAL, pricing_of(better))
    assert sum(x.amount for x in ledger.applied["evt_r1"]) + sum(x.amount for x in made) == 500


def test_a_line_removed_by_an_amendment_is_clawed_back():
    ledger, _ = run([receipt(1, TOTAL)])
    amended = [LineFigures("ln2", "prd_d", "D", 3_333, 3_300)]
    _ledger, made = earn(ledger, receipt(2, 0), amended, 3_333, None)
    assert [(x.line_id, x.amount, x.base) for x in made] == [("ln1", -500, -5_000)]


def test_band_bonus_pays_each_slice_above_its_bound():
    bands = (Band(100_000, 100), Band(200_000, 300))
    assert band_bonus(100_000, bands) == 0
    assert band_bonus(150_000, bands) == 500                  # 50,000 x 1 %
    assert band_bonus(250_000, bands) == 1_000 + 1_500        # 100,000 x 1 % + 50,000 x 3 %
    assert band_bonus(-5, bands) == 0


def test_the_reps_plan_wins_over_the_teams_and_the_default_from_its_month():
    team = CommissionPlan("team", "Team", "margin", "CNY", (("A", 1),))
    rep = CommissionPlan("rep", "Rep", "margin", "CNY", (("A", 2),))
    setup = Setup((PLAN, team, rep), (Assignment("*", "std", Month(2026, 1)),
                                      Assignment("team:t1", "team", MARCH),
                                      Assignment("rep:r1", "rep", APRIL)))
    assert setup.plan_for("r1", "t1", Month(2026, 2)).id == "std"
    assert setup.plan_for("r1", "t1", MARCH).id == "team"
    assert setup.plan_for("r1", "t1", APRIL).id == "rep"
    assert setup.plan_for("r2", "t2", APRIL).id == "std"
    assert Setup((PLAN,), ()).plan_for("r1", "t1", APRIL) is None


def test_plans_are_validated_naming_the_field():
    with pytest.raises(InvalidArgument) as err:
        model.validate_plan(CommissionPlan("Bad Id", "", "profit", "EUR1", (("Z", 20_000),),
                                           (Band(10, 1), Band(5, 1))), GRADES)
    fields = {v.field for v in err.value.violations}
    assert {"plan.id", "plan.name", "plan.base", "plan.currency_code", "plan.rates[0].grade",
            "plan.rates[0].rate_bp", "plan.bands[1].above"} <= fields


def test_a_closed_statement_freezes_its_bonus_and_takes_no_lines():
    plan = CommissionPlan("b", "Banded", "margin", "CNY", (("A", 1000),), (Band(1_000, 500),))
    _ledger, lines = run([receipt(1, TOTAL)], plan=plan)
    statement = model.post(Statement("rep-1", MARCH), tuple(lines), "team-1")
    assert statement.bonus_under(plan) == {"CNY": (5_033 - 1_000) * 500 // 10_000}
    closed = model.close(statement, plan)
    assert closed.closed and closed.bonus_under(None) == statement.bonus_under(plan)
    assert closed.totals(closed.bonus) == {"CNY": 500 + 201}
    with pytest.raises(ValueError):
        model.post(closed, tuple(lines), "team-1")


amounts = st.integers(min_value=0, max_value=10**9)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.tuples(st.sampled_from("ABCD"), amounts, amounts), min_size=1, max_size=6),
       rates=st.tuples(*[st.integers(0, 10_000)] * 4),
       steps=st.lists(st.tuples(st.booleans(), st.integers(1, 10**9)), max_size=12),
       base=st.sampled_from(model.BASES),
       bands=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 2_000)), max_size=3))
def test_a_months_commission_lines_sum_to_its_statement(lines, rates, steps, base, bands):
    """Whatever the receipts and refunds: the statement's total is its lines
    plus the bonus; never more than the full commission nor less than zero;
    when the cash to date is the order total, exactly the full commission."""
    figures = [LineFigures(f"ln{i + 1}", f"p{i}", g, rev, cost) for i, (g, rev, cost) in enumerate(lines)]
    total = sum(f.revenue for f in figures)
    bands = tuple(Band(a, x) for a, x in sorted(dict(bands).items()))
    plan = CommissionPlan("p", "P", base, "CNY", tuple(zip("ABCD", rates)), bands)
    ledger, statement, paid = OrderLedger("ord_1", "rep-1", "t", "CNY"), Statement("rep-1", MARCH), 0
    for n, (is_receipt, amount) in enumerate(steps):
        amount = amount if is_receipt else min(amount, max(paid, 0))
        paid += amount if is_receipt else -amount
        movement = receipt(n, amount) if is_receipt else refund(n, amount)
        ledger, made = earn(ledger, movement, figures, total, pricing_of(plan))
        statement = model.post(statement, made, "t")
    full = sum(f.base(base) * plan.rate_of(f.grade) // 10_000 for f in figures)
    earned = statement.line_totals().get("CNY", 0)
    assert 0 <= earned <= full
    if total and min(max(paid, 0), total) == total:
        assert earned == full
    if paid <= 0:
        assert earned == 0
    bonus = statement.bonus_under(plan)
    assert statement.totals(bonus).get("CNY", 0) == sum(x.amount for x in statement.lines) + bonus.get("CNY", 0)
    assert model.close(statement, plan).totals(model.close(statement, plan).bonus) == statement.totals(bonus)


def test_a_line_for_a_closed_month_lands_in_the_first_open_one_after_it():
    closed = {MARCH, APRIL}
    assert model.posting_month(MARCH, closed) == Month(2026, 5)
    assert model.posting_month(Month(2026, 2), closed) == Month(2026, 2)
    assert model.posting_month(APRIL, lambda m: m < Month(2027, 1)) == Month(2027, 1)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 2), st.booleans(), st.integers(1, 50_000), st.integers(0, 5),
                                st.booleans()), min_size=1, max_size=25))
def test_the_statements_of_every_month_hold_exactly_what_the_orders_earned(steps):
    """Receipts and refunds on three orders over six months, months closed
    along the way: no closed statement changes after its close, every line
    lands in its month or a later open one, and the statements together hold
    exactly the commission the order ledgers earned."""
    orders = {n: [LineFigures("ln1", "p", "ABD"[n], 40_000 + n, 10_000 * n)] for n in range(3)}
    plan = CommissionPlan("p", "P", "margin", "CNY", (("A", 1000), ("B", 500), ("D", 50)), (Band(1_000, 300),))
    ledgers = {n: OrderLedger(f"ord_{n}", "rep-1", "t", "CNY") for n in orders}
    paid = {n: 0 for n in orders}
    statements: dict[Month, Statement] = {}
    closed: dict[Month, Statement] = {}
    for i, (n, is_receipt, amount, month_offset, close_after) in enumerate(steps):
        month = Month(2026, 1).plus(month_offset)
        amount = amount if is_receipt else min(amount, paid[n])
        paid[n] += amount if is_receipt else -amount
        movement = Movement(f"evt_{i}", "receipt" if is_receipt else "refund", f"ord_{n}", "r", "", 
                            amount if is_receipt else -amount, month)
        ledgers[n], made = earn(ledgers[n], movement, orders[n], orders[n][0].revenue, pricing_of(plan))
        target = model.posting_month(month, closed)
        assert target >= month and target not in closed
        statements[target] = model.post(statements.get(target, Statement("rep-1", target)), made, "t")
        if close_after:
            statements[month] = model.close(statements.get(month, Statement("rep-1", month)), plan)
            closed.setdefault(month, statements[month])
    for month, frozen in closed.items():
        assert statements[month] == frozen  # never changed after its close
    earned = sum(e.commission for ledger in ledgers.values() for e in ledger.earned.values())
    assert sum(s.line_totals().get("CNY", 0) for s in statements.values()) == earned
