"""Consumers against the real event Redis: ack after the effect, retries,
dead letters, takeover, decide-once, graceful stop, lag."""

from __future__ import annotations

import threading
import time

from prometheus_client import REGISTRY

from crm_kit.events.consumer import EventConsumer
from crm_kit.events.once import MongoOnce, RedisOnce

from tests.events.helpers import created, publish


def consumer(client, stream, handler, dead_letter, group="g", name="c1", **kw):
    kw.setdefault("block_ms", 50)
    kw.setdefault("retry_delay_ms", 0)
    return EventConsumer(client, group, name, [stream], handler, dead_letter_stream=dead_letter, **kw)


def pending(client, stream, group="g") -> int:
    return client.xpending(stream, group)["pending"]


def test_handles_and_acks_after_the_effect(events_redis, stream, dead_letter):
    seen, pending_during = [], []
    envs = [created("cus_1"), created("cus_2")]
    for env in envs:
        publish(events_redis, stream, env)

    def handler(env):
        pending_during.append(pending(events_redis, stream))  # not acked while the effect runs
        seen.append(env)

    c = consumer(events_redis, stream, handler, dead_letter)
    assert c.poll_once() == 2
    assert seen == envs
    assert pending_during == [2, 2]  # acked together once the read's entries are handled
    assert pending(events_redis, stream) == 0
    assert c.poll_once() == 0


def test_group_start_id_is_explicit(events_redis, stream, dead_letter):
    publish(events_redis, stream, created("old"))
    seen_all, seen_new = [], []
    consumer(events_redis, stream, seen_all.append, dead_letter, group="all").poll_once()
    consumer(events_redis, stream, seen_new.append, dead_letter, group="new", start_id="$").poll_once()
    assert [e.subject_id for e in seen_all] == ["old"] and seen_new == []


def test_failure_stays_pending_is_retried_then_dead_lettered(events_redis, stream, dead_letter):
    env = created("cus_3")
    publish(events_redis, stream, env)
    calls = []

    def handler(e):
        calls.append(e.event_id)
        raise RuntimeError("inventory lookup failed")

    c = consumer(events_redis, stream, handler, dead_letter, max_deliveries=3)
    c.poll_once()
    assert len(calls) == 1 and pending(events_redis, stream) == 1
    assert events_redis.xpending_range(stream, "g", "-", "+", 10)[0]["times_delivered"] == 1
    c.poll_once()
    assert len(calls) == 2 and pending(events_redis, stream) == 1
    assert events_redis.xlen(dead_letter) == 0
    c.poll_once()
    assert calls == [env.event_id] * 3
    assert pending(events_redis, stream) == 0  # acked with the dead letter
    (_, fields), = events_redis.xrange(dead_letter)
    assert fields[b"reason"] == b"RuntimeError: inventory lookup failed"
    assert fields[b"id"] == env.event_id.encode() and fields[b"type"] == b"customer.created"
    assert fields[b"group"] == b"g" and fields[b"deliveries"] == b"3" and fields[b"stream"] == stream.encode()
    c.poll_once()
    assert len(calls) == 3
    assert REGISTRY.get_sample_value("crm_events_dead_lettered_total", {"group": "g", "type": "customer.created"}) >= 1


def test_a_transient_failure_succeeds_on_retry(events_redis, stream, dead_letter):
    publish(events_redis, stream, created("cus_4"))
    calls = []

    def handler(e):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("store busy")

    c = consumer(events_redis, stream, handler, dead_letter)
    c.poll_once()
    c.poll_once()
    assert len(calls) == 2 and pending(events_redis, stream) == 0
    assert not events_redis.exists(dead_letter)


def test_undecodable_entry_is_dead_lettered_at_once(events_redis, stream, dead_letter):
    events_redis.xadd(stream, {"id": "evt_bad", "type": "customer.created", "data": b"\xff\xfe"})
    c = consumer(events_redis, stream, lambda e: None, dead_letter)
    c.poll_once()
    assert pending(events_redis, stream) == 0
    (_, fields), = events_redis.xrange(dead_letter)
    assert fields[b"reason"].startswith(b"undecodable")


