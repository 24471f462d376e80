"""Sales expenses: recorded by reps, decided by their managers. REST in,
the sales service's ExpenseService gRPC out."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.common.v1 import common_pb2
from crm.sales.v1 import expense_service_pb2 as pb
from crm.sales.v1 import expense_service_pb2_grpc as pb_grpc

from crm_gateway.fields import NEXT_PAGE, Body, DateIn, Id, NullableTime, Out, PageSize, PageToken, Query, Time, \
    optional, text
from crm_gateway.interactions import Money, MoneyIn
from crm_gateway.routing import Args, Header, Ok, Policy, RequestHeader, route
from crm_gateway.sales_products import expected_revision

bp = Blueprint("sales_expenses", __name__, url_prefix="/api/v1")

RECORD = Policy(("manager", "rep"))
# The service decides per expense: its rep, the team's managers, finance and admins (and the customer's rights).
READ = Policy(("admin", "manager", "rep", "finance", "integration"), scope="sales:read")
DECIDE = Policy(("admin", "manager", "finance"))
State = Literal["pending", "approved", "rejected"]
_STATE_TO_PB = {s: pb.ExpenseState.Value(f"EXPENSE_STATE_{s.upper()}") for s in ("pending", "approved", "rejected")}
_STATE_FROM_PB = {v: k for k, v in _STATE_TO_PB.items()}
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DateOut = Annotated[str, Field(json_schema_extra={"format": "date"})]
ETAG = Header("ETag", "The expense's revision; send it back in If-Match to change only what you read.",
              lambda m: f'"{m.revision}"')
IF_MATCH = RequestHeader("If-Match", "The ETag you read; optional: without it the change applies to the expense as "
                                     "it is now.")
_NOT_FOUND = {404: "No such expense (or customer, or opportunity), or not one you may see."}
_DECIDED = {409: "The expense was approved or rejected already."}


def _date_pb(value: str) -> common_pb2.Date:
    year, month, day = map(int, _DATE.match(value).groups())
    return common_pb2.Date(year=year, month=month, day=day)


def _money(m) -> dict:
    return {"minor_units": m.minor_units, "currency_code": m.currency_code}


class ExpenseIn(Body):
    category: text(32, 1, description="One of the configured categories (SALES_EXPENSE_CATEGORIES), e.g. travel.")
    amount: Annotated[MoneyIn, Field(description="More than zero.")]
    spent_on: Annotated[DateIn, Field(description="The day it was spent; not in the future.")]
    customer_id: Annotated[Id, Field(description="The customer it was for (one you work on); or opportunity_id.")] \
        = optional()
    opportunity_id: Annotated[Id, Field(description="The opportunity it was for: its customer's expense.")] \
        = optional()
    receipt_reference: text(120, description="The receipt's or invoice's reference.") = ""
    description: text(500) = ""


class Decision(Body):
    reason: text(500, description="Required to reject.") = ""


class ExpensePath(BaseModel):
    expense_id: Id


class ExpenseQuery(Query):
    rep_id: text(64, description="A rep's expenses (reps: their own, the default for them).") = ""
    team_id: text(64, description="A team's (managers: their own, the default for them).") = ""
    state: State | None = None
    page_size: PageSize = 50
    page_token: PageToken = ""


class Expense(Out):
    id: str
    owner_id: str
    team_id: str
    category: str
    amount: Money
    spent_on: DateOut
    customer_id: str
    opportunity_id: str
    receipt_reference: str
    description: str
    state: State
    decided_by: str
    decided_at: NullableTime
    reason: str
    created_at: Time
    updated_at: Time
    revision: int

    @staticmethod
    def from_pb(e: pb.Expense) -> dict:
        d = e.spent_on
        return {"id": e.id, "owner_id": e.owner_id, "team_id": e.team_id, "category": e.category,
                "amount": _money(e.amount), "spent_on": f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
                "customer_id": e.customer_id, "opportunity_id": e.opportunity_id,
                "receipt_reference": e.receipt_reference, "description": e.description,
                "state": _STATE_FROM_PB.get(e.state, "pending"), "decided_by": e.decided_by,
                "decided_at": e.decided_at.ToJsonString() if e.HasField("decided_at") and e.decided_at.seconds
                else None, "reason": e.reason, "created_at": e.created_at.ToJsonString(),
                "updated_at": e.updated_at.ToJsonString(), "revision": e.revision}


class ExpensePage(Out):
    expenses: list[Expense]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(r: pb.ListExpensesResponse) -> dict:
        return {"expenses": [Expense.from_pb(e) for e in r.expenses], "next_page_token": r.next_page_token}


def stub() -> pb_grpc.ExpenseServiceStub:
    return g.downstream.stub("sales", pb_grpc.ExpenseServiceStub)


def _details(b: ExpenseIn) -> pb.ExpenseDetails:
    return pb.ExpenseDetails(category=b.category, amount=common_pb2.Money(minor_units=b.amount.minor_units,
                                                                         currency_code=b.amount.currency_code),
                             spent_on=_date_pb(b.spent_on), customer_id=b.customer_id or "",
                             opportunity_id=b.opportunity_id or "", receipt_reference=b.receipt_reference,
                             description=b.description)


@route(bp, "POST", "/expenses", "recordExpense", "Record a sales expense", allow=RECORD, body=ExpenseIn,
       ok=Ok(Expense, "Recorded, pending approval.", 201), errors=_NOT_FOUND, service="sales",
       description="Your own expense, on a customer you work on or an opportunity (its customer's), or on none.")
def record_expense(a: Args):
    return stub().RecordExpense(pb.RecordExpenseRequest(expense=_details(a.body)))


@route(bp, "GET", "/expenses", "listExpenses", "List expenses", allow=READ, query=ExpenseQuery,
       ok=Ok(ExpensePage, "Oldest first."), service="sales",
       errors={403: "Not a book you may see: reps see their own, managers their team's."})
def list_expenses(a: Args):
    q = a.query
    return stub().ListExpenses(pb.ListExpensesRequest(rep_id=q.rep_id, team_id=q.team_id,
                                                      state=_STATE_TO_PB[q.state] if q.state else 0,
                                                      page_size=q.page_size, page_token=q.page_token))


@route(bp, "GET", "/expenses/<expense_id>", "getExpense", "An expense", allow=READ, path=ExpensePath,
       ok=Ok(Expense, "The expense.", headers=(ETAG,)), errors=_NOT_FOUND, service="sales")
def get_expense(a: Args):
    return stub().GetExpense(pb.GetExpenseRequest(id=a.path.expense_id))


@route(bp, "PUT", "/expenses/<expense_id>", "updateExpense", "Change a pending expense", allow=RECORD,
       path=ExpensePath, body=ExpenseIn, request_headers=(IF_MATCH,),
       ok=Ok(Expense, "The expense after it.", headers=(ETAG,)),
       errors={**_NOT_FOUND, **_DECIDED, 412: "If-Match is stale: the expense changed since you read it."},
       service="sales", description="Its rep only, while pending.")
def update_expense(a: Args):
    return stub().UpdateExpense(pb.UpdateExpenseRequest(id=a.path.expense_id, expense=_details(a.body),
                                                        revision=expected_revision()))


@route(bp, "POST", "/expenses/<expense_id>/approve", "approveExpense", "Approve an expense", allow=DECIDE,
       path=ExpensePath, body=Decision, ok=Ok(Expense, "Approved."), errors={**_NOT_FOUND, **_DECIDED},
       service="sales",
       description="A manager of the rep's team (not for their own), finance or an admin. The customer's net "
                   "contribution falls by the amount in the month it was spent.")
def approve_expense(a: Args):
    return stub().ApproveExpense(pb.ApproveExpenseRequest(id=a.path.expense_id, reason=a.body.reason))


@route(bp, "POST", "/expenses/<expense_id>/reject", "rejectExpense", "Reject an expense", allow=DECIDE,
       path=ExpensePath, body=Decision, ok=Ok(Expense, "Rejected."), errors={**_NOT_FOUND, **_DECIDED},
       service="sales", description="With the reason.")
def reject_expense(a: Args):
    return stub().RejectExpense(pb.RejectExpenseRequest(id=a.path.expense_id, reason=a.body.reason))
