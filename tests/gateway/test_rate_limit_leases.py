"""Leased rate-limit budgets (ratelimit.py): a worker takes several requests
of a large budget in one Redis round trip. Each RateLimiter below stands for
one gunicorn worker; they share the test Redis as workers do. What must hold:
together they never serve more than the budget, a worker holds one lease of
a budget at a time, what a lease did not serve goes back with the next round
trip, the headers count down as without a lease, small budgets lease
nothing, and a check that timed out is not sent again (a second run would
give a refund back twice)."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import redis

from crm_gateway.ratelimit import RateLimiter, RateLimitSettings

ROLES = ("admin", "manager", "rep", "agent", "finance", "integration")
DAY = 86400  # a window that does not turn during a test (checked below)


def limiter(stores, rep_budget: int, window: int = DAY) -> RateLimiter:
    return RateLimiter(RateLimitSettings(window_seconds=window, per_role={r: rep_budget for r in ROLES}),
                       stores.redis_url)


def principal() -> str:
    return f"sub:lease-{uuid.uuid4().hex[:10]}"


def counted(stores, key: str, window: int = DAY) -> int:
    """What Redis counts as used in this window for `key`'s rep budget."""
    client = redis.Redis.from_url(stores.redis_url)
    try:
        index = int(client.time()[0]) // window
        return int(client.get(f"rl:{{rep:{key}}}:{index}") or 0)
    finally:
        client.close()


def away_from_the_turn(window: int = DAY, margin: float = 5.0) -> None:
    seconds_in = time.time() % window
    if seconds_in > window - margin:
        time.sleep(window - seconds_in + 0.5)


def test_two_workers_with_threads_never_serve_more_than_the_budget(stores):
    away_from_the_turn()
    budget, key = 1000, principal()
    workers = [limiter(stores, budget), limiter(stores, budget)]
    assert workers[0].lease_size(budget) == 10
    with ThreadPoolExecutor(8) as pool:
        decisions = list(pool.map(lambda i: workers[i % 2].check("rep", key), range(budget + 300)))
    assert all(d is not None for d in decisions)
    served = sum(d.allowed for d in decisions)
    assert served == budget  # every leased request was served by its worker before it asked again
    assert all(d.remaining == 0 and d.reset_seconds >= 1 for d in decisions if not d.allowed)
    assert counted(stores, key) == budget


def test_the_headers_count_down_through_a_lease_as_without_one(stores):
    away_from_the_turn()
    budget, key = 1000, principal()
    worker = limiter(stores, budget)
    remaining = [worker.check("rep", key).remaining for _ in range(25)]
    assert remaining == list(range(budget - 1, budget - 26, -1))
    assert counted(stores, key) == 30  # three leases of 10 taken, 25 served


def test_an_unused_lease_goes_back_with_the_next_round_trip(stores):
    away_from_the_turn()
    budget, key = 1000, principal()
    worker = limiter(stores, budget)
    worker.LEASE_SECONDS = 0.05
    assert worker.check("rep", key).remaining == budget - 1
    assert counted(stores, key) == 10  # one served, nine held
    time.sleep(0.1)  # the lease is over
    other = limiter(stores, budget)  # another worker sees all but what is held or served
    assert other.check("rep", key).remaining == budget - 1 - 10
    after = worker.check("rep", key)  # gives back nine, takes ten
    assert after.remaining == budget - 3 - 9  # three served; the other worker holds nine
    assert counted(stores, key) == 1 + 10 + 10


def test_a_refused_principal_is_refused_by_every_worker_within_the_window(stores):
    away_from_the_turn()
    budget, key = 200, principal()
    first, second = limiter(stores, budget), limiter(stores, budget)
    assert first.lease_size(budget) == 2
    served = sum(first.check("rep", key).allowed for _ in range(budget))
    assert served == budget
    refused = [second.check("rep", key), first.check("rep", key)]
    assert [d.allowed for d in refused] == [False, False]
    assert all(1 <= d.reset_seconds <= DAY for d in refused)


def test_small_budgets_lease_nothing(stores):
    worker = limiter(stores, 199)
    assert worker.lease_size(199) == 1 and worker.lease_size(30) == 1 and worker.lease_size(60) == 1
    key = principal()
    worker.check("rep", key)
    assert counted(stores, key) == 1
    assert worker.lease_size(10**7) == RateLimiter.LEASE_MAX


def test_a_worker_holds_one_lease_of_a_budget_while_its_threads_miss_at_once(stores):
    away_from_the_turn()
    budget, key, threads = 1000, principal(), 8
    worker = limiter(stores, budget)
    start = threading.Barrier(threads)

    def one(_):
        start.wait()
        return worker.check("rep", key)

    with ThreadPoolExecutor(threads) as pool:
        decisions = list(pool.map(one, range(threads)))
    assert all(d.allowed for d in decisions)
    # one lease of 10 and, at most, the other threads' own requests while it was being taken
    assert counted(stores, key) <= worker.lease_size(budget) + threads - 1


def test_a_check_that_timed_out_is_served_and_not_sent_again(stores):
    """Redis busy for longer than the limiter's socket timeout (a script of
    0.8 s holds it): the check fails open, and the script it sent runs once
    when Redis is free again, so the lease is counted once, not per retry."""
    worker = limiter(stores, 1000)
    worker.check("rep", principal())  # connected, script loaded
    key, busy = principal(), redis.Redis.from_url(stores.redis_url)
    hold = threading.Thread(target=lambda: busy.eval(
        "local t = redis.call('TIME') local t0 = t[1] + t[2] / 1e6 local now = t0 "
        "while now - t0 < 0.8 do t = redis.call('TIME') now = t[1] + t[2] / 1e6 end return 1", 0))
    try:
        hold.start()
        time.sleep(0.1)  # the script is running
        assert worker.check("rep", key) is None  # fail open: served without a check
    finally:
        hold.join()
        busy.close()
    assert counted(stores, key) == worker.lease_size(1000)