def test_a_poisoned_type_field_wedges_nothing(events_redis, stream, dead_letter):
    """Stream entries are input: a `type` that is not UTF-8 (or made up) is
    handled like any entry, and the good entries around it go through."""
    good = [created(f"cus_p{i}") for i in range(3)]
    events_redis.xadd(stream, {"id": good[0].event_id, "type": b"\xff\xfe", "data": good[0].SerializeToString()})
    events_redis.xadd(stream, {"id": "evt_x", "type": "made.up", "data": b"\xff"})
    for env in good[1:]:
        publish(events_redis, stream, env)
    seen = []
    c = consumer(events_redis, stream, lambda e: seen.append(e.event_id), dead_letter)
    while c.poll_once():
        pass
    assert seen == [e.event_id for e in good]  # the envelope says what it is; the odd field label does not matter
    assert pending(events_redis, stream) == 0
    assert events_redis.xlen(dead_letter) == 1  # the undecodable one, with its reason
    labels = {s.labels.get("type") for m in REGISTRY.collect() if m.name.startswith("crm_events_")
              for s in m.samples if "type" in s.labels}
    assert "made.up" not in labels and not any("\ufffd" in (v or "") for v in labels)


def test_autoclaim_takes_over_a_dead_consumers_entry(events_redis, stream, dead_letter):
    env = created("cus_5")
    publish(events_redis, stream, env)
    consumer(events_redis, stream, lambda e: None, dead_letter).ensure_groups()
    # A consumer reads the entry and dies before acking.
    events_redis.xreadgroup("g", "dead", {stream: ">"}, count=10)
    assert pending(events_redis, stream) == 1
    seen = []
    live = consumer(events_redis, stream, seen.append, dead_letter, name="live", claim_idle_ms=100)
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        live.poll_once()
    assert seen == [env]
    assert pending(events_redis, stream) == 0


def test_entry_whose_consumers_keep_dying_is_dead_lettered_without_running(events_redis, stream, dead_letter):
    publish(events_redis, stream, created("cus_6"))
    consumer(events_redis, stream, lambda e: None, dead_letter).ensure_groups()
    (entry_id, _), = events_redis.xreadgroup("g", "dead-1", {stream: ">"})[0][1]
    for n in range(2, 5):  # claimed by consumers that die too: delivery 4
        events_redis.xclaim(stream, "g", f"dead-{n}", 0, [entry_id])
    calls = []
    live = consumer(events_redis, stream, calls.append, dead_letter, name="live", max_deliveries=3, claim_idle_ms=1)
    time.sleep(0.01)
    live.poll_once()
    assert calls == []  # a poison entry that kills its consumers is not run again
    assert pending(events_redis, stream) == 0
    (_, fields), = events_redis.xrange(dead_letter)
    assert fields[b"deliveries"] == b"5" and b"without an ack" in fields[b"reason"]


def test_redis_once_applies_a_twice_delivered_event_once(events_redis, stream, dead_letter, producer):
    env = created("cus_7")
    publish(events_redis, stream, env)
    publish(events_redis, stream, env)  # the outbox sweep published it again
    points, ledger = f"{producer}:points:cus_7", f"{producer}:ledger:cus_7"
    once = RedisOnce(events_redis, f"{producer}-loyalty")
    results = []

    def handler(e):
        results.append(once.apply(e.event_id, [("HINCRBY", points, "balance", 50), ("RPUSH", ledger, e.event_id)]))

    c = consumer(events_redis, stream, handler, dead_letter)
    assert c.poll_once() == 2
    assert results == [True, False]
    assert events_redis.hget(points, "balance") == b"50"
    assert events_redis.lrange(ledger, 0, -1) == [env.event_id.encode()]
    assert once.done(env.event_id)
    assert 0 < events_redis.ttl(once.marker(env.event_id)) <= once.ttl


