"""The domain events payment plans cause (ids and amounts only, never a
reference or a reason: crm.events.v1 carries no personal data)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from crm.common.v1 import common_pb2
from crm.events.v1 import events_pb2 as pb
from crm_kit.clock import local_date
from crm_kit.events import envelope as ev

from crm_sales.payments.model import AgeingCells, Plan, Receipt, Refund
from crm_sales.wire import date_pb

PRODUCER = "sales"


def _money(minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code=currency)


def _midday(on: date) -> datetime:
    """A calendar date as a time: noon UTC, read back as its UTC date (roll-ups and commission do), never
    through a zone: from UTC+12 on, noon UTC is already the next day."""
    return datetime.combine(on, time(12), tzinfo=timezone.utc)


def _debt_ids(plan: Plan) -> dict:
    return {"order_id": plan.debt_id} if plan.kind == "order" else {"contract_id": plan.debt_id}


def received(plan: Plan, receipt: Receipt) -> ev.Envelope:
    payload = pb.PaymentReceived(receipt_id=receipt.id, customer_id=plan.customer_id,
                                 amount=_money(receipt.amount, plan.currency), method=receipt.method,
                                 owner_id=plan.owner_id, team_id=plan.team_id, **_debt_ids(plan))
    payload.received_at.FromDatetime(_midday(receipt.received_on))
    return ev.new_event(ev.PAYMENT_RECEIVED, plan.debt_id, payload, PRODUCER)


def refunded(plan: Plan, receipt: Receipt, refund: Refund) -> ev.Envelope:
    payload = pb.PaymentRefunded(refund_id=refund.id, receipt_id=receipt.id, customer_id=plan.customer_id,
                                 amount=_money(refund.amount, plan.currency), void=refund.void,
                                 owner_id=plan.owner_id, team_id=plan.team_id, **_debt_ids(plan))
    payload.refunded_at.FromDatetime(_midday(refund.refunded_on))
    return ev.new_event(ev.PAYMENT_REFUNDED, plan.debt_id, payload, PRODUCER)


def paid(plan: Plan) -> ev.Envelope:
    payload = pb.OrderPaid(order_id=plan.debt_id, customer_id=plan.customer_id,
                           total=_money(plan.total, plan.currency), owner_id=plan.owner_id, team_id=plan.team_id)
    payload.paid_at.FromDatetime(plan.paid_at)
    return ev.new_event(ev.ORDER_PAID, plan.debt_id, payload, PRODUCER)


# --- plans follow orders ------------------------------------------------------------

FOLLOW_GROUP = "sales-payments"


def order_follower(events_redis, payments, consumer_name: str):
    """order.confirmed / order.amended / order.cancelled (stream
    events:sales, group "sales-payments") keep each order's plan in step:
    a plan for a confirmed order, its total moved by an amendment, cancelled
    with the order; customer.erased (events:customer, same group) blanks the
    free text of the customer's plans. Each effect is idempotent (a plan is
    made once; an amendment number already applied is skipped; a cancelled
    plan stays so; blank text stays blank), so a redelivery is harmless; the
    entry is acked only after it."""
    from crm_kit.events.bus import stream_for
    from crm_kit.events.consumer import EventConsumer
    from crm_kit.money import Money

    from crm_sales.payments.model import Debt

    def money(m) -> Money:
        return Money(m.minor_units, m.currency_code)

    def handle(envelope) -> None:
        if envelope.type == ev.ORDER_CONFIRMED:
            p = ev.payload_of(envelope)
            started = p.confirmed_at.ToDatetime(tzinfo=timezone.utc) if p.HasField("confirmed_at") \
                else ev.occurred_at(envelope)
            payments.ensure_plan(Debt("order", p.order_id, p.customer_id, p.owner_id, p.team_id, money(p.total),
                                      local_date(started, payments.zone)))
        elif envelope.type == ev.ORDER_AMENDED:
            p = ev.payload_of(envelope)
            payments.adjust_total("order", p.order_id, money(p.total), amendment=p.amendment,
                                  owner_id=p.owner_id, team_id=p.team_id)
        elif envelope.type == ev.ORDER_CANCELLED:
            payments.cancel_plan("order", ev.payload_of(envelope).order_id)
        elif envelope.type == ev.CUSTOMER_ERASED:
            payments.erase_customer(ev.payload_of(envelope).customer_id)

    return EventConsumer(events_redis, FOLLOW_GROUP, consumer_name, [stream_for(PRODUCER), stream_for("customer")],
                         handle)


# --- the ageing summaries of rep and team books follow every plan write ------------------

AGEING_GROUP = "sales-ageing"


def receivables_changed(plan_id: str, changes: dict) -> ev.Envelope:
    """receivables.changed for `changes` ({book: AgeingCells}, from
    model.cells_change): staged in the write's own claim, so it goes out
    exactly when the write is stored."""
    payload = pb.ReceivablesChanged(plan_id=plan_id)
    for book in sorted(changes):
        cells = changes[book]
        for (currency, effective_on, due_on), delta in sorted(cells.amounts.items()):
            payload.deltas.add(book=book, currency_code=currency, effective_on=date_pb(effective_on),
                               due_on=date_pb(due_on), delta_minor_units=delta)
        for (currency, effective_on), delta in sorted(cells.outstanding.items()):
            payload.plan_counts.add(book=book, currency_code=currency, effective_on=date_pb(effective_on),
                                    delta=delta)
        for currency, delta in sorted(cells.members.items()):
            payload.plan_counts.add(book=book, currency_code=currency, delta=delta)
    return ev.new_event(ev.RECEIVABLES_CHANGED, plan_id, payload, PRODUCER)


def changes_in(payload: pb.ReceivablesChanged) -> dict:
    """{book: AgeingCells} a receivables.changed carries."""
    def day(d) -> date:
        return date(d.year, d.month, d.day)

    out: dict[str, AgeingCells] = {}
    for d in payload.deltas:
        cells = out.setdefault(d.book, AgeingCells())
        key = (d.currency_code, day(d.effective_on), day(d.due_on))
        cells.amounts[key] = cells.amounts.get(key, 0) + d.delta_minor_units
    for d in payload.plan_counts:
        cells = out.setdefault(d.book, AgeingCells())
        if d.HasField("effective_on"):
            key = (d.currency_code, day(d.effective_on))
            cells.outstanding[key] = cells.outstanding.get(key, 0) + d.delta
        else:
            cells.members[d.currency_code] = cells.members.get(d.currency_code, 0) + d.delta
    return out


def ageing_follower(events_redis, summaries, consumer_name: str, batch: int = 500):
    """receivables.changed (stream events:sales, group "sales-ageing") applied
    to the rep and team summaries. Every event of one read (up to `batch`) is
    applied at once, grouped by book: one summary write per book per round,
    the events' ids in the same write (a redelivered event is skipped), and
    the entries acked only after it."""
    from crm_kit.events.bus import stream_for
    from crm_kit.events.consumer import EventConsumer

    def handle_batch(envelopes) -> None:
        by_book: dict[str, list] = {}
        for envelope in envelopes:
            if envelope.type != ev.RECEIVABLES_CHANGED:
                continue
            for book, cells in changes_in(ev.payload_of(envelope)).items():
                by_book.setdefault(book, []).append((envelope.event_id, cells))
        for book, changes in sorted(by_book.items()):
            summaries.apply(book, changes)

    return EventConsumer(events_redis, AGEING_GROUP, consumer_name, [stream_for(PRODUCER)], None,
                         batch_handler=handle_batch, count=batch)
