"""VIP tiers over real gRPC with real Redis: upgrade the moment a threshold
is crossed, downgrade only at the review and by one level, a warning before
it, the rolling 12-month window, tier.changed through the Redis outbox."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.loyalty.v1 import loyalty_service_pb2 as lpb
from crm_kit.events.envelope import TIER_CHANGED, decode, payload_of
from crm_kit.redis_store import connect
from tests.service.loyalty_support import SHANGHAI, start_loyalty
from tests.service.support import as_

START = dt.datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def loyalty(stores, services):
    from crm_kit.events.bus import EventsSettings

    running, stop = start_loyalty(stores, services, at=START, events=EventsSettings(url=stores.events_redis_url))
    yield running
    stop()


@pytest.fixture(autouse=True)
def reset_clock(loyalty):
    loyalty.clock.at = START


def tier_events(stores, customer_id) -> list[tuple[str, str, str, str]]:
    events = connect(stores.events_redis_url)
    out = []
    for _, fields in events.xrange("events:loyalty"):
        env = decode(fields[b"data"])
        if env.type == TIER_CHANGED and env.subject_id == customer_id:
            msg = payload_of(env)
            out.append((env.event_id, msg.from_tier, msg.to_tier, msg.reason))
    return out


def test_upgrade_at_once_then_kept_until_the_review_then_down_one_level(loyalty, stores, phone):
    cid = loyalty.customer(phone)
    tiers = loyalty.app.features["tiers"]
    loyalty.accounts.award_order(cid, "o1", 2_500_000, "CNY")  # straight to gold (2,000,000)
    assert tiers.tier_of(cid) == "gold"
    review = loyalty.account(cid).tier.review_date
    assert (review.year, review.month, review.day) == (2027, 1, 5)
    # the day before the review nothing moves, but the coming downgrade is announced
    loyalty.clock.at = dt.datetime(2027, 1, 4, 12, tzinfo=SHANGHAI)
    assert tiers.review(cid) == (False, False)
    account = loyalty.account(cid)
    assert account.tier.code == "gold" and account.tier.qualifying_value == 2_500_000
    assert account.tier.downgrade_warning_to == "silver"  # the order leaves the window by the review
    # at the review: one level down, not to the bottom; the next review a year on
    loyalty.clock.at = dt.datetime(2027, 1, 5, 12, tzinfo=SHANGHAI)
    assert tiers.review(cid) == (True, True)
    assert tiers.review(cid) == (False, False)  # idempotent on the same day
    account = loyalty.account(cid)
    assert account.tier.code == "silver"
    assert (account.tier.review_date.year, account.tier.review_date.month) == (2028, 1)
    events = tier_events(stores, cid)
    assert [e[1:] for e in events] == [("member", "gold", "upgrade"), ("gold", "silver", "downgrade")]
    assert len({e[0] for e in events}) == 2


def test_a_qualifying_total_kept_keeps_the_tier_at_the_review(loyalty, phone):
    cid = loyalty.customer(phone)
    tiers = loyalty.app.features["tiers"]
    loyalty.accounts.award_order(cid, "o1", 600_000, "CNY")  # silver
    loyalty.clock.at = dt.datetime(2026, 12, 20, tzinfo=SHANGHAI)
    loyalty.accounts.award_order(cid, "o2", 600_000, "CNY")  # still within the window at the review
    assert loyalty.account(cid).tier.downgrade_warning_to == ""
    loyalty.clock.at = dt.datetime(2027, 1, 6, tzinfo=SHANGHAI)
    assert tiers.review(cid) == (True, False)
    assert tiers.tier_of(cid) == "silver"


def test_progress_to_the_next_tier(loyalty, phone):
    cid = loyalty.customer(phone)
    loyalty.accounts.award_order(cid, "o1", 150_000, "CNY")
    tier = loyalty.account(cid, as_("rep-a")).tier
    assert (tier.code, tier.next_code, tier.next_threshold, tier.to_next) == ("member", "silver", 500_000, 350_000)
    assert tier.basis == "paid_amount" and tier.qualifying_currency == "CNY"


def test_a_refund_lowers_the_qualifying_total(loyalty, phone):
    cid = loyalty.customer(phone)
    loyalty.accounts.award_order(cid, "o1", 400_000, "CNY")
    loyalty.accounts.claw_back(cid, "o1", "r1", 100_000)
    assert loyalty.account(cid).tier.qualifying_value == 300_000


def test_a_staged_tier_change_left_by_a_crash_is_published_by_the_sweep(loyalty, stores, phone):
    cid = loyalty.customer(phone)
    relay, loyalty.accounts.relay = loyalty.accounts.relay, lambda customer_id: None  # the process "dies" here
    try:
        loyalty.accounts.award_order(cid, "o1", 700_000, "CNY")
    finally:
        loyalty.accounts.relay = relay
    assert tier_events(stores, cid) == []
    assert loyalty.app.features["tier_outbox"].sweep() >= 1
    assert [e[1:] for e in tier_events(stores, cid)] == [("member", "silver", "upgrade")]
    loyalty.app.features["tier_outbox"].sweep()
    assert len(tier_events(stores, cid)) == 1


def test_run_tier_review_is_for_admins(loyalty):
    import grpc

    with pytest.raises(grpc.RpcError) as err:
        loyalty.stub.RunTierReview(lpb.RunTierReviewRequest(), metadata=as_("rep-a"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_review_job_reaches_every_account_due(loyalty, stores, phone):
    from crm.loyalty.v1 import loyalty_service_pb2 as lpb

    due = [loyalty.customer(phone) for _ in range(3)]
    for i, cid in enumerate(due):
        loyalty.accounts.award_order(cid, f"o{i}", 600_000, "CNY")  # silver, review 2027-01-05
    loyalty.clock.at = dt.datetime(2027, 1, 6, 12, tzinfo=SHANGHAI)
    answer = loyalty.stub.RunTierReview(lpb.RunTierReviewRequest(), metadata=as_("adm", "admin"))
    assert answer.reviewed >= 3 and answer.downgraded >= 3
    assert {loyalty.app.features["tiers"].tier_of(c) for c in due} == {"member"}
    assert all(("silver", "member", "downgrade") in [e[1:] for e in tier_events(stores, c)] for c in due)
