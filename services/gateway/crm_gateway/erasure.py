"""Erasure reaches the gateway's own store: replayed answers go.

The gateway keeps the first answer of every POST with an `Idempotency-Key`
for 24 hours (idempotency.py); the answer to creating a customer holds the
customer's name, phones and e-mails. Each stored answer that names a
customer is indexed under that customer (`idem:customer:<id>`), and a
consumer of `customer.erased` (group "gateway", every worker a consumer of
it) deletes the indexed answers. Deleting is idempotent, so an event handled
twice (a worker killed mid-way, XAUTOCLAIM) does no harm; the entry is
acknowledged only after the delete.
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


def forget_customer(client: redis.Redis, customer_id: str) -> int:
    """Delete every stored answer that names the customer, then the index."""
    index = index_key(customer_id)
    stored = client.smembers(index)
    pipe = client.pipeline(transaction=True)
    for key in stored:
        pipe.delete(key)
    pipe.delete(index)
    pipe.execute()
    return len(stored)


def erasure_consumer(events: redis.Redis, gateway_store: redis.Redis) -> EventConsumer:
    def handle(envelope) -> None:
        if envelope.type != ev.CUSTOMER_ERASED:
            return
        customer_id = ev.payload_of(envelope).customer_id
        removed = forget_customer(gateway_store, customer_id)
        log.info("erased stored answers", extra={"fields": {"event_id": envelope.event_id, "answers": removed}})

    name = f"{socket.gethostname()}-{os.getpid()}"
    return EventConsumer(events, GROUP, name, [stream_for("customer")], handle, start_id="$")
