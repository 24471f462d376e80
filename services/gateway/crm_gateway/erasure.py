"""Erasure reaches the gateway's own store: replayed answers go.

The gateway keeps the first answer of every POST with an `Idempotency-Key`
for 24 hours (idempotency.py); the answer to creating a customer holds the
customer's name, phones and e-mails. Each stored answer that names a
customer is indexed under that customer (`idem:customer:<id>`), and a
consumer of `customer.erased` (group "gateway", every worker a consumer of
it) first marks the customer erased (`idem:erased:<id>`, kept as long as an
answer lives), then deletes the indexed answers. An answer stored while the
erasure is under way checks the mark after storing itself and deletes
itself, so in every order nothing survives. Deleting is idempotent, so an
event handled twice (a worker killed mid-way, XAUTOCLAIM) does no harm; the
entry is acknowledged only after the delete, and a gateway Redis outage is
retried for longer than any stored answer lives, never dead-lettered.
"""

from __future__ import annotations

import logging
import os
import socket

import redis

from crm_kit.events import envelope as ev
from crm_kit.events.bus import stream_for
from crm_kit.events.consumer import EventConsumer

log = logging.getLogger("crm.gateway.erasure")

GROUP = "gateway"


def index_key(customer_id: str) -> str:
    return f"idem:customer:{customer_id}"


def customers_named(body: object) -> set[str]:
    """The customer ids an answer is about: its own `id` when it is a
    customer, and any `customer_id` field, at the top level or one level down."""
    found: set[str] = set()
    items = [body] + ([v for v in body.values() if isinstance(v, dict)] if isinstance(body, dict) else [])
    for item in items:
        if not isinstance(item, dict):
            continue
        for name in ("id", "customer_id"):
            value = item.get(name)
            if isinstance(value, str) and value.startswith("cus_") and len(value) <= 64:
                found.add(value)
    return found


def erased_key(customer_id: str) -> str:
    return f"idem:erased:{customer_id}"


# Delivery attempts × the retry delay outlast the 24 h an answer is kept.
RETRY_DELAY_MS = 5000
MAX_DELIVERIES = 20_000


def forget_customer(client: redis.Redis, customer_id: str, ttl_seconds: int = 86400) -> int:
    """Mark the customer erased, then delete every stored answer that names it, and the index."""
    client.set(erased_key(customer_id), b"1", ex=ttl_seconds)
    index = index_key(customer_id)
    stored = client.smembers(index)
    pipe = client.pipeline(transaction=True)
    for key in stored:
        pipe.delete(key)
    pipe.delete(index)
    pipe.execute()
    return len(stored)


def erasure_consumer(events: redis.Redis, gateway_store: redis.Redis, ttl_seconds: int = 86400) -> EventConsumer:
    def handle(envelope) -> None:
        if envelope.type != ev.CUSTOMER_ERASED:
            return
        try:
            customer_id = ev.payload_of(envelope).customer_id
        except ev.EventError:
            log.error("customer.erased without a readable payload", extra={"fields": {"event_id": envelope.event_id}})
            return
        removed = forget_customer(gateway_store, customer_id, ttl_seconds)
        log.info("erased stored answers", extra={"fields": {"event_id": envelope.event_id, "answers": removed}})

    name = f"{socket.gethostname()}-{os.getpid()}"
    return EventConsumer(events, GROUP, name, [stream_for("customer")], handle, start_id="$",
                         max_deliveries=MAX_DELIVERIES, retry_delay_ms=RETRY_DELAY_MS)
