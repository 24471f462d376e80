"""What the pipeline consumes: `customer.owner_changed` from the customer
service's stream, so open opportunities follow the customer's new owner.

Its own consumer group ("sales-opportunities"), so it sees every event
whatever the other sales consumers do. Applying an event is idempotent
without a marker: `follow_owner` sets absolute values and ignores a change
older than the last one applied (by the event's time), so a redelivery, or
an older event retried after a newer one, moves nothing.
"""

from __future__ import annotations

import logging
from datetime import timezone

import redis

from crm_kit.events import envelope as ev
from crm_kit.events.bus import stream_for
from crm_kit.events.consumer import EventConsumer

from crm_sales.opportunities.service import OpportunityService

log = logging.getLogger("crm.sales.opportunities")

GROUP = "sales-opportunities"


def owner_change_handler(opportunities: OpportunityService):
    def handle(envelope) -> None:
        if envelope.type != ev.CUSTOMER_OWNER_CHANGED:
            return
        try:
            change = ev.payload_of(envelope)
        except ev.EventError:
            log.error("customer.owner_changed without a readable payload",
                      extra={"fields": {"event_id": envelope.event_id}})
            return
        as_of = envelope.occurred_at.ToDatetime(tzinfo=timezone.utc) if envelope.HasField("occurred_at") else None
        moved = opportunities.follow_owner(change.customer_id, change.to_owner_id, change.to_team_id, as_of)
        if moved:
            log.info("opportunities followed the owner", extra={"fields": {
                "event_id": envelope.event_id, "customer_id": change.customer_id, "moved": moved}})
    return handle


def owner_change_consumer(events: redis.Redis, opportunities: OpportunityService, name: str) -> EventConsumer:
    return EventConsumer(events, GROUP, name, [stream_for("customer")], owner_change_handler(opportunities))
