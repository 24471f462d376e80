"""The roll-ups follow sales events (stream events:sales, consumer group
"sales-profitability"): order.confirmed / order.amended / order.cancelled,
payment.received / payment.refunded and expense.approved.

Every event of one read (up to `batch`) is applied at once, grouped by
roll-up document: one write per document per round, with the ids of the
events it applied in the same write (a redelivered event is skipped), and
the entries acked only after it. An import that gets ahead is caught up in
bigger reads: a month's buckets are written once per read however many of
its orders the read holds.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timezone, tzinfo

from crm_kit.events import envelope as ev

from crm_sales.profitability.rollups.changes import (
    DocChanges, LineFacts, OrderFacts, amendment_changes, cash_changes, expense_changes, order_changes)

GROUP = "sales-profitability"
PRODUCER = "sales"
# Roll-up documents written at once (distinct documents: their writes never meet).
WRITERS_IN_FLIGHT = 4


def _lines(lines) -> tuple[LineFacts, ...]:
    return tuple(LineFacts(line.product_id, line.margin_grade, line.revenue_minor_units, line.cost_minor_units)
                 for line in lines)


def _facts(p, lines, currency: str) -> OrderFacts:
    return OrderFacts(p.customer_id, p.owner_id, p.team_id, p.region, currency,
                      p.confirmed_at.ToDatetime(tzinfo=timezone.utc), _lines(lines))


def changes_of(envelope, tz: tzinfo) -> DocChanges:
    """The roll-up changes one event makes (none for events the roll-ups ignore)."""
    kind = envelope.type
    if kind not in (ev.ORDER_CONFIRMED, ev.ORDER_AMENDED, ev.ORDER_CANCELLED, ev.PAYMENT_RECEIVED,
                    ev.PAYMENT_REFUNDED, ev.EXPENSE_APPROVED):
        return []
    p = ev.payload_of(envelope)
    if kind == ev.ORDER_CONFIRMED:
        return order_changes(_facts(p, p.lines, p.total.currency_code), tz)
    if kind == ev.ORDER_AMENDED:
        if not p.HasField("confirmed_at"):
            return []  # published before amendments carried their lines: nothing to count exactly
        currency = p.total.currency_code
        return amendment_changes(_facts(p, p.previous_lines, currency), _facts(p, p.lines, currency), tz)
    if kind == ev.ORDER_CANCELLED:
        if not p.HasField("confirmed_at"):
            return []  # a draft counted nothing
        return order_changes(_facts(p, p.lines, p.total.currency_code), tz, -1)
    if kind == ev.PAYMENT_RECEIVED:
        return cash_changes(p.customer_id, p.owner_id, p.amount.currency_code, p.amount.minor_units,
                            p.received_at.ToDatetime(tzinfo=timezone.utc).date())  # noon UTC of the receipt's date
    if kind == ev.PAYMENT_REFUNDED:
        return cash_changes(p.customer_id, p.owner_id, p.amount.currency_code, -p.amount.minor_units,
                            p.refunded_at.ToDatetime(tzinfo=timezone.utc).date())
    spent_on = date(p.spent_on.year, p.spent_on.month, p.spent_on.day)
    return expense_changes(p.owner_id, p.customer_id, p.amount.currency_code, p.amount.minor_units, spent_on)


def apply_batch(store, envelopes, tz: tzinfo) -> int:
    """Apply the events' changes, one write per roll-up document. Returns the documents written."""
    by_doc: dict[str, list] = {}
    for envelope in envelopes:
        per_doc: dict[str, list] = {}
        for doc_id, change in changes_of(envelope, tz):
            per_doc.setdefault(doc_id, []).append(change)
        for doc_id, parts in per_doc.items():
            by_doc.setdefault(doc_id, []).append((envelope.event_id, parts))
    if not by_doc:
        return 0
    items = sorted(by_doc.items())
    if len(items) == 1:
        store.apply(*items[0])
    else:
        with ThreadPoolExecutor(WRITERS_IN_FLIGHT) as pool:
            list(pool.map(lambda item: store.apply(*item), items))
    return len(items)


def rollup_follower(events_redis, store, tz: tzinfo, consumer_name: str, batch: int = 2000):
    from crm_kit.events.bus import stream_for
    from crm_kit.events.consumer import EventConsumer

    return EventConsumer(events_redis, GROUP, consumer_name, [stream_for(PRODUCER)], None,
                         batch_handler=lambda envelopes: apply_batch(store, envelopes, tz), count=batch)
