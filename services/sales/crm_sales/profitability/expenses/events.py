"""expense.approved: ids, category, amount and day only (no reference or
description: crm.events.v1 carries no personal data)."""

from __future__ import annotations

from crm.events.v1 import events_pb2 as pb
from crm.common.v1 import common_pb2
from crm_kit.events import envelope as ev

from crm_sales.profitability.expenses.model import Expense
from crm_sales.wire import date_pb

PRODUCER = "sales"


def approved(expense: Expense) -> ev.Envelope:
    payload = pb.ExpenseApproved(
        expense_id=expense.id, owner_id=expense.owner_id, team_id=expense.team_id, customer_id=expense.customer_id,
        opportunity_id=expense.opportunity_id, category=expense.category,
        amount=common_pb2.Money(minor_units=expense.amount.minor_units, currency_code=expense.amount.currency_code),
        spent_on=date_pb(expense.spent_on))
    return ev.new_event(ev.EXPENSE_APPROVED, expense.id, payload, PRODUCER)


ERASURE_GROUP = "sales-expenses"


def erasure_consumer(events_redis, expenses, consumer_name: str):
    """customer.erased (stream events:customer, group "sales-expenses"): the
    free text of the customer's expenses blanked (idempotent; acked after)."""
    from crm_kit.events.bus import stream_for
    from crm_kit.events.consumer import EventConsumer

    def handle(envelope) -> None:
        if envelope.type == ev.CUSTOMER_ERASED:
            expenses.erase_customer(ev.payload_of(envelope).customer_id)

    return EventConsumer(events_redis, ERASURE_GROUP, consumer_name, [stream_for("customer")], handle)
