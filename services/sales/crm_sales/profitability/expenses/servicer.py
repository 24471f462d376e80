"""gRPC transport for expenses: messages in, use cases, messages out."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import common_pb2
from crm.sales.v1 import expense_service_pb2 as pb
from crm.sales.v1 import expense_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal

from crm_sales import wire
from crm_sales.profitability.expenses.model import STATES, Expense, ExpenseDraft
from crm_sales.profitability.expenses.service import ExpenseService
from crm_sales.wire import date_from_pb, date_pb

STATE_TO_PB = {name: pb.ExpenseState.Value(f"EXPENSE_STATE_{name.upper()}") for name in STATES}
STATE_FROM_PB = {v: k for k, v in STATE_TO_PB.items()}


class ExpenseServicer(pb_grpc.ExpenseServiceServicer):
    def __init__(self, service: ExpenseService):
        self.service = service

    def RecordExpense(self, request, context):
        return expense_to_pb(self.service.record(current_principal(), draft_from_pb(request.expense, "expense")))

    def GetExpense(self, request, context):
        return expense_to_pb(self.service.get(current_principal(), request.id))

    def UpdateExpense(self, request, context):
        return expense_to_pb(self.service.update(current_principal(), request.id,
                                                 draft_from_pb(request.expense, "expense"), request.revision))

    def ApproveExpense(self, request, context):
        return expense_to_pb(self.service.decide(current_principal(), request.id, True, request.reason))

    def RejectExpense(self, request, context):
        return expense_to_pb(self.service.decide(current_principal(), request.id, False, request.reason))

    def ListExpenses(self, request, context):
        if request.state and request.state not in STATE_FROM_PB:
            raise InvalidArgument(FieldViolation("state", "must be a known expense state (or unset: all)"))
        found, token = self.service.list(current_principal(), rep_id=request.rep_id, team_id=request.team_id,
                                         state=STATE_FROM_PB.get(request.state, ""), page_size=request.page_size,
                                         page_token=request.page_token)
        return pb.ListExpensesResponse(expenses=[expense_to_pb(e) for e in found], next_page_token=token)


def draft_from_pb(d: pb.ExpenseDetails, prefix: str) -> ExpenseDraft:
    if not d.amount.currency_code:
        raise InvalidArgument(FieldViolation(f"{prefix}.amount.currency_code", "is required"))
    return ExpenseDraft(
        category=d.category, amount=wire.money_from_pb(d.amount),
        spent_on=date_from_pb(d.spent_on, f"{prefix}.spent_on") if d.HasField("spent_on") else None,
        customer_id=d.customer_id, opportunity_id=d.opportunity_id, receipt_reference=d.receipt_reference,
        description=d.description)


def _ts(moment) -> Timestamp:
    return wire.timestamp_pb(moment) if moment is not None else Timestamp()


def expense_to_pb(e: Expense) -> pb.Expense:
    return pb.Expense(
        id=e.id, owner_id=e.owner_id, team_id=e.team_id, category=e.category,
        amount=common_pb2.Money(minor_units=e.amount.minor_units, currency_code=e.amount.currency_code),
        spent_on=date_pb(e.spent_on), customer_id=e.customer_id, opportunity_id=e.opportunity_id,
        receipt_reference=e.receipt_reference, description=e.description, state=STATE_TO_PB[e.state],
        decided_by=e.decided_by, decided_at=_ts(e.decided_at), reason=e.reason, created_at=_ts(e.created_at),
        updated_at=_ts(e.updated_at), revision=e.revision)