def test_redis_once_transaction_reads_then_writes_once(events_redis, producer):
    once = RedisOnce(events_redis, f"{producer}-tier")
    key = f"{producer}:tier"
    events_redis.set(key, 10)

    def build(pipe):
        current = int(pipe.get(key))
        pipe.multi()
        pipe.set(key, current * 2)

    assert once.transaction("evt_a", build, watch=[key]) is True
    assert once.transaction("evt_a", build, watch=[key]) is False
    assert events_redis.get(key) == b"20"


def test_mongo_once(producer_db):
    once = MongoOnce(producer_db["events_done"], "sales")
    assert not once.done("evt_1")
    once.mark("evt_1")
    once.mark("evt_1")
    assert once.done("evt_1")
    assert producer_db["events_done"].find_one({"_id": "sales:evt_1"}) is not None
    assert once.claim("evt_2") is True and once.claim("evt_2") is False


def test_graceful_stop_finishes_the_entry_in_hand(events_redis, stream, dead_letter):
    env = created("cus_8")
    in_hand, release, finished = threading.Event(), threading.Event(), []

    def handler(e):
        in_hand.set()
        release.wait(10)
        finished.append(e.event_id)

    c = consumer(events_redis, stream, handler, dead_letter)
    thread = c.start()
    publish(events_redis, stream, env)
    assert in_hand.wait(10)
    c._stop.set()  # what stop() does first; the handler is still running
    assert pending(events_redis, stream) == 1
    release.set()
    c.stop(10)
    assert not thread.is_alive()
    assert finished == [env.event_id]
    assert pending(events_redis, stream) == 0
    publish(events_redis, stream, created("cus_9"))  # nothing is read after stop
    time.sleep(0.1)
    assert finished == [env.event_id]


def test_lag_and_pending_gauges(events_redis, stream, dead_letter):
    c = consumer(events_redis, stream, lambda e: None, dead_letter, group="lagging")
    c.ensure_groups()
    for n in range(3):
        publish(events_redis, stream, created(f"cus_{n}"))
    c.update_lag()
    assert REGISTRY.get_sample_value("crm_events_consumer_lag", {"group": "lagging", "stream": stream}) == 3
    c.poll_once()
    c.update_lag()
    assert REGISTRY.get_sample_value("crm_events_consumer_lag", {"group": "lagging", "stream": stream}) == 0
    assert REGISTRY.get_sample_value("crm_events_processed_total",
                                     {"group": "lagging", "type": "customer.created"}) >= 3


def test_a_batch_handler_takes_one_read_at_once_and_a_failed_batch_is_retried_entry_by_entry(
        events_redis, stream, dead_letter):
    envs = [created(f"cus_b{i}") for i in range(4)]
    for env in envs:
        publish(events_redis, stream, env)
    batches, pending_during = [], []

    def handle_batch(batch):
        pending_during.append(pending(events_redis, stream))  # acked only after the whole batch
        batches.append([e.subject_id for e in batch])
        if len(batches) == 1:
            raise RuntimeError("the summary store did not answer")

    c = EventConsumer(events_redis, "g", "c1", [stream], None, dead_letter_stream=dead_letter, block_ms=50,
                      retry_delay_ms=0, count=10, batch_handler=handle_batch)
    assert c.poll_once() == 4
    assert batches == [["cus_b0", "cus_b1", "cus_b2", "cus_b3"]] and pending(events_redis, stream) == 4
    c.poll_once()  # the retries: a batch of one each
    assert batches[1:] == [["cus_b0"], ["cus_b1"], ["cus_b2"], ["cus_b3"]]
    assert pending(events_redis, stream) == 0 and events_redis.xlen(dead_letter) == 0
    publish(events_redis, stream, created("cus_b4"))
    publish(events_redis, stream, created("cus_b5"))
    c.poll_once()
    assert batches[-1] == ["cus_b4", "cus_b5"] and pending_during[-1] == 2 and pending(events_redis, stream) == 0
