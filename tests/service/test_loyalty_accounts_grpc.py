"""The points ledger over real gRPC with real Redis: awards from paid orders
(tier multiplier, once per order), lots and their expiry, clawbacks after
refunds down to a negative balance, audited adjustments, rights."""

from __future__ import annotations

import datetime as dt
import time

import grpc
import pytest

from tests.service.loyalty_support import SHANGHAI, code_and_detail, greet, start_loyalty
from tests.service.support import as_

START = dt.datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def loyalty(stores, services):
    from crm_loyalty.accounts.model import ExpiryRule

    running, stop = start_loyalty(stores, services, at=START, expiry=ExpiryRule.parse("months:6"))
    yield running
    stop()


@pytest.fixture(autouse=True)
def reset_clock(loyalty):
    loyalty.clock.at = START


def test_an_order_paid_awards_points_once_per_order(loyalty, phone):
    cid = loyalty.customer(phone)
    assert loyalty.accounts.award_order(cid, "ord_a", 123_456, "CNY")  # 1 point per 100 fen: 1234 points
    assert not loyalty.accounts.award_order(cid, "ord_a", 123_456, "CNY")  # a redelivery changes nothing
    account = loyalty.account(cid)
    assert account.balance == 1234 and account.earned_total == 1234
    [entry] = loyalty.ledger(cid)
    assert (entry.kind, entry.points, entry.balance_after, entry.reference) == ("order_award", 1234, 1234, "ord_a")
    assert (entry.expires_on.year, entry.expires_on.month, entry.expires_on.day) == (2026, 9, 10)


def test_a_new_account_reads_as_zero_at_the_lowest_tier(loyalty, phone):
    cid = loyalty.customer(phone)
    account = loyalty.account(cid, as_("rep-a"))
    assert account.balance == 0 and account.tier.code == "member" and account.tier.next_code == "silver"
    assert account.tier.to_next == 500_000 and account.tier.multiplier_percent == 100


def test_other_currencies_earn_by_their_rule_or_nothing(loyalty, phone):
    cid = loyalty.customer(phone)
    assert loyalty.accounts.award_order(cid, "ord_usd", 10_000, "USD")  # no USD rule: nothing earned
    assert loyalty.account(cid).balance == 0


def test_crossing_a_threshold_upgrades_at_once_and_multiplies_later_awards(loyalty, phone):
    cid = loyalty.customer(phone)
    loyalty.accounts.award_order(cid, "ord_big", 600_000, "CNY")  # 6000 points at x1, then silver
    account = loyalty.account(cid)
    assert account.tier.code == "silver" and account.balance == 6000
    assert account.tier.qualifying_value == 600_000 and account.tier.next_code == "gold"
    loyalty.accounts.award_order(cid, "ord_next", 10_000, "CNY")  # 100 points x 1.10
    assert loyalty.account(cid).balance == 6110
    assert loyalty.app.features["tiers"].tier_of(cid) == "silver"


def test_lots_expire_and_the_expiry_is_in_the_history(loyalty, phone):
    cid = loyalty.customer(phone)
    loyalty.accounts.award_order(cid, "ord_1", 10_000, "CNY")  # 100 points until 2026-09-10
    loyalty.clock.advance(days=30)
    loyalty.accounts.award_order(cid, "ord_2", 20_000, "CNY")  # 200 points until 2026-10-09
    loyalty.clock.at = dt.datetime(2026, 8, 20, 12, tzinfo=SHANGHAI)
    account = loyalty.account(cid)
    assert account.expiring_within_30_days == 100
    assert (account.next_expiry_date.month, account.next_expiry_date.day) == (9, 10)
    loyalty.clock.at = dt.datetime(2026, 9, 11, 0, 30, tzinfo=SHANGHAI)
    assert loyalty.accounts.expire(cid) == 100
    assert loyalty.accounts.expire(cid) == 0  # again: nothing more
    account = loyalty.account(cid)
    assert account.balance == 200 and account.expired_total == 100
    newest = loyalty.ledger(cid)[0]
    assert (newest.kind, newest.points, newest.balance_after) == ("expiry", -100, 200)


def test_a_refund_claws_back_pro_rata_down_to_a_negative_balance(loyalty, phone):
    cid = loyalty.customer(phone)
    loyalty.accounts.award_order(cid, "ord_r", 100_000, "CNY")  # 1000 points
    loyalty.adjust(cid, -900, reason="spent")
    assert loyalty.accounts.claw_back(cid, "ord_r", "ref_1", 25_000)  # a quarter: 250 points
    assert not loyalty.accounts.claw_back(cid, "ord_r", "ref_1", 25_000)  # the same refund again: nothing
    account = loyalty.account(cid)
    assert account.balance == -150 and account.clawed_back_total == 250
    assert loyalty.accounts.claw_back(cid, "ord_r", "ref_2", 75_000)  # the rest
    assert loyalty.account(cid).balance == -900
    loyalty.accounts.award_order(cid, "ord_s", 100_000, "CNY")  # the next award pays off the debt first
    assert loyalty.account(cid).balance == 100
    assert sum(e.points for e in loyalty.ledger(cid)) == 100


