"""Contract terms as pure rules: renewal dates, the derived `ended` state
and who gets reminded when (crm_sales.contracts.model)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from crm_kit.money import Money
from crm_sales.contracts import model as rules
from crm_sales.contracts.model import Contract, RenewalTerms

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def contract(start=dt.date(2026, 1, 31), end=dt.date(2027, 1, 30), state="signed", **renewal) -> Contract:
    return Contract(id="con_aaaaaaaaaaaaaaaaaaaaaaaa", customer_id="cus_x", owner_id="rep-a", team_id="t", title="t",
                    start=start, end=end, value=Money(100, "CNY"), order_ids=(), renewal=RenewalTerms(**renewal),
                    state=state, created_at=NOW, created_by="rep-a")


def test_a_month_on_from_the_31st_is_the_last_day_of_a_shorter_month():
    assert rules.add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert rules.add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert rules.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


@given(st.dates(dt.date(2001, 1, 1), dt.date(2150, 12, 31)), st.integers(1, 120))
def test_a_renewed_term_starts_the_day_after_the_old_one_and_covers_today(end, months):
    today = end + dt.timedelta(days=400)
    renewed = rules.renewed(contract(start=end - dt.timedelta(days=30), end=end, auto_renew=True,
                                     renewal_months=months), today)
    assert renewed is not None and renewed.start <= today <= renewed.end
    assert renewed.end == rules.add_months(renewed.start, months) - dt.timedelta(days=1)
    assert renewed.renewal_count >= 1
    assert rules.renewed(renewed, today) is None  # once renewed, a second run changes nothing


def test_a_signed_contract_past_its_end_is_ended_unless_it_renews():
    past = dt.date(2027, 2, 1)
    assert contract().state_on(past) == "ended"
    assert contract(auto_renew=True, renewal_months=12).state_on(past) == "signed"
    assert contract(state="draft").state_on(past) == "draft"
    assert contract().state_on(dt.date(2027, 1, 30)) == "signed"  # the last day is still in the term


def test_the_reminder_is_due_once_per_end_date_within_the_window():
    c = contract()
    assert not rules.reminder_due(c, dt.date(2026, 12, 30), 30)  # 31 days left
    assert rules.reminder_due(c, dt.date(2026, 12, 31), 30)
    reminded = rules.reminded(c, "opp_1")
    assert not rules.reminder_due(reminded, dt.date(2027, 1, 10), 30)
    renewing = rules.reminded(contract(auto_renew=True, renewal_months=12), "opp_1")
    next_term = rules.renewed(renewing, dt.date(2027, 1, 31))  # reminded for the old end, not the new one
    assert next_term.end == dt.date(2028, 1, 30) and rules.reminder_due(next_term, dt.date(2028, 1, 1), 30)

def test_the_months_walked_for_a_window_are_only_those_it_touches():
    assert rules.months_between(dt.date(2026, 12, 20), dt.date(2027, 1, 19)) == ["2026-12", "2027-01"]
    assert rules.months_between(dt.date(2026, 12, 1), dt.date(2026, 12, 31)) == ["2026-12"]
