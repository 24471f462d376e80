"""A consumer process killed with SIGKILL in the middle of its effect: after
another consumer takes the entry over (XAUTOCLAIM), the effect happened
exactly once. Real processes, real Redis; invariants only."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

from crm_kit.events.consumer import EventConsumer
from crm_kit.events.once import RedisOnce

from tests.events.helpers import created, publish

VICTIM = Path(__file__).with_name("victim_consumer.py")
ROUNDS = 5


def test_killed_mid_effect_then_taken_over_applies_once(events_redis, events_redis_url, stream, producer, dead_letter):
    group = f"{producer}-loyalty"
    rng = random.Random()
    windows = []
    for n in range(ROUNDS):
        env = created(f"cus_{n}")
        points, progress = f"{producer}:points:{n}", f"{producer}:progress:{n}"
        victim = subprocess.Popen([sys.executable, str(VICTIM), events_redis_url, stream, group, f"victim-{n}",
                                   points, progress], stdin=subprocess.DEVNULL)
        try:
            publish(events_redis, stream, env)
            deadline = time.monotonic() + 30
            while not events_redis.lrange(progress, 0, -1) and time.monotonic() < deadline:
                assert victim.poll() is None, "victim exited"
                time.sleep(0.01)
            assert events_redis.lrange(progress, 0, -1), "victim never started its effect"
            time.sleep(rng.uniform(0.0, 0.6))  # before the award, after it, or around it
        finally:
            victim.kill()
            victim.wait()
        windows.append(len(events_redis.lrange(progress, 0, -1)))  # 1: killed before the award, 2: after
        assert events_redis.xpending(stream, group)["pending"] == 1  # never acked

        once = RedisOnce(events_redis, group)
        survivor = EventConsumer(events_redis, group, f"survivor-{n}", [stream],
                                 lambda e: once.apply(e.event_id, [("HINCRBY", points, "balance", 50)]),
                                 dead_letter_stream=dead_letter, block_ms=50, claim_idle_ms=200)
        deadline = time.monotonic() + 30
        while events_redis.xpending(stream, group)["pending"] and time.monotonic() < deadline:
            survivor.poll_once()
        assert events_redis.xpending(stream, group)["pending"] == 0
        assert events_redis.hget(points, "balance") == b"50"  # exactly once
        assert once.done(env.event_id)
    assert not events_redis.exists(dead_letter)
    print("kill windows (1 = before the award, 2 = after):", windows)
