"""A producer process for the fault test: writes claims with events through
the outbox as fast as it can (fast-path relay on) until it is killed.

    python victim_writer.py MONGODB_URI DATABASE EVENTS_REDIS_URL PRODUCER RUN
"""

from __future__ import annotations

import sys
from datetime import timedelta

from crm.events.v1 import events_pb2 as pb
from crm_kit.events.bus import connect
from crm_kit.events.envelope import new_event
from crm_kit.events.outbox import Outbox
from crm_kit.mongo import connect as mongo_connect


def main() -> None:
    uri, database, url, producer, run = sys.argv[1:6]
    db = mongo_connect(uri, "victim-writer")[database]
    outbox = Outbox(db, connect(url), producer, sweep_interval=0.2, sweep_min_age=timedelta(0))
    outbox.start()
    n = 0
    while True:
        n += 1
        claim_id = f"cus_{run}_{n}#1"
        events = [new_event("customer.updated", f"cus_{n}",
                            pb.CustomerUpdated(customer_id=f"cus_{n}", version=1, changed_fields=["stage"]), producer)]
        docs = outbox.stage("claims", claim_id, events)
        db["claims"].insert_one({"_id": claim_id, "events": docs})
        outbox.relay_soon("claims", claim_id, docs)
        print(n, flush=True)


if __name__ == "__main__":
    main()
