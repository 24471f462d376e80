"""A consumer process for the fault test: its handler does part of its
work, pauses, applies the award (RedisOnce), pauses again, then returns (the
ack). The test kills it with SIGKILL somewhere in there.

    python victim_consumer.py URL STREAM GROUP NAME POINTS_KEY PROGRESS_KEY
"""

from __future__ import annotations

import sys
import time

from crm_kit.events.bus import connect
from crm_kit.events.consumer import EventConsumer
from crm_kit.events.once import RedisOnce


def main() -> None:
    url, stream, group, name, points, progress = sys.argv[1:7]
    client = connect(url)
    once = RedisOnce(client, group)

    def handler(env):
        client.rpush(progress, "started")
        time.sleep(0.3)  # part of the work done, the award not yet
        once.apply(env.event_id, [("HINCRBY", points, "balance", 50)])
        client.rpush(progress, "applied")
        # The award done, the ack not yet: longer than the test waits after "started" (at most 0.6 s), so
        # its kill always comes before the ack, also when the test sees "started" late.
        time.sleep(1.5)

    consumer = EventConsumer(client, group, name, [stream], handler, block_ms=100, claim_idle_ms=60_000)
    while True:
        consumer.poll_once()


if __name__ == "__main__":
    main()
