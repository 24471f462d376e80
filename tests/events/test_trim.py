"""Trimming by age never removes an entry some group has not acknowledged."""

from __future__ import annotations

import time

from crm_kit.events.trim import trim_floor, trim_stream

DAY_MS = 86400 * 1000
RETENTION = 7 * 86400


def fill(client, stream, ages_days):
    now = int(time.time() * 1000)
    ids = []
    for n, age in enumerate(ages_days):
        ids.append(client.xadd(stream, {"id": f"evt_{n}", "type": "t", "data": b""}, id=f"{now - int(age * DAY_MS)}-{n}"))
    return ids


def test_trims_by_age_without_groups(events_redis, stream):
    ids = fill(events_redis, stream, [10, 9, 8, 1, 0])
    assert trim_stream(events_redis, stream, RETENTION) == 3
    assert [i for i, _ in events_redis.xrange(stream)] == ids[3:]


def test_never_past_an_unacknowledged_entry(events_redis, stream):
    ids = fill(events_redis, stream, [10, 10, 10, 9, 9, 0])
    events_redis.xgroup_create(stream, "g", id="0")
    events_redis.xreadgroup("g", "c", {stream: ">"})  # all six delivered
    events_redis.xack(stream, "g", *[i for n, i in enumerate(ids) if n != 2])  # the third stays pending
    assert trim_floor(events_redis, stream) == tuple(int(x) for x in ids[2].decode().split("-"))
    assert trim_stream(events_redis, stream, RETENTION) == 2
    assert [i for i, _ in events_redis.xrange(stream)] == ids[2:]
    events_redis.xack(stream, "g", ids[2])
    assert trim_stream(events_redis, stream, RETENTION) == 3
    assert [i for i, _ in events_redis.xrange(stream)] == ids[5:]


def test_never_past_what_a_group_has_not_been_given(events_redis, stream):
    ids = fill(events_redis, stream, [10, 10, 9, 0])
    events_redis.xgroup_create(stream, "fast", id="0")
    events_redis.xreadgroup("fast", "c", {stream: ">"})
    events_redis.xack(stream, "fast", *ids)
    events_redis.xgroup_create(stream, "slow", id="0")
    events_redis.xreadgroup("slow", "c", {stream: ">"}, count=1)
    events_redis.xack(stream, "slow", ids[0])  # slow has read only the first
    assert trim_stream(events_redis, stream, RETENTION) == 1
    assert [i for i, _ in events_redis.xrange(stream)] == ids[1:]
    events_redis.xgroup_create(stream, "new", id="0")  # a group that has read nothing holds everything
    assert trim_stream(events_redis, stream, RETENTION) == 0
    assert events_redis.xlen(stream) == 3


def test_missing_stream(events_redis, stream):
    assert trim_stream(events_redis, stream, RETENTION) == 0
