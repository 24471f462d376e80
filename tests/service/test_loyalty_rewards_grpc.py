"""Rewards over real gRPC with real Redis: the catalogue, redemptions that
take points and stock together or nothing, limits, validity, cancellation
returning both, retries, concurrent redemptions of the last units."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.loyalty.v1 import loyalty_service_pb2 as lpb
from crm_kit.grpc_errors import details_of
from tests.service.loyalty_support import SHANGHAI, code_and_detail, start_loyalty
from tests.service.support import all_pages, as_, race

START = dt.datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI)
ADMIN = as_("adm", "admin")


@pytest.fixture(scope="module")
def loyalty(stores, services):
    running, stop = start_loyalty(stores, services, at=START)
    yield running
    stop()


def reward(loyalty, cost=100, stock=5, limit=0, who=ADMIN, **fields):
    return loyalty.stub.CreateReward(lpb.CreateRewardRequest(reward=lpb.Reward(
        name=fields.pop("name", "保温杯 thermos"), points_cost=cost, stock=stock, per_customer_limit=limit,
        **fields)), metadata=who)


def redeem(loyalty, cid, reward_id, who=None, request_id=None):
    return loyalty.stub.RedeemReward(lpb.RedeemRewardRequest(
        customer_id=cid, reward_id=reward_id, request_id=request_id or uuid.uuid4().hex), metadata=who or as_("rep-a"))


def violation(fn) -> str:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    [failure] = [d for d in details_of(err.value) if hasattr(d, "violations")]
    return failure.violations[0].type


def funded(loyalty, phone, points) -> str:
    cid = loyalty.customer(phone)
    loyalty.adjust(cid, points, reason="funding")
    return cid


def test_a_redemption_takes_points_and_stock_and_a_cancellation_returns_both(loyalty, phone):
    cid = funded(loyalty, phone, 250)
    r = reward(loyalty, cost=100, stock=2)
    done = redeem(loyalty, cid, r.reward_id, request_id="once")
    assert done.state == "active" and done.points == 100
    again = redeem(loyalty, cid, r.reward_id, request_id="once")  # a retry: the same redemption, nothing more
    assert again.redemption_id == done.redemption_id
    assert loyalty.account(cid).balance == 150
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 1
    cancelled = loyalty.stub.CancelRedemption(lpb.CancelRedemptionRequest(
        customer_id=cid, redemption_id=done.redemption_id), metadata=as_("rep-a"))
    assert cancelled.state == "cancelled"
    loyalty.stub.CancelRedemption(lpb.CancelRedemptionRequest(customer_id=cid, redemption_id=done.redemption_id),
                                  metadata=as_("rep-a"))  # again: harmless
    assert loyalty.account(cid).balance == 250 and loyalty.account(cid).redeemed_total == 0
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 2
    kinds = [e.kind for e in loyalty.ledger(cid)]
    assert kinds == ["redemption_cancelled", "redemption", "adjustment"]
    listed = loyalty.stub.ListRedemptions(lpb.ListRedemptionsRequest(customer_id=cid), metadata=as_("rep-a"))
    assert [x.state for x in listed.redemptions] == ["cancelled"]


def test_more_points_than_held_changes_nothing(loyalty, phone):
    cid = funded(loyalty, phone, 99)
    r = reward(loyalty, cost=100, stock=1)
    assert violation(lambda: redeem(loyalty, cid, r.reward_id)) == "POINTS"
    assert loyalty.account(cid).balance == 99
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 1


def test_an_exhausted_reward_changes_nothing(loyalty, phone):
    cid = funded(loyalty, phone, 500)
    r = reward(loyalty, cost=100, stock=1)
    redeem(loyalty, cid, r.reward_id)
    assert violation(lambda: redeem(loyalty, cid, r.reward_id)) == "STOCK"
    assert loyalty.account(cid).balance == 400


def test_the_per_customer_limit(loyalty, phone):
    cid = funded(loyalty, phone, 1000)
    r = reward(loyalty, cost=100, stock=10, limit=1)
    redeem(loyalty, cid, r.reward_id)
    assert violation(lambda: redeem(loyalty, cid, r.reward_id)) == "LIMIT"
    assert loyalty.account(cid).balance == 900
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 9


def test_validity_and_retired_rewards(loyalty, phone):
    cid = funded(loyalty, phone, 1000)
    later = reward(loyalty, valid_from=common_pb2.Date(year=2026, month=6, day=1))
    assert violation(lambda: redeem(loyalty, cid, later.reward_id)) == "VALIDITY"
    gone = reward(loyalty)
    loyalty.stub.DeleteReward(lpb.DeleteRewardRequest(reward_id=gone.reward_id), metadata=ADMIN)
    assert violation(lambda: redeem(loyalty, cid, gone.reward_id)) == "VALIDITY"
    assert loyalty.account(cid).balance == 1000


def test_the_last_units_go_to_as_many_redemptions_as_there_are_units(loyalty, phone):
    r = reward(loyalty, cost=10, stock=3)
    customers = [funded(loyalty, phone, 10) for _ in range(6)]
    outcomes = race(6, lambda i: redeem(loyalty, customers[i], r.reward_id))
    assert sum(1 for o in outcomes if isinstance(o, lpb.Redemption)) == 3
    assert sum(1 for o in outcomes if o == grpc.StatusCode.FAILED_PRECONDITION) == 3
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 0
    assert sorted(loyalty.account(c).balance for c in customers) == [0, 0, 0, 10, 10, 10]


def test_the_catalogue_is_kept_by_managers_and_admins(loyalty):
    code, _ = code_and_detail(lambda: reward(loyalty, who=as_("rep-a")))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    r = reward(loyalty, who=as_("boss", "manager"))
    changed = loyalty.stub.UpdateReward(lpb.UpdateRewardRequest(
        reward=lpb.Reward(reward_id=r.reward_id, points_cost=250), update_mask=["points_cost"], add_stock=5),
        metadata=ADMIN)
    assert changed.points_cost == 250 and changed.stock == 10 and changed.name == r.name
    listed = all_pages(lambda token: loyalty.stub.ListRewards(lpb.ListRewardsRequest(
        available_only=True, page_size=50, page_token=token), metadata=as_("rep-a")), "rewards")
    assert r.reward_id in {x.reward_id for x in listed}


def test_bad_rewards_name_the_field(loyalty):
    for fields, name in (({"cost": 0}, "points_cost"), ({"stock": -1}, "stock"), ({"name": ""}, "name")):
        with pytest.raises(grpc.RpcError) as err:
            reward(loyalty, **fields)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and name in str(details_of(err.value))


def test_unknown_reward_and_customer_are_not_found(loyalty, phone):
    cid = funded(loyalty, phone, 100)
    code, _ = code_and_detail(lambda: redeem(loyalty, cid, "rwd_" + "a" * 24))
    assert code == grpc.StatusCode.NOT_FOUND
    r = reward(loyalty)
    code, _ = code_and_detail(lambda: redeem(loyalty, "cus_" + "b" * 24, r.reward_id))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = code_and_detail(lambda: redeem(loyalty, cid, r.reward_id, who=as_("rep-b")))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = code_and_detail(lambda: redeem(loyalty, cid, r.reward_id, who=as_("ag", "agent")))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert loyalty.account(cid).balance == 100


def test_a_hold_left_by_a_dead_process_is_settled_by_the_sweep(loyalty, phone):
    from crm_loyalty.rewards.service import redemption_id_for
    from crm_loyalty.rewards.store import reward_keys

    cid = funded(loyalty, phone, 100)
    r = reward(loyalty, cost=100, stock=1)
    rewards = loyalty.app.features["rewards"]
    rid = redemption_id_for(cid, "died")
    # the stock step happened, then the process died before the points step
    rewards.scripts.reserve(keys=reward_keys(r.reward_id), args=[
        int(loyalty.clock().timestamp() * 1000), loyalty.clock().date().toordinal(), rid,
        f"reserved|{cid}|redeem:died"])
    loyalty.clock.advance(minutes=5)
    assert rewards.sweep_holds() >= 1
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 1
    code, _ = code_and_detail(lambda: redeem(loyalty, cid, r.reward_id, request_id="died"))
    assert code == grpc.StatusCode.ABORTED  # the request was given up; a new one works
    redeem(loyalty, cid, r.reward_id)
    assert loyalty.account(cid).balance == 0


def test_a_cancellation_left_half_done_is_finished_by_the_sweep(loyalty, phone):
    from crm_loyalty.rewards.store import reward_keys

    rewards = loyalty.app.features["rewards"]
    cid = funded(loyalty, phone, 200)
    r = reward(loyalty, cost=100, stock=2)
    first, second = redeem(loyalty, cid, r.reward_id), redeem(loyalty, cid, r.reward_id)
    keys = reward_keys(r.reward_id)
    now_ms = int(loyalty.clock().timestamp() * 1000)
    # the first cancellation died after returning the points, the second before
    rewards.scripts.returning(keys=keys, args=[first.redemption_id, now_ms])
    loyalty.accounts.scripts.run("cancel", cid, loyalty.clock(), loyalty.clock().date(), "evt_x", first.redemption_id)
    rewards.scripts.returning(keys=keys, args=[second.redemption_id, now_ms])
    loyalty.clock.advance(minutes=5)
    assert rewards.sweep_holds() >= 2
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 1
    assert loyalty.account(cid).balance == 100
    # the second is still active and its unit still taken; cancelling it now returns both
    loyalty.stub.CancelRedemption(lpb.CancelRedemptionRequest(customer_id=cid, redemption_id=second.redemption_id),
                                  metadata=as_("rep-a"))
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 2
    assert loyalty.account(cid).balance == 200


def test_odd_requests_are_refused_naming_the_field(loyalty, phone):
    cid = funded(loyalty, phone, 100)
    r = reward(loyalty, cost=10, stock=1)
    code, _ = code_and_detail(lambda: loyalty.stub.RedeemReward(lpb.RedeemRewardRequest(
        customer_id=cid, reward_id=r.reward_id), metadata=as_("rep-a")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT  # no request id
    code, _ = code_and_detail(lambda: loyalty.stub.UpdateReward(lpb.UpdateRewardRequest(
        reward=lpb.Reward(reward_id=r.reward_id), update_mask=["stock"]), metadata=ADMIN))
    assert code == grpc.StatusCode.INVALID_ARGUMENT  # stock changes only through add_stock
    assert violation(lambda: loyalty.stub.UpdateReward(lpb.UpdateRewardRequest(
        reward=lpb.Reward(reward_id=r.reward_id), add_stock=-2), metadata=ADMIN)) == "STOCK"
    code, _ = code_and_detail(lambda: loyalty.stub.ListLedger(lpb.ListLedgerRequest(
        customer_id=cid, page_token="not-a-token"), metadata=ADMIN))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, _ = code_and_detail(lambda: loyalty.stub.CancelRedemption(lpb.CancelRedemptionRequest(
        customer_id=cid, redemption_id="rdm_" + "c" * 24), metadata=as_("rep-a")))
    assert code == grpc.StatusCode.NOT_FOUND
    assert loyalty.account(cid).balance == 100
    assert loyalty.stub.GetReward(lpb.GetRewardRequest(reward_id=r.reward_id), metadata=ADMIN).stock == 1


def test_redemptions_page_newest_first(loyalty, phone):
    cid = funded(loyalty, phone, 50)
    r = reward(loyalty, cost=10, stock=5)
    made = [redeem(loyalty, cid, r.reward_id).redemption_id for _ in range(5)]
    got = all_pages(lambda token: loyalty.stub.ListRedemptions(lpb.ListRedemptionsRequest(
        customer_id=cid, page_size=2, page_token=token), metadata=as_("rep-a")), "redemptions")
    assert [x.redemption_id for x in got] == list(reversed(made))
