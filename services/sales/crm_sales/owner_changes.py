"""What follows a customer's owner: a consumer of `customer.owner_changed`
(the customer service's stream) for any sales feature whose records go
with the customer to its new owner and team.

Each feature has its own consumer group, so each sees every event whatever
the others do. `follow(customer_id, to_owner_id, to_team_id, as_of)` must
be idempotent without a marker: it sets absolute values and ignores a
change older than the last one applied (by the event's time), so a
redelivery, or an older event retried after a newer one, moves nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

import redis

from crm_kit.events import envelope as ev
from crm_kit.events.bus import stream_for
from crm_kit.events.consumer import EventConsumer

log = logging.getLogger("crm.sales.owner_changes")

Follow = Callable[[str, str, str, datetime | None], int]


def owner_change_handler(feature: str, follow: Follow):
    def handle(envelope) -> None:
        if envelope.type != ev.CUSTOMER_OWNER_CHANGED:
            return
        try:
            change = ev.payload_of(envelope)
        except ev.EventError:
            log.error("customer.owner_changed without a readable payload",
                      extra={"fields": {"event_id": envelope.event_id, "feature": feature}})
            return
        as_of = envelope.occurred_at.ToDatetime(tzinfo=timezone.utc) if envelope.HasField("occurred_at") else None
        moved = follow(change.customer_id, change.to_owner_id, change.to_team_id, as_of)
        if moved:
            log.info("records followed the customer's owner", extra={"fields": {
                "event_id": envelope.event_id, "feature": feature, "customer_id": change.customer_id,
                "moved": moved}})
    return handle


def owner_change_consumer(events: redis.Redis, group: str, feature: str, follow: Follow,
                          name: str) -> EventConsumer:
    return EventConsumer(events, group, name, [stream_for("customer")], owner_change_handler(feature, follow))
