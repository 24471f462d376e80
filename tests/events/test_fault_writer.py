"""A producer process killed with SIGKILL at a random moment of its
write → stage → claim → relay cycle: after a new process's sweep, every
claim's events are on the stream and nothing else is (DESIGN.md section 5:
a producer never loses an event after its own write succeeded)."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from crm_kit.events.outbox import Outbox

from tests.events.helpers import ids_in

VICTIM = Path(__file__).with_name("victim_writer.py")


def test_writer_killed_anywhere_loses_no_event(producer_db, events_redis, stores, stream, producer):
    rng = random.Random()
    for run in range(3):
        proc = subprocess.Popen([sys.executable, str(VICTIM), stores.mongodb_uri, producer_db.name,
                                 stores.events_redis_url, producer, str(run)], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline(), "writer never wrote"
            time.sleep(rng.uniform(0.05, 0.5))
        finally:
            proc.kill()
            proc.wait()
    # A write the killed writer had sent may still be landing in FerretDB (its handler outlives the client):
    # "the next start-up" comes once the store has settled, as a restart would.
    settled(lambda: (producer_db["claims"].count_documents({}), producer_db["outbox"].count_documents({})))
    claimed = {d["id"] for c in producer_db["claims"].find({}) for d in c.get("events", [])}
    assert claimed
    counts = Outbox(producer_db, events_redis, producer, sweep_min_age=timedelta(0)).sweep()  # the next start-up
    print("claims:", len(claimed), "sweep:", counts)
    published = set(ids_in(events_redis, stream))
    assert claimed <= published  # nothing lost
    assert published <= claimed  # nothing from a write that did not happen
    left = list(producer_db["outbox"].find({}))
    assert all(producer_db["claims"].find_one({"_id": i["claim"]}) is None for i in left)  # only unclaimed intents


def settled(read, quiet_polls: int = 3, every: float = 0.2, seconds: float = 15.0) -> None:
    """Until read() has answered the same `quiet_polls` times in a row (at most `seconds`)."""
    deadline, last, same = time.monotonic() + seconds, None, 0
    while time.monotonic() < deadline and same < quiet_polls:
        now = read()
        same = same + 1 if now == last else 0
        last = now
        time.sleep(every)
