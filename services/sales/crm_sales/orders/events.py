"""The domain events an order change causes (crm.events.v1, stream
`events:sales`): ids and amounts only, never delivery details or names."""

from __future__ import annotations

from crm.common.v1 import common_pb2
from crm.events.v1 import events_pb2 as pb
from crm_kit.events import envelope as ev
from crm_kit.money import Money

from crm_sales.orders.model import Amendment, Order

PRODUCER = "sales"


def _money(m: Money) -> common_pb2.Money:
    return common_pb2.Money(minor_units=m.minor_units, currency_code=m.currency_code)


def line_figures(lines) -> list[pb.LineFigures]:
    """Each line's revenue (after discount) and cost of goods as of the order: the roll-ups need no lookup."""
    return [pb.LineFigures(line_id=line.line_id, product_id=line.product_id, margin_grade=line.margin_grade,
                           quantity=line.quantity, revenue_minor_units=line.total.minor_units,
                           cost_minor_units=line.cost.minor_units) for line in lines]


def confirmed(o: Order) -> list[ev.Envelope]:
    payload = pb.OrderConfirmed(order_id=o.id, order_number=o.number, customer_id=o.customer_id,
                                owner_id=o.owner_id, team_id=o.team_id, total=_money(o.total),
                                cost_total=_money(o.cost_total), lines=line_figures(o.lines), region=o.region)
    payload.confirmed_at.FromDatetime(o.confirmed_at)
    return [ev.new_event(ev.ORDER_CONFIRMED, o.id, payload, PRODUCER)]


def amended(o: Order, a: Amendment, before: Order | None = None) -> list[ev.Envelope]:
    """`before`: the order as it was (its lines are the amendment's previous lines)."""
    payload = pb.OrderAmended(
        order_id=o.id, customer_id=o.customer_id, amendment=a.number, total=_money(a.total),
        previous_total=_money(a.previous_total), cost_total=_money(o.cost_total), owner_id=o.owner_id,
        team_id=o.team_id, lines=line_figures(o.lines), region=o.region)
    if before is not None:
        payload.previous_lines.extend(line_figures(before.lines))
        payload.previous_cost_total.CopyFrom(_money(before.cost_total))
    if o.confirmed_at is not None:
        payload.confirmed_at.FromDatetime(o.confirmed_at)
    return [ev.new_event(ev.ORDER_AMENDED, o.id, payload, PRODUCER)]


def delivered(o: Order) -> list[ev.Envelope]:
    payload = pb.OrderDelivered(order_id=o.id, customer_id=o.customer_id)
    payload.delivered_at.FromDatetime(o.delivered_at)
    return [ev.new_event(ev.ORDER_DELIVERED, o.id, payload, PRODUCER)]


def cancelled(before: Order, after: Order) -> list[ev.Envelope]:
    """A confirmed order's lines are taken back; a draft's counted nothing (no lines in the event)."""
    payload = pb.OrderCancelled(
        order_id=after.id, customer_id=after.customer_id, previous_state=before.state, total=_money(after.total),
        owner_id=after.owner_id, team_id=after.team_id, region=after.region)
    if before.confirmed_at is not None:
        payload.lines.extend(line_figures(before.lines))
        payload.cost_total.CopyFrom(_money(before.cost_total))
        payload.confirmed_at.FromDatetime(before.confirmed_at)
    return [ev.new_event(ev.ORDER_CANCELLED, after.id, payload, PRODUCER)]


# --- consumed ------------------------------------------------------------------------

ERASURE_GROUP = "sales-orders"
# An erasure must not be dropped because the store was down for a while: it
# is retried every 5 s for about a day before it goes to the dead letters.
ERASURE_RETRY_DELAY_MS = 5000
ERASURE_MAX_DELIVERIES = 20_000


def erasure_consumer(events_redis, erase_customer, consumer_name: str):
    """customer.erased (stream events:customer, group "sales-orders"):
    `erase_customer(customer_id)` strips the orders' personal data. The
    effect is idempotent (a second run finds nothing left to strip), so a
    redelivery is harmless; the entry is acked only after it."""
    from crm_kit.events.bus import stream_for
    from crm_kit.events.consumer import EventConsumer

    def handle(envelope) -> None:
        if envelope.type != ev.CUSTOMER_ERASED:
            return
        erase_customer(ev.payload_of(envelope).customer_id)

    return EventConsumer(events_redis, ERASURE_GROUP, consumer_name, [stream_for("customer")], handle,
                         max_deliveries=ERASURE_MAX_DELIVERIES, retry_delay_ms=ERASURE_RETRY_DELAY_MS)