def test_a_refund_of_an_order_never_awarded_takes_nothing(loyalty, phone):
    cid = loyalty.customer(phone)
    assert not loyalty.accounts.claw_back(cid, "ord_none", "ref_x", 5_000)
    assert loyalty.account(cid).balance == 0


def test_adjustments_are_admins_and_audited(loyalty, phone):
    cid = loyalty.customer(phone)
    answer = loyalty.adjust(cid, 500, reason="apology for the late delivery", request_id="adj-1")
    assert answer.entry.kind == "adjustment" and answer.entry.actor == "adm" and answer.account.balance == 500
    assert answer.entry.reason == "apology for the late delivery"
    again = loyalty.adjust(cid, 500, reason="apology for the late delivery", request_id="adj-1")
    assert again.entry.entry_id == answer.entry.entry_id and again.account.balance == 500
    code, _ = code_and_detail(lambda: loyalty.adjust(cid, -100, who=as_("rep-a")))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, _ = code_and_detail(lambda: loyalty.adjust(cid, 100, who=as_("rep-a")))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, detail = code_and_detail(lambda: loyalty.adjust(cid, -501))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "500" in detail
    assert loyalty.account(cid).balance == 500 and len(loyalty.ledger(cid)) == 1


def test_bad_adjustments_name_the_field_and_change_nothing(loyalty, phone):
    cid = loyalty.customer(phone)
    for points, reason in ((0, "x"), (10**9, "x"), (5, ""), (5, "x" * 501)):
        code, _ = code_and_detail(lambda: loyalty.adjust(cid, points, reason=reason))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert loyalty.account(cid).balance == 0


def test_unknown_and_unseen_customers_are_not_found(loyalty, phone):
    cid = loyalty.customer(phone, owner="rep-a")
    for bad in ("cus_" + "a" * 24, "nonsense", ""):
        code, _ = code_and_detail(lambda: loyalty.account(bad))
        assert code == grpc.StatusCode.NOT_FOUND
        code, _ = code_and_detail(lambda: loyalty.adjust(bad, 10))
        assert code == grpc.StatusCode.NOT_FOUND
    code, _ = code_and_detail(lambda: loyalty.account(cid, as_("rep-b")))
    assert code == grpc.StatusCode.NOT_FOUND
    assert loyalty.account(cid, as_("ag", "agent")).balance == 0
    assert loyalty.account(cid, as_("boss", "manager", team="team-1")).balance == 0
    code, _ = code_and_detail(lambda: loyalty.account(cid, as_("int", "integration", scopes="sales:read")))
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_the_ledger_pages_newest_first(loyalty, phone):
    from crm.loyalty.v1 import loyalty_service_pb2 as lpb

    cid = loyalty.customer(phone)
    for i in range(5):
        loyalty.adjust(cid, i + 1, request_id=f"page-{cid}-{i}")
    seen, token = [], ""
    while True:
        page = loyalty.stub.ListLedger(lpb.ListLedgerRequest(customer_id=cid, page_size=2, page_token=token),
                                       metadata=as_("adm", "admin"))
        seen += [e.points for e in page.entries]
        token = page.next_page_token
        if not token:
            break
    assert seen == [5, 4, 3, 2, 1]


def test_care_gifts_are_awarded_once_per_request(loyalty, phone):
    cid = loyalty.customer(phone)
    assert loyalty.accounts.award(cid, 200, kind="care_gift", request_id="birthday-2026", reason="birthday")
    assert not loyalty.accounts.award(cid, 200, kind="care_gift", request_id="birthday-2026", reason="birthday")
    [entry] = loyalty.ledger(cid)
    assert (entry.kind, entry.points, entry.reason) == ("care_gift", 200, "birthday")


def as_principal():
    from crm_kit.auth import Principal

    return Principal("adm", "admin")


def test_concurrent_awards_and_spending_on_one_account_add_up(loyalty, phone):
    from tests.service.support import race

    cid = loyalty.customer(phone)
    loyalty.adjust(cid, 1_000, reason="start")
    outcomes = race(16, lambda i: loyalty.accounts.award_order(cid, f"ord_race_{i}", 10_000, "CNY") if i % 2
                    else loyalty.adjust(cid, -100, reason="spend", request_id=f"spend-{cid}-{i}"))
    assert all(o is True or hasattr(o, "entry") for o in outcomes)
    account = loyalty.account(cid)
    assert account.balance == 1_000 + 8 * 100 - 8 * 100
    assert sum(e.points for e in loyalty.ledger(cid)) == account.balance


