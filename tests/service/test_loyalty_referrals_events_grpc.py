"""Referral rewards and the events loyalty consumes, with real Redis and
the real customer service: the referrer earns once on the referee's first
paid order (whichever event comes first), never for a self-referral or a
cycle, within a yearly cap; events are applied once however often they are
delivered; erasure keeps anonymous totals only."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.common.v1 import common_pb2
from crm.events.v1 import events_pb2 as epb
from crm_kit.events import envelope as ev
from crm_loyalty.accounts import events as account_events
from crm_loyalty.referrals import events as referral_events
from tests.service.loyalty_support import SHANGHAI, start_loyalty

START = dt.datetime(2026, 7, 1, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def loyalty(stores, services):
    running, stop = start_loyalty(stores, services, at=START, referral_points=300, referral_yearly_cap=2)
    yield running
    stop()


def deliver(loyalty, env, times=1):
    for _ in range(times):
        account_events.handle(loyalty.accounts, env)
        referral_events.handle(loyalty.app.features["referrals"], env)


def paid(customer_id, order_id, minor=10_000):
    return ev.new_event(ev.ORDER_PAID, order_id, epb.OrderPaid(
        order_id=order_id, customer_id=customer_id, total=common_pb2.Money(minor_units=minor, currency_code="CNY"),
        owner_id="rep-a"), "sales")


def refunded(customer_id, order_id, refund_id, minor):
    return ev.new_event(ev.PAYMENT_REFUNDED, refund_id, epb.PaymentRefunded(
        refund_id=refund_id, order_id=order_id, customer_id=customer_id,
        amount=common_pb2.Money(minor_units=minor, currency_code="CNY")), "sales")


def linked(referrer, referred):
    return ev.new_event(ev.REFERRAL_LINKED, referred, epb.ReferralLinked(referrer_id=referrer, referred_id=referred),
                        "customer")


def referral_points(loyalty, customer_id) -> int:
    return sum(e.points for e in loyalty.ledger(customer_id) if e.kind == "referral_award")


def test_the_referrer_earns_once_on_the_first_paid_order(loyalty, phone):
    referrer, referee = loyalty.customer(phone), loyalty.customer(phone)
    deliver(loyalty, linked(referrer, referee), times=2)
    deliver(loyalty, paid(referee, "ord_first"), times=3)  # redelivered: still once
    deliver(loyalty, paid(referee, "ord_second"))
    assert referral_points(loyalty, referrer) == 300
    [entry] = [e for e in loyalty.ledger(referrer) if e.kind == "referral_award"]
    assert entry.reference == referee
    assert loyalty.account(referee).balance == 200  # the referee's own order points, 100 each


def test_the_link_arriving_after_the_first_paid_order_still_rewards(loyalty, phone):
    referrer, referee = loyalty.customer(phone), loyalty.customer(phone)
    deliver(loyalty, paid(referee, "ord_early"))
    deliver(loyalty, linked(referrer, referee))
    assert referral_points(loyalty, referrer) == 300


def test_self_referrals_and_cycles_earn_nothing(loyalty, phone):
    a, b = loyalty.customer(phone), loyalty.customer(phone)
    deliver(loyalty, linked(a, a))
    deliver(loyalty, paid(a, "ord_self"))
    assert referral_points(loyalty, a) == 0
    deliver(loyalty, linked(b, a))  # b referred a ...
    deliver(loyalty, linked(a, b))  # ... and a referred b: a cycle
    deliver(loyalty, paid(b, "ord_b"))
    assert referral_points(loyalty, a) == 0


def test_the_yearly_cap(loyalty, phone):
    referrer = loyalty.customer(phone)
    for i in range(3):
        referee = loyalty.customer(phone)
        deliver(loyalty, linked(referrer, referee))
        deliver(loyalty, paid(referee, f"ord_cap_{i}"))
    assert referral_points(loyalty, referrer) == 600  # two of three
    loyalty.clock.at = dt.datetime(2027, 1, 2, tzinfo=SHANGHAI)
    try:
        referee = loyalty.customer(phone)
        deliver(loyalty, linked(referrer, referee))
        deliver(loyalty, paid(referee, "ord_cap_next_year"))
        assert referral_points(loyalty, referrer) == 900
    finally:
        loyalty.clock.at = START


def test_order_paid_and_refunds_apply_once_each(loyalty, phone):
    cid = loyalty.customer(phone)
    deliver(loyalty, paid(cid, "ord_x", 50_000), times=2)
    refund = refunded(cid, "ord_x", "ref_x", 10_000)
    deliver(loyalty, refund, times=2)
    account = loyalty.account(cid)
    assert account.balance == 400 and account.clawed_back_total == 100
    assert [e.kind for e in loyalty.ledger(cid)] == ["clawback", "order_award"]


def test_erasure_keeps_anonymous_totals_only(loyalty, phone):
    cid = loyalty.customer(phone)
    deliver(loyalty, paid(cid, "ord_e", 30_000))
    loyalty.adjust(cid, 50, reason="一个私人的理由")
    deliver(loyalty, ev.new_event(ev.CUSTOMER_ERASED, cid, epb.CustomerErased(customer_id=cid), "customer"))
    keys = loyalty.app.redis.keys(f"loyalty:{{{cid}}}:*")
    assert {k.decode().rsplit(":", 1)[1] for k in keys} <= {"acct", "lots", "lotpts", "outbox"}
    assert loyalty.accounts.view(cid).earned_total == 350
    assert not loyalty.accounts.award(cid, 10, kind="care_gift", request_id="after-erasure")


def test_customer_created_opens_the_account_through_the_stream(services, phone):
    """The session's loyalty service consumes the customer service's events."""
    import time

    from crm.customer.v1 import customer_service_pb2_grpc
    import grpc

    from tests.service.support import as_, create

    with grpc.insecure_channel(services.targets["customer"]) as channel:
        cid = create(customer_service_pb2_grpc.CustomerServiceStub(channel), phone(), as_("rep-a")).id
    accounts = services.hosts["loyalty"].app.features["accounts"]
    deadline = time.monotonic() + 20
    while not accounts.exists(cid):
        assert time.monotonic() < deadline, "customer.created was not consumed"
        time.sleep(0.1)
    assert accounts.view(cid).tier.code == "member"


def test_a_batch_keeps_the_order_of_its_events(loyalty, phone):
    """Awards of a read go in one round trip, but a refund after its order's payment still finds the award."""
    referrer, cid, other = loyalty.customer(phone), loyalty.customer(phone), loyalty.customer(phone)
    batch = [linked(referrer, cid), paid(cid, "ord_b1", 20_000), paid(other, "ord_b2", 10_000),
             refunded(cid, "ord_b1", "ref_b1", 20_000), paid(cid, "ord_b3", 30_000), paid(cid, "ord_b1", 20_000)]
    account_events.handle_batch(loyalty.accounts, batch)
    referral_events.handle_batch(loyalty.app.features["referrals"], batch)
    assert loyalty.account(cid).balance == 300 and loyalty.account(cid).clawed_back_total == 200
    assert loyalty.account(other).balance == 100
    assert referral_points(loyalty, referrer) == 300
