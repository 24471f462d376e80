"""Events the care plans consume: customer.erased erases the customer's
claims and delivery log (idempotent: erasing twice is erasing).

customer.consent_changed needs no handler: consent is read from the customer
service as each page of a run is greeted, never copied here. Nor does
customer.created: the run greets every account the accounts feature opened.
"""

from __future__ import annotations

import redis

from crm_kit.events import envelope as ev
from crm_kit.events.bus import stream_for
from crm_kit.events.consumer import EventConsumer

from crm_loyalty.greetings.store import GreetingStore

GROUP = "loyalty-greetings"


def erasure_follower(events_redis: redis.Redis, store: GreetingStore, consumer_name: str) -> EventConsumer:
    def handle(envelope: ev.Envelope) -> None:
        if envelope.type == ev.CUSTOMER_ERASED:
            store.erase(ev.payload_of(envelope).customer_id)

    return EventConsumer(events_redis, GROUP, consumer_name, [stream_for("customer")], handle)
