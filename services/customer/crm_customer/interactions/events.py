"""The domain event recording an interaction causes (ids and codes only, no
summary or quote text: crm.events.v1 carries no personal data)."""

from __future__ import annotations

from crm.events.v1 import events_pb2 as pb
from crm_kit.events import envelope as ev

from crm_customer.interactions.model import Interaction

from crm_customer.customers.events import PRODUCER


def interaction_id(entry: Interaction) -> str:
    return f"{entry.customer_id}#{entry.sequence}"


def recorded(entry: Interaction) -> list[ev.Envelope]:
    payload = pb.InteractionRecorded(customer_id=entry.customer_id, interaction_id=interaction_id(entry),
                                     channel=entry.channel, direction=entry.direction,
                                     has_quote=bool(entry.quote_lines), recorded_by=entry.recorded_by,
                                     rep_id=entry.rep_id)
    payload.occurred_at.FromDatetime(entry.occurred_at)
    return [ev.new_event(ev.INTERACTION_RECORDED, entry.customer_id, payload, PRODUCER)]
