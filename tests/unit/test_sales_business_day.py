"""The sales service's "today" is the business's day (SALES_TIMEZONE), not
UTC's: from 16:00 UTC on it is already tomorrow in Shanghai, and a due date,
an overdue count, a receipt dated today or a contract's last day go by the
day the people using the CRM are living in."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from crm_kit.clock import local_date
from crm_kit.errors import InvalidArgument
from crm_kit.money import Money
from crm_sales.contracts.service import ContractService
from crm_sales.opportunities.service import OpportunityService
from crm_sales.payments import model as payments
from crm_sales.payments.service import PaymentService, debt_of_order
from crm_sales.profitability.months import DEFAULT_ZONE

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2026, 3, 31, 17, 30, tzinfo=dt.timezone.utc)  # 01:30 on 1 April in Shanghai
APRIL_1, MARCH_31 = dt.date(2026, 4, 1), dt.date(2026, 3, 31)


def test_the_default_zone_is_shanghai_and_local_date_turns_at_its_midnight():
    assert DEFAULT_ZONE == SHANGHAI
    assert local_date(AT, SHANGHAI) == APRIL_1 and local_date(AT, dt.timezone.utc) == MARCH_31
    assert local_date(dt.datetime(2026, 3, 31, 15, 59, tzinfo=dt.timezone.utc), SHANGHAI) == MARCH_31


@pytest.mark.parametrize("make", [
    lambda zone: PaymentService(None, None, {}, clock=lambda: AT, zone=zone),
    lambda zone: ContractService(None, None, {}, clock=lambda: AT, zone=zone),
    lambda zone: OpportunityService(None, None, None, clock=lambda: AT, zone=zone),
], ids=["payments", "contracts", "opportunities"])
def test_each_sales_feature_takes_today_from_its_zone(make):
    assert make(SHANGHAI).today() == APRIL_1
    assert make(dt.timezone.utc).today() == MARCH_31
    assert make(DEFAULT_ZONE).today() == APRIL_1


def test_an_order_confirmed_after_midnight_in_shanghai_owes_from_that_day():
    order = SimpleNamespace(id="ord_1", customer_id="cus_1", owner_id="rep-a", team_id="t1",
                            total=Money(10000, "CNY"), confirmed_at=AT)
    assert debt_of_order(order, AT, SHANGHAI).starts_on == APRIL_1
    assert debt_of_order(order, AT, dt.timezone.utc).starts_on == MARCH_31


def test_a_receipt_dated_the_business_day_is_not_in_the_future():
    today = PaymentService(None, None, {}, clock=lambda: AT, zone=SHANGHAI).today()
    payments.validate_past_date(APRIL_1, today, "received_date")  # today in Shanghai: taken
    with pytest.raises(InvalidArgument):
        payments.validate_past_date(APRIL_1, MARCH_31, "received_date")  # what UTC's day refused
