"""Commission follows collected cash: payment.received and payment.refunded
of orders (stream events:sales, group "sales-commission")."""

from __future__ import annotations

from datetime import timezone

from crm_kit.events import envelope as ev

from crm_sales.profitability.commission.model import Movement
from crm_sales.profitability.months import Month

GROUP = "sales-commission"


def movement_of(envelope) -> tuple[Movement, str, str] | None:
    """The cash movement a payment event records, with the order's owner and
    team as the event names them; None for anything else (contract receipts
    are not commissionable: model.py)."""
    if envelope.type == ev.PAYMENT_RECEIVED:
        p = ev.payload_of(envelope)
        if not p.order_id:
            return None
        on = p.received_at.ToDatetime(tzinfo=timezone.utc).date()  # noon UTC of the receipt's date
        return Movement(envelope.event_id, "receipt", p.order_id, p.receipt_id, "", p.amount.minor_units,
                        Month.of_date(on)), p.owner_id, p.team_id
    if envelope.type == ev.PAYMENT_REFUNDED:
        p = ev.payload_of(envelope)
        if not p.order_id:
            return None
        on = p.refunded_at.ToDatetime(tzinfo=timezone.utc).date()
        return Movement(envelope.event_id, "void" if p.void else "refund", p.order_id, p.receipt_id, p.refund_id,
                        -p.amount.minor_units, Month.of_date(on)), p.owner_id, p.team_id
    return None


def commission_follower(events_redis, commission, consumer_name: str, batch: int = 200):
    """Each payment event applied once (its id recorded in the order ledger's
    write), acked only after its lines are posted. The payment events of one
    read (up to `batch`) are applied together: one statement write per rep
    and month for them all."""
    from crm_kit.events.bus import stream_for
    from crm_kit.events.consumer import EventConsumer

    def handle_batch(envelopes) -> None:
        movements = [found for envelope in envelopes if (found := movement_of(envelope)) is not None]
        if movements:
            commission.apply_all(movements)

    return EventConsumer(events_redis, GROUP, consumer_name, [stream_for("sales")], None,
                         batch_handler=handle_batch, count=batch)
