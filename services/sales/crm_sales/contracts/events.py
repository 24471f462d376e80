"""The domain events contracts cause (ids, dates and days only, never the
title or the reasons: they may name people), and what they consume."""

from __future__ import annotations

import datetime as dt

from crm.events.v1 import events_pb2 as pb
from crm_kit.events import envelope as ev
from crm_kit.events.bus import stream_for
from crm_kit.events.consumer import EventConsumer

from crm_sales.contracts.model import Contract
from crm_sales.owner_changes import owner_change_handler
from crm_sales.wire import date_pb

PRODUCER = "sales"


def expiring(c: Contract, today: dt.date) -> ev.Envelope:
    return ev.new_event(ev.CONTRACT_EXPIRING, c.id, pb.ContractExpiring(
        contract_id=c.id, customer_id=c.customer_id, owner_id=c.owner_id, end_date=date_pb(c.end),
        days_left=(c.end - today).days, renewal_opportunity_id=c.renewal_opportunity_id), PRODUCER)


# What contracts consume from the customer service's stream, in their own group.
CUSTOMER_GROUP = "sales-contracts"
# An erasure must not be given up on after a short outage: retried every 5 s for about a day.
ERASURE_RETRY_DELAY_MS = 5000
ERASURE_MAX_DELIVERIES = 20_000


def customer_consumer(events_redis, contracts, consumer_name: str) -> EventConsumer:
    """customer.owner_changed: live contracts follow the new owner
    (crm_sales.owner_changes). customer.erased: the contracts' free text is
    stripped. Both effects are idempotent, so a redelivery is harmless."""
    follow = owner_change_handler("contracts", contracts.follow_owner)

    def handle(envelope) -> None:
        if envelope.type == ev.CUSTOMER_ERASED:
            contracts.erase_customer(ev.payload_of(envelope).customer_id)
        else:
            follow(envelope)

    return EventConsumer(events_redis, CUSTOMER_GROUP, consumer_name, [stream_for("customer")], handle,
                         max_deliveries=ERASURE_MAX_DELIVERIES, retry_delay_ms=ERASURE_RETRY_DELAY_MS)