def test_run_expiry_is_for_admins_and_reaches_every_account(loyalty, phone):
    from crm.loyalty.v1 import loyalty_service_pb2 as lpb

    cid = loyalty.customer(phone)
    loyalty.accounts.award_order(cid, "ord_old", 10_000, "CNY")  # until 2026-09-10
    code, _ = code_and_detail(lambda: loyalty.stub.RunExpiry(lpb.RunExpiryRequest(), metadata=as_("rep-a")))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    loyalty.clock.at = dt.datetime(2026, 9, 12, tzinfo=SHANGHAI)
    answer = loyalty.stub.RunExpiry(lpb.RunExpiryRequest(), metadata=as_("adm", "admin"))
    assert answer.accounts >= 1 and answer.points >= 100
    assert loyalty.account(cid).balance == 0


def test_integrations_by_scope(loyalty, phone):
    cid = loyalty.customer(phone)
    loyalty.adjust(cid, 10, reason="open")
    reader = as_("int", "integration", scopes="loyalty:read")
    assert loyalty.account(cid, reader).balance == 10
    code, _ = code_and_detail(lambda: loyalty.adjust(cid, 5, who=reader))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    writer = as_("int", "integration", scopes="loyalty:write")
    assert loyalty.adjust(cid, 5, who=writer).account.balance == 15
    # Each scope stands alone, as in every service and the gateway's route policies: writing is not reading.
    code, _ = code_and_detail(lambda: loyalty.account(cid, writer))
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_the_account_carries_the_last_greeting_for_whoever_may_read_it(loyalty, phone):
    cid = loyalty.customer(phone, owner="rep-a")
    assert not loyalty.account(cid).HasField("last_greeting")  # never greeted
    assert greet(loyalty.app, cid).skipped == 1
    for reader in (as_("rep-a"), as_("ag", "agent"), as_("int", "integration", scopes="loyalty:read")):
        last = loyalty.account(cid, reader).last_greeting
        assert (last.occasion, last.year, last.channel, last.outcome, last.reason) == \
            ("mid_autumn", 2026, "", "skipped", "no_consent")
        assert last.time.ToDatetime(dt.timezone.utc) == START  # the service's clock
    # An adjustment answers the same account, last greeting included.
    assert loyalty.adjust(cid, 10).account.last_greeting.occasion == "mid_autumn"
    # Whoever may not see the customer learns nothing of it, the greeting included.
    code, _ = code_and_detail(lambda: loyalty.account(cid, as_("rep-b")))
    assert code == grpc.StatusCode.NOT_FOUND


def test_an_erased_customers_account_has_no_last_greeting(loyalty, events_redis_url, phone):
    from crm.customer.v1 import customer_service_pb2 as cpb
    from crm_kit.events.bus import connect as connect_events
    from crm_loyalty.greetings.events import erasure_follower

    cid = loyalty.customer(phone)
    loyalty.adjust(cid, 50, reason="open")
    greet(loyalty.app, cid)
    reader = as_("int", "integration", scopes="loyalty:read")  # integrations still read the anonymous account
    assert loyalty.account(cid, reader).HasField("last_greeting")
    store = loyalty.app.features["greetings"].store
    follower = erasure_follower(connect_events(events_redis_url), store, "test-account-greetings")
    follower.ensure_groups()
    loyalty.customers.EraseCustomer(cpb.EraseCustomerRequest(id=cid), metadata=as_("admin-1", "admin"))
    deadline = time.monotonic() + 20
    while store.deliveries(cid, 1) and time.monotonic() < deadline:
        follower.poll_once(block_ms=200)
    account = loyalty.account(cid, reader)
    assert not account.HasField("last_greeting")
    assert account.balance == 50  # the points stay, anonymous


def test_the_ledger_redis_runs_appendfsync_always(loyalty):
    from crm_loyalty.bootstrap import fsync_policy

    assert fsync_policy(loyalty.app.redis) == "always"


def test_points_are_counted_in_the_business_metrics(loyalty, phone):
    from prometheus_client import REGISTRY

    def value(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0

    cid = loyalty.customer(phone)
    before = (value("crm_loyalty_points_awarded_total", kind="order_award"), value("crm_loyalty_points_deducted_total"))
    loyalty.accounts.award_order(cid, "ord_metric", 50_000, "CNY")
    loyalty.adjust(cid, -200, reason="metric")
    assert value("crm_loyalty_points_awarded_total", kind="order_award") - before[0] == 500
    assert value("crm_loyalty_points_deducted_total") - before[1] == 200
