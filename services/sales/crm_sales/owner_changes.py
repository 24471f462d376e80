"""What follows a customer's owner: a handler of `customer.owner_changed`
(the customer service's stream) for any sales feature whose records go
with the customer to its new owner and team.

Each feature consumes in its own group (crm_kit.events.consumer), so each
sees every event whatever the others do. `follow(customer_id, to_owner_id,
to_team_id, as_of)` must be idempotent without a marker: it sets absolute
values and ignores a change older than the last one applied (by the
event's time), so a redelivery, or an older event retried after a newer
one, moves nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

from crm_kit.events import envelope as ev

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

