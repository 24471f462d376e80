"""Loyalty tried as an attacker and as a careless caller would, over real
gRPC with real Redis and the real customer service: forged page tokens,
points kept past their expiry day, replayed SMS requests to the sink."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import urllib.error
import urllib.request
import uuid

import grpc
import pytest

from crm.loyalty.v1 import loyalty_service_pb2 as lpb
from crm_kit.grpc_errors import details_of
from tests.service.loyalty_support import SHANGHAI, code_and_detail, start_loyalty
from tests.service.support import as_

START = dt.datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI)
ADMIN = as_("adm", "admin")


@pytest.fixture(scope="module")
def loyalty(stores, services):
    running, stop = start_loyalty(stores, services, at=START)
    yield running
    stop()


@pytest.fixture(autouse=True)
def _back_to_start(loyalty):
    loyalty.clock.at = START
    yield
    loyalty.clock.at = START


def forged(position: dict, query: dict) -> str:
    raw = json.dumps({"p": position, "q": query}, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def reward(loyalty, cost=100, stock=5):
    return loyalty.stub.CreateReward(lpb.CreateRewardRequest(reward=lpb.Reward(
        name="茶具 tea set", points_cost=cost, stock=stock)), metadata=ADMIN)


def redeem(loyalty, cid, reward_id, who=None):
    return loyalty.stub.RedeemReward(lpb.RedeemRewardRequest(
        customer_id=cid, reward_id=reward_id, request_id=uuid.uuid4().hex), metadata=who or as_("rep-a"))


def precondition(fn) -> str:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION, err.value.details()
    [failure] = [d for d in details_of(err.value) if hasattr(d, "violations")]
    return failure.violations[0].type


# -- forged page tokens are a clear INVALID_ARGUMENT, never an internal error ------------------------

@pytest.mark.parametrize("before", [10**30, -5, 2**63])
def test_a_forged_ledger_or_redemptions_token_is_refused(loyalty, phone, before):
    cid = loyalty.customer(phone)
    loyalty.adjust(cid, 10)
    token = forged({"before": before}, {"c": cid})
    for call in (lambda: loyalty.stub.ListLedger(lpb.ListLedgerRequest(customer_id=cid, page_token=token),
                                                 metadata=ADMIN),
                 lambda: loyalty.stub.ListRedemptions(lpb.ListRedemptionsRequest(customer_id=cid, page_token=token),
                                                      metadata=ADMIN)):
        code, detail = code_and_detail(call)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in detail


def test_a_forged_rewards_token_is_refused(loyalty):
    reward(loyalty)
    token = forged({"n": 10**30}, {"a": False})
    code, detail = code_and_detail(lambda: loyalty.stub.ListRewards(lpb.ListRewardsRequest(page_token=token),
                                                                    metadata=ADMIN))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in detail


# -- points past their expiry day are not spendable, whether or not the expiry job ran yet -------------

def test_points_past_their_expiry_day_cannot_be_redeemed_before_the_expiry_job(loyalty, phone):
    cid = loyalty.customer(phone)
    loyalty.adjust(cid, 300)  # earned 2026-05-01: expires 2027-12-31 (end of next year)
    r = reward(loyalty, cost=100, stock=5)
    loyalty.clock.at = dt.datetime(2028, 1, 1, 9, 0, tzinfo=SHANGHAI)  # the job has not run yet today
    assert precondition(lambda: redeem(loyalty, cid, r.reward_id)) == "POINTS"
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 5
    code, _ = code_and_detail(lambda: loyalty.adjust(cid, -50))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    account = loyalty.account(cid)
    assert account.redeemed_total == 0 and account.balance == 0 and account.expired_total == 300
    assert [e.kind for e in loyalty.ledger(cid)] == ["expiry", "adjustment"]


def test_points_on_their_last_day_are_still_spendable(loyalty, phone):
    cid = loyalty.customer(phone)
    loyalty.adjust(cid, 300)
    r = reward(loyalty, cost=100, stock=5)
    loyalty.clock.at = dt.datetime(2027, 12, 31, 23, 0, tzinfo=SHANGHAI)
    assert redeem(loyalty, cid, r.reward_id).points == 100
    assert loyalty.account(cid).balance == 200



def test_a_clawback_does_not_take_points_past_their_day_instead_of_live_ones(loyalty, phone):
    """What a refund takes must not depend on whether the hourly expiry job ran first."""
    cid = loyalty.customer(phone)
    order = "ord_" + uuid.uuid4().hex[:24]
    assert loyalty.accounts.award_order(cid, order, 10_000, "CNY")  # 100 points, expiring 2027-12-31
    loyalty.clock.at = dt.datetime(2028, 1, 2, 9, 0, tzinfo=SHANGHAI)
    loyalty.adjust(cid, 100)  # a live lot
    assert loyalty.accounts.claw_back(cid, order, "ref_" + uuid.uuid4().hex[:24], 10_000)
    loyalty.accounts.expire(cid)
    account = loyalty.account(cid)
    assert (account.balance, account.expired_total, account.clawed_back_total) == (0, 100, 100)


# -- events: redelivered, oversized, negative, hostile ------------------------------------------------------

def _paid(customer_id, order_id, minor):
    from crm.common.v1 import common_pb2
    from crm.events.v1 import events_pb2 as epb
    from crm_kit.events import envelope as ev
    return ev.new_event(ev.ORDER_PAID, order_id, epb.OrderPaid(
        order_id=order_id, customer_id=customer_id, total=common_pb2.Money(minor_units=minor, currency_code="CNY"),
        owner_id="rep-a"), "sales")


def _refunded(customer_id, order_id, refund_id, minor):
    from crm.common.v1 import common_pb2
    from crm.events.v1 import events_pb2 as epb
    from crm_kit.events import envelope as ev
    return ev.new_event(ev.PAYMENT_REFUNDED, refund_id, epb.PaymentRefunded(
        refund_id=refund_id, order_id=order_id, customer_id=customer_id,
        amount=common_pb2.Money(minor_units=minor, currency_code="CNY")), "sales")


def test_refunds_never_claw_back_more_than_the_order_earned(loyalty, phone):
    from crm_loyalty.accounts import events as account_events
    cid = loyalty.customer(phone)
    order = "ord_" + uuid.uuid4().hex[:24]
    # the same order.paid twice in one batch, and a negative "refund"
    account_events.handle_batch(loyalty.accounts, [_paid(cid, order, 30_000), _paid(cid, order, 30_000),
                                                   _refunded(cid, order, "ref_neg", -90_000)])
    assert loyalty.account(cid).balance == 300
    loyalty.adjust(cid, 1000)
    account_events.handle_batch(loyalty.accounts, [
        _refunded(cid, order, f"ref_{n}", minor) for n, minor in enumerate((30_000, 30_000, 2**62))])
    account = loyalty.account(cid)
    assert account.clawed_back_total == 300 and account.balance == 1000
    assert [e.points for e in loyalty.ledger(cid) if e.kind == "clawback"] == [-300]

# -- the sink's SMS API: the signature covers what is deduplicated --------------------------------------

@pytest.fixture(scope="module")
def sms_sink():
    from crm_cli.sink import Sink
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        smtp_port = s.getsockname()[1]
    running = Sink(smtp_port=smtp_port, http_port=0, sms_key="attack-test-key").start()
    yield running
    running.stop()


def post_sms(sink, body: bytes, signature: str, idempotency_key: str | None = None) -> int:
    headers = {"Content-Type": "application/json", "X-Signature": signature}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    request = urllib.request.Request(f"{sink.url}/sms", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def test_a_captured_sms_request_replayed_under_another_key_is_kept_once(sms_sink):
    from crm_loyalty.greetings.channels import sign
    message_id = "msg_" + uuid.uuid4().hex
    body = json.dumps({"message_id": message_id, "to": "+8613800000000", "text": "中秋快乐"}).encode()
    signature = sign(b"attack-test-key", body)
    assert post_sms(sms_sink, body, signature, message_id) == 200
    # the Idempotency-Key header is not signed: a replay with another one, or none, is the same message
    assert post_sms(sms_sink, body, signature, "replayed-" + message_id) == 200
    assert post_sms(sms_sink, body, signature) == 200
    assert [m["message_id"] for m in sms_sink.messages("sms")].count(message_id) == 1


def test_a_signature_that_is_not_ascii_is_a_401(sms_sink):
    body = json.dumps({"message_id": "msg_x", "to": "+8613800000001", "text": "hi"}).encode()
    assert post_sms(sms_sink, body, "sha256=\u00ff\u00fe") == 401
    assert post_sms(sms_sink, body, "") == 401


# -- racing clients on one account: never more points or units than there are -------------------------

def test_racing_redemptions_of_one_account_never_overdraw_its_points(loyalty, phone):
    from tests.service.support import race
    cid = loyalty.customer(phone)
    loyalty.adjust(cid, 250)
    rewards = [reward(loyalty, cost=100, stock=10) for _ in range(2)]
    outcomes = race(12, lambda i: redeem(loyalty, cid, rewards[i % 2].reward_id))
    assert sum(1 for o in outcomes if isinstance(o, lpb.Redemption)) == 2
    refused = [o for o in outcomes if not isinstance(o, lpb.Redemption)]
    assert all(o == grpc.StatusCode.FAILED_PRECONDITION for o in refused), refused
    assert loyalty.account(cid).balance == 50
    stocks = [loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock
              for r in rewards]
    assert sum(stocks) == 18  # the refused ones gave their units back


def test_racing_redemptions_never_pass_the_per_customer_limit(loyalty, phone):
    from tests.service.support import race
    cid = loyalty.customer(phone)
    loyalty.adjust(cid, 5000)
    r = loyalty.stub.CreateReward(lpb.CreateRewardRequest(reward=lpb.Reward(
        name="限量 limited", points_cost=10, stock=50, per_customer_limit=2)), metadata=ADMIN)
    outcomes = race(12, lambda i: redeem(loyalty, cid, r.reward_id))
    assert sum(1 for o in outcomes if isinstance(o, lpb.Redemption)) == 2
    assert loyalty.account(cid).balance == 4980
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 48


# -- erasure leaves nothing that ties the customer to what they did ---------------------------------------

def test_erasure_leaves_no_trace_of_the_customer_in_the_rewards_stock_holds(loyalty, phone):
    cid = loyalty.customer(phone)
    loyalty.adjust(cid, 500, reason="王小明 called, goodwill")
    r = reward(loyalty, cost=100, stock=5)
    kept = redeem(loyalty, cid, r.reward_id)
    cancelled = redeem(loyalty, cid, r.reward_id)
    loyalty.stub.CancelRedemption(lpb.CancelRedemptionRequest(customer_id=cid, redemption_id=cancelled.redemption_id),
                                  metadata=as_("rep-a"))
    loyalty.accounts.erase(cid)
    loyalty.accounts.erase(cid)  # a redelivered customer.erased: the same
    store = loyalty.app.redis
    for key in store.scan_iter(match="loyalty:*"):
        name = key.decode()
        if f"{{{cid}}}" in name:
            continue  # the account's own keys: anonymous totals and lots stay
        kind = store.type(key).decode()
        values = (store.hgetall(key).values() if kind == "hash" else store.lrange(key, 0, -1) if kind == "list"
                  else store.zrange(key, 0, -1) if kind == "zset" else [store.get(key) or b""] if kind == "string"
                  else [])
        assert not any(cid.encode() in v for v in values), name
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 4
    assert kept.state == "active" and loyalty.ledger(cid) == []
    account = loyalty.account(cid)
    assert account.balance == 400 and account.redeemed_total == 100
