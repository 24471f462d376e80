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
