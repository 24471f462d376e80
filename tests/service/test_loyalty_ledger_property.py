"""Property test on the real Redis ledger: after any sequence of awards,
redemptions, expiries and clawbacks the balance equals the sum of the lots
and the sum of the history; it is below zero only through a clawback."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from crm_kit.events.envelope import new_event_id
from crm_kit.redis_store import RedisSettings
from crm_loyalty.accounts.store import account_keys
from tests.conftest import server_settings
from tests.service.loyalty_support import SHANGHAI, Clock

START = dt.datetime(2026, 2, 1, 9, tzinfo=SHANGHAI)

operations = st.lists(st.one_of(
    st.tuples(st.just("order"), st.integers(1, 500_000)),
    st.tuples(st.just("redeem"), st.integers(1, 3_000)),
    st.tuples(st.just("days"), st.integers(1, 200)),
    st.tuples(st.just("refund"), st.integers(1, 500_000)),
    st.tuples(st.just("gift"), st.integers(1, 1_000)),
    st.tuples(st.just("reward"), st.integers(1, 3_000)),
    st.tuples(st.just("cancel"), st.integers(0, 10)),
), min_size=1, max_size=25)


@pytest.fixture(scope="module")
def app(stores):
    from crm_loyalty.accounts.model import ExpiryRule
    from crm_loyalty.bootstrap import build
    from crm_loyalty.settings import LoyaltySettings

    clock = Clock(START)
    built = build(LoyaltySettings(server_settings("loyalty"), RedisSettings(stores.redis_url),
                                  expiry=ExpiryRule.parse("months:3")), clock=clock)
    return built


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_the_balance_is_the_sum_of_the_lots(app, ops):
    accounts, clock = app.features["accounts"], app.clock
    clock.at = START
    cid = "cus_" + uuid.uuid4().hex[:24]
    orders: list[tuple[str, int]] = []
    clawed_any = False
    redemptions: list[str] = []
    for i, (kind, n) in enumerate(ops):
        if kind == "order":
            orders.append((f"ord_{i}", n))
            accounts.award_order(cid, f"ord_{i}", n, "CNY")
        elif kind == "gift":
            accounts.award(cid, n, kind="care_gift", request_id=f"g{i}")
        elif kind == "redeem":
            now = clock()
            accounts.scripts.run("debit", cid, now, accounts.today(now), new_event_id(), f"r{i}", n, "spend", "t")
        elif kind == "reward":  # the points step of a redemption
            now = clock()
            if accounts.scripts.run("redeem", cid, now, accounts.today(now), new_event_id(), f"rq{i}", f"rdm_{i}",
                                    "rwd_x", n, 0)[0] == b"applied":
                redemptions.append(f"rdm_{i}")
        elif kind == "cancel":
            if redemptions:
                now = clock()
                accounts.scripts.run("cancel", cid, now, accounts.today(now), new_event_id(),
                                     redemptions[n % len(redemptions)])
        elif kind == "days":
            clock.advance(days=n)
            accounts.expire(cid)
        elif orders:
            order_id, total = orders[n % len(orders)]
            clawed_any |= accounts.claw_back(cid, order_id, f"ref_{i}", min(n, total))
        keys = account_keys(cid)
        balance = int(app.redis.hget(keys[0], "balance") or 0)
        lots = sum(int(v) for v in app.redis.hvals(keys[2]))
        history = sum(int(__import__("json").loads(e)["points"]) for e in app.redis.lrange(keys[3], 0, -1))
        assert balance == lots == history
        assert balance >= 0 or clawed_any
        # no lot outlives its expiry once the job ran
        if kind == "days":
            today = accounts.today().toordinal()
            assert all(score >= today for member, score in app.redis.zrange(keys[1], 0, -1, withscores=True)
                       if member != b"debt")
