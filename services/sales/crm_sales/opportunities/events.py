"""What the pipeline consumes from the customer service's stream:
`customer.owner_changed`, so open opportunities follow the customer's new
owner, and `customer.erased`, which strips their free text (titles and
reasons may name the person).

Its own consumer group ("sales-opportunities"), so it sees every event
whatever the other sales consumers do. Applying an event is idempotent
without a marker: `follow_owner` sets absolute values and ignores a change
older than the last one applied (by the event's time), so a redelivery, or
an older event retried after a newer one, moves nothing; erasing again
finds nothing left to strip.
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
# Neither an ownership change nor an erasure may be dropped because the store
# was down for a while: retried every 5 s for about a day before the dead letters.
RETRY_DELAY_MS = 5000
MAX_DELIVERIES = 20_000


def customer_event_handler(opportunities: OpportunityService):
    def handle(envelope) -> None:
        if envelope.type not in (ev.CUSTOMER_ERASED, ev.CUSTOMER_OWNER_CHANGED):
            return
        try:
            change = ev.payload_of(envelope)
        except ev.EventError:  # retrying would not make it readable
            log.error("customer event without a readable payload",
                      extra={"fields": {"event_id": envelope.event_id, "type": envelope.type}})
            return
        if envelope.type == ev.CUSTOMER_ERASED:
            opportunities.erase_customer(change.customer_id)
            return
        as_of = envelope.occurred_at.ToDatetime(tzinfo=timezone.utc) if envelope.HasField("occurred_at") else None
        moved = opportunities.follow_owner(change.customer_id, change.to_owner_id, change.to_team_id, as_of)
        if moved:
            log.info("opportunities followed the owner", extra={"fields": {
                "event_id": envelope.event_id, "customer_id": change.customer_id, "moved": moved}})
    return handle


def customer_consumer(events: redis.Redis, opportunities: OpportunityService, name: str) -> EventConsumer:
    return EventConsumer(events, GROUP, name, [stream_for("customer")], customer_event_handler(opportunities),
                         max_deliveries=MAX_DELIVERIES, retry_delay_ms=RETRY_DELAY_MS)
