"""Expense rules with integer money: validation naming the field, edits
only while pending, a decision taken once, a rejection's reason."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_kit.errors import FailedPrecondition, InvalidArgument
from crm_kit.money import Money
from crm_kit.settings import SettingsError
from crm_sales.profitability.expenses import model
from crm_sales.profitability.expenses.model import ExpenseDraft

TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 8, tzinfo=dt.timezone.utc)
CATEGORIES = model.parse_categories(model.DEFAULT_CATEGORIES)


def draft(**kw) -> ExpenseDraft:
    return ExpenseDraft(**{"category": "travel", "amount": Money(12_300, "CNY"), "spent_on": TODAY, **kw})


def pending() -> model.Expense:
    return model.new_expense("exp_1", model.validate_draft(draft(), CATEGORIES, TODAY), "rep-1", "t1", "", NOW)


def fields_of(err) -> set[str]:
    return {v.field for v in err.value.violations}


def test_categories_come_from_the_setting_and_are_checked():
    assert CATEGORIES == ("travel", "entertainment", "gift", "sample", "other")
    assert model.parse_categories(" travel , meals ") == ("travel", "meals")
    for bad in ("", "Travel", "a,a", "x y"):
        with pytest.raises(SettingsError):
            model.parse_categories(bad)


def test_every_bad_field_is_named_at_once():
    with pytest.raises(InvalidArgument) as err:
        model.validate_draft(draft(category="yacht", amount=Money(0, "CNY"), spent_on=TODAY + dt.timedelta(days=1),
                                   receipt_reference="x" * 121, customer_id="cus_1", opportunity_id="opp_1"),
                             CATEGORIES, TODAY)
    assert fields_of(err) == {"category", "amount.minor_units", "spent_on", "receipt_reference", "opportunity_id"}
    with pytest.raises(InvalidArgument) as err:
        model.validate_draft(draft(amount=Money(-1, "XXX"), spent_on=None), CATEGORIES, TODAY)
    assert {"amount.minor_units", "amount.currency_code", "spent_on"} <= fields_of(err)


def test_text_is_trimmed_and_a_day_long_ago_is_refused():
    cleaned = model.validate_draft(draft(receipt_reference="  FP-1  ", description=" 拜访客户\n午餐 "), CATEGORIES, TODAY)
    assert (cleaned.receipt_reference, cleaned.description) == ("FP-1", "拜访客户\n午餐")
    with pytest.raises(InvalidArgument):
        model.validate_draft(draft(spent_on=dt.date(1999, 12, 31)), CATEGORIES, TODAY)


def test_a_pending_expense_is_edited_then_decided_once():
    expense = pending()
    edited = model.edited(expense, draft(category="gift", amount=Money(5_000, "CNY")), "cus_9", NOW)
    assert (edited.category, edited.amount, edited.customer_id, edited.state) == ("gift", Money(5_000, "CNY"),
                                                                                  "cus_9", "pending")
    approved = model.decided(edited, True, "", "boss", NOW)
    assert (approved.state, approved.decided_by, approved.decided_at) == ("approved", "boss", NOW)
    with pytest.raises(FailedPrecondition):
        model.decided(approved, False, "too late", "boss", NOW)
    with pytest.raises(FailedPrecondition):
        model.edited(approved, draft(), "", NOW)


def test_a_rejection_needs_its_reason():
    with pytest.raises(InvalidArgument) as err:
        model.decided(pending(), False, "  ", "boss", NOW)
    assert fields_of(err) == {"reason"}
    rejected = model.decided(pending(), False, "没有发票", "boss", NOW)
    assert (rejected.state, rejected.reason) == ("rejected", "没有发票")


def test_today_is_the_business_days_not_utcs():
    """At 04:00 in Shanghai it is still yesterday in UTC: an expense spent that morning is spent today."""
    from zoneinfo import ZoneInfo

    from crm_sales.profitability.expenses.service import ExpenseService

    evening_utc = dt.datetime(2026, 12, 2, 20, 0, tzinfo=dt.timezone.utc)
    service = ExpenseService(None, None, {}, CATEGORIES, ZoneInfo("Asia/Shanghai"), now=lambda: evening_utc)
    assert service.today() == dt.date(2026, 12, 3)
    model.validate_draft(draft(spent_on=dt.date(2026, 12, 3)), CATEGORIES, service.today())
