"""The events daily reports follow (stream events:customer, group
"sales-daily-reports"):

- interaction.recorded: the interaction goes into its rep's day (rep_id, or
  who recorded it when an older producer sent none; the day of when it
  happened, in the business time zone). Every interaction of one read is
  appended at once; a redelivery appends an entry the read counts once
  (by interaction id), so the effect is idempotent;
- customer.erased: the customer leaves every report's contacted list.
Entries are acked only after the effect."""

from __future__ import annotations

from datetime import timezone

from crm_kit.events import envelope as ev

GROUP = "sales-daily-reports"


def customer_follower(events_redis, reports, consumer_name: str, batch: int = 200):
    from crm_kit.events.bus import stream_for
    from crm_kit.events.consumer import EventConsumer

    def handle_batch(envelopes) -> None:
        interactions = []
        for envelope in envelopes:
            if envelope.type == ev.INTERACTION_RECORDED:
                p = ev.payload_of(envelope)
                at = p.occurred_at.ToDatetime(tzinfo=timezone.utc) if p.HasField("occurred_at") \
                    else ev.occurred_at(envelope)
                interactions.append((p.rep_id or p.recorded_by, p.interaction_id, p.channel, at))
            elif envelope.type == ev.CUSTOMER_ERASED:
                reports.erase_customer(ev.payload_of(envelope).customer_id)
        reports.note_interactions(interactions)

    return EventConsumer(events_redis, GROUP, consumer_name, [stream_for("customer")], None,
                         batch_handler=handle_batch, count=batch)
