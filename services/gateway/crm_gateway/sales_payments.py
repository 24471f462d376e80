"""Payment plans, receipts, refunds and ageing: REST in, the sales service's
PaymentService gRPC out."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.common.v1 import common_pb2
from crm.sales.v1 import payment_service_pb2 as pb
from crm.sales.v1 import payment_service_pb2_grpc as pb_grpc

from crm_gateway.fields import Body, DateIn, Id, Out, Query, Time, optional, text
from crm_gateway.interactions import Money, MoneyIn, request_id
from crm_gateway.routing import Args, Ok, Policy, route

bp = Blueprint("sales_payments", __name__, url_prefix="/api/v1")

# The service decides per customer and per book: these are the roles that may ask at all.
READ = Policy(("admin", "manager", "rep", "agent", "finance", "integration"), scope="sales:read")
# Plans are changed by finance, admins and the team's managers; money is recorded by finance and admins.
PLAN = Policy(("admin", "manager", "finance", "integration"), scope="sales:money")
MONEY = Policy(("admin", "finance", "integration"), scope="sales:money")
METHODS = ("bank_transfer", "cash", "alipay", "wechat_pay", "cheque", "card", "other")
Method = Literal["bank_transfer", "cash", "alipay", "wechat_pay", "cheque", "card", "other"]
_METHOD_TO_PB = {m: pb.PaymentMethod.Value(f"PAYMENT_METHOD_{m.upper()}") for m in METHODS}
_METHOD_FROM_PB = {v: k for k, v in _METHOD_TO_PB.items()}
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DateOut = Annotated[str, Field(json_schema_extra={"format": "date"})]
_NOT_FOUND = {404: "No such plan (or receipt), or not one you may see."}
_REFUSED = {409: "Refused by the plan's rules: over the outstanding amount (saying by how much), over a receipt's "
                 "remainder or what it still holds, a plan already paid into, a cancelled debt, or a request id "
                 "used for other content."}


def _date_pb(value: str) -> common_pb2.Date:
    # A well-formed but impossible day (2026-02-30) is the service's to refuse, naming the field.
    year, month, day = map(int, _DATE.match(value).groups())
    return common_pb2.Date(year=year, month=month, day=day)


def _date_json(d: common_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _money(m: common_pb2.Money) -> dict:
    return {"minor_units": m.minor_units, "currency_code": m.currency_code}


def _money_pb(m: MoneyIn) -> common_pb2.Money:
    return common_pb2.Money(minor_units=m.minor_units, currency_code=m.currency_code)


# --- request bodies and queries ----------------------------------------------------------

class InstalmentIn(Body):
    due_date: DateIn
    amount: Annotated[MoneyIn, Field(description="More than zero, in the plan's currency.")]


class PlanReplace(Body):
    instalments: Annotated[list[InstalmentIn], Field(min_length=1, max_length=120,
                                                     description="Their amounts add up to the debt's total.")]


class AllocationIn(Body):
    instalment: Annotated[int, Field(ge=1, le=1000, description="The instalment's number.")]
    minor_units: Annotated[int, Field(ge=1, le=10**15, description="How much, in the plan's currency.")]


class ReceiptCreate(Body):
    order_id: Annotated[Id, Field(description="The order paid; or contract_id.")] = optional()
    contract_id: Annotated[Id, Field(description="The contract paid; or order_id.")] = optional()
    method: Method
    amount: Annotated[MoneyIn, Field(description="More than zero; at most what is outstanding.")]
    received_date: Annotated[DateIn, Field(description="Today when left out; not in the future.")] = optional()
    reference: text(200, description="The bank's or the cheque's reference.") = ""
    allocations: Annotated[list[AllocationIn], Field(max_length=120, description="Where it goes; oldest due first "
                                                                                 "when left out.")] = []


class AllocationsIn(Body):
    allocations: Annotated[list[AllocationIn], Field(min_length=1, max_length=120)]


class RefundCreate(Body):
    amount: Annotated[MoneyIn, Field(description="At most what the receipt still holds.")]
    refund_date: Annotated[DateIn, Field(description="Today when left out; not in the future.")] = optional()
    reason: text(500) = ""


class VoidCreate(Body):
    reason: text(500) = ""


class OrderPath(BaseModel):
    order_id: Id


class ContractPath(BaseModel):
    contract_id: Id


class ReceiptPath(BaseModel):
    receipt_id: Id


class AgeingQuery(Query):
    rep_id: text(128, description="A rep's book (reps: their own, the default for them).") = ""
    team_id: text(128, description="A team's book (managers: their own, the default for them).") = ""
    customer_id: text(64, description="One customer's debts.") = ""
    as_of: Annotated[DateIn, Field(description="Receipts and refunds after this day do not count; today when left "
                                               "out.")] = optional()


# --- answers -----------------------------------------------------------------------------

class Instalment(Out):
    number: int
    due_date: DateOut
    amount: Money
    paid: Money
    unpaid: Money


class Allocation(Out):
    instalment: int
    amount: Annotated[Money, Field(description="Negative: moved back off the instalment (a refund, a cut total).")]
    effective_date: DateOut


class Refund(Out):
    id: str
    amount: Money
    refund_date: DateOut
    void: bool
    reason: str
    recorded_by: str
    recorded_at: Time

    @staticmethod
    def from_pb(f: pb.Refund) -> dict:
        return {"id": f.id, "amount": _money(f.amount), "refund_date": _date_json(f.refund_date), "void": f.void,
                "reason": f.reason, "recorded_by": f.recorded_by, "recorded_at": f.record_time.ToJsonString()}


class Receipt(Out):
    id: str
    method: Method
    amount: Money
    received_date: DateOut
    reference: str
    recorded_by: str
    recorded_at: Time
    allocations: list[Allocation]
    refunds: list[Refund]
    net: Annotated[Money, Field(description="What it still holds after refunds.")]
    unallocated: Money

    @staticmethod
    def from_pb(r: pb.Receipt) -> dict:
        return {
            "id": r.id, "method": _METHOD_FROM_PB.get(r.method, "other"), "amount": _money(r.amount),
            "received_date": _date_json(r.received_date), "reference": r.reference, "recorded_by": r.recorded_by,
            "recorded_at": r.record_time.ToJsonString(),
            "allocations": [{"instalment": a.instalment, "amount": _money(a.amount),
                             "effective_date": _date_json(a.effective_date)} for a in r.allocations],
            "refunds": [Refund.from_pb(f) for f in r.refunds], "net": _money(r.net),
            "unallocated": _money(r.unallocated),
        }


class PaymentPlan(Out):
    order_id: str
    contract_id: str
    customer_id: str
    owner_id: str
    team_id: str
    total: Money
    start_date: DateOut
    instalments: list[Instalment]
    receipts: list[Receipt]
    collected: Money
    balance: Annotated[Money, Field(description="Still owed.")]
    credit: Annotated[Money, Field(description="Collected beyond a total that was cut: to refund.")]
    cancelled: bool
    paid: bool
    revision: int

    @staticmethod
    def from_pb(p: pb.PaymentPlan) -> dict:
        return {
            "order_id": p.order_id, "contract_id": p.contract_id, "customer_id": p.customer_id,
            "owner_id": p.owner_id, "team_id": p.team_id, "total": _money(p.total),
            "start_date": _date_json(p.start_date),
            "instalments": [{"number": i.number, "due_date": _date_json(i.due_date), "amount": _money(i.amount),
                             "paid": _money(i.paid), "unpaid": _money(i.unpaid)} for i in p.instalments],
            "receipts": [Receipt.from_pb(r) for r in p.receipts], "collected": _money(p.collected),
            "balance": _money(p.balance), "credit": _money(p.credit), "cancelled": p.cancelled, "paid": p.paid,
            "revision": p.revision,
        }


class RecordedReceipt(Out):
    receipt: Receipt
    plan: PaymentPlan

    @staticmethod
    def from_pb(r: pb.RecordReceiptResponse) -> dict:
        return {"receipt": Receipt.from_pb(r.receipt), "plan": PaymentPlan.from_pb(r.plan)}


class RecordedRefund(Out):
    refund: Refund
    receipt: Receipt
    plan: PaymentPlan

    @staticmethod
    def from_pb(r: pb.RefundReceiptResponse) -> dict:
        return {"refund": Refund.from_pb(r.refund), "receipt": Receipt.from_pb(r.receipt),
                "plan": PaymentPlan.from_pb(r.plan)}


class CurrencyAgeing(Out):
    currency_code: str
    outstanding: Annotated[Money, Field(description="The sum of the five buckets.")]
    overdue: Money
    not_yet_due: Money
    days_1_30: Money
    days_31_60: Money
    days_61_90: Money
    over_90: Money
    plans: Annotated[int, Field(description="Plans with anything outstanding.")]


class AgeingReport(Out):
    as_of: DateOut
    currencies: Annotated[list[CurrencyAgeing], Field(description="One per currency, by code.")]

    @staticmethod
    def from_pb(r: pb.AgeingReport) -> dict:
        return {"as_of": _date_json(r.as_of), "currencies": [ageing_json(c) for c in r.currencies]}


def ageing_json(c: pb.CurrencyAgeing) -> dict:
    return {"currency_code": c.currency_code, "plans": c.plans,
            **{name: _money(getattr(c, name)) for name in ("outstanding", "overdue", "not_yet_due", "days_1_30",
                                                           "days_31_60", "days_61_90", "over_90")}}


def stub() -> pb_grpc.PaymentServiceStub:
    return g.downstream.stub("sales", pb_grpc.PaymentServiceStub)


def _allocations(items: list[AllocationIn]) -> list[pb.AllocationRequest]:
    return [pb.AllocationRequest(instalment=a.instalment, minor_units=a.minor_units) for a in items]


def _instalments(body: PlanReplace) -> list[pb.Instalment]:
    return [pb.Instalment(due_date=_date_pb(i.due_date), amount=_money_pb(i.amount)) for i in body.instalments]


# --- routes --------------------------------------------------------------------------------

@route(bp, "GET", "/orders/<order_id>/payment-plan", "getOrderPaymentPlan", "An order's payment plan",
       allow=READ, path=OrderPath, ok=Ok(PaymentPlan, "The plan."), errors=_NOT_FOUND, service="sales")
def get_order_plan(a: Args):
    return stub().GetPaymentPlan(pb.GetPaymentPlanRequest(order_id=a.path.order_id))


@route(bp, "PUT", "/orders/<order_id>/payment-plan", "replaceOrderPaymentPlan", "Replace an order's instalments",
       allow=PLAN, path=OrderPath, body=PlanReplace, ok=Ok(PaymentPlan, "The plan."),
       errors={**_NOT_FOUND, **_REFUSED}, service="sales",
       description="Finance, admins and the team's managers; only before any money is applied to the instalments.")
def replace_order_plan(a: Args):
    return stub().ReplaceInstalments(pb.ReplaceInstalmentsRequest(order_id=a.path.order_id,
                                                                  instalments=_instalments(a.body)))


@route(bp, "GET", "/contracts/<contract_id>/payment-plan", "getContractPaymentPlan", "A contract's payment plan",
       allow=READ, path=ContractPath, ok=Ok(PaymentPlan, "The plan."), errors=_NOT_FOUND, service="sales")
def get_contract_plan(a: Args):
    return stub().GetPaymentPlan(pb.GetPaymentPlanRequest(contract_id=a.path.contract_id))


@route(bp, "PUT", "/contracts/<contract_id>/payment-plan", "replaceContractPaymentPlan",
       "Replace a contract's instalments", allow=PLAN, path=ContractPath, body=PlanReplace,
       ok=Ok(PaymentPlan, "The plan."), errors={**_NOT_FOUND, **_REFUSED}, service="sales",
       description="Finance, admins and the team's managers; only before any money is applied to the instalments.")
def replace_contract_plan(a: Args):
    return stub().ReplaceInstalments(pb.ReplaceInstalmentsRequest(contract_id=a.path.contract_id,
                                                                  instalments=_instalments(a.body)))


@route(bp, "POST", "/receipts", "recordReceipt", "Record money received for an order or a contract", allow=MONEY,
       body=ReceiptCreate, ok=Ok(RecordedReceipt, "Recorded.", 201), errors={**_NOT_FOUND, **_REFUSED},
       service="sales",
       description="Name exactly one of order_id and contract_id. The total collected never exceeds what is owed: "
                   "a receipt over the outstanding amount is 409, saying by how much. With Idempotency-Key a retry "
                   "returns the first receipt.")
def record_receipt(a: Args):
    b = a.body
    message = pb.RecordReceiptRequest(order_id=b.order_id or "", contract_id=b.contract_id or "",
                                      method=_METHOD_TO_PB[b.method], amount=_money_pb(b.amount),
                                      reference=b.reference, allocations=_allocations(b.allocations),
                                      request_id=request_id())
    if b.received_date is not None:
        message.received_date.CopyFrom(_date_pb(b.received_date))
    return stub().RecordReceipt(message)


@route(bp, "POST", "/receipts/<receipt_id>/allocations", "allocateReceipt",
       "Apply a receipt's unallocated remainder to instalments", allow=MONEY, path=ReceiptPath, body=AllocationsIn,
       ok=Ok(PaymentPlan, "The plan after it."), errors={**_NOT_FOUND, **_REFUSED}, service="sales")
def allocate_receipt(a: Args):
    return stub().AllocateReceipt(pb.AllocateReceiptRequest(receipt_id=a.path.receipt_id,
                                                            allocations=_allocations(a.body.allocations)))


@route(bp, "POST", "/receipts/<receipt_id>/refunds", "refundReceipt", "Pay back part of a receipt", allow=MONEY,
       path=ReceiptPath, body=RefundCreate, ok=Ok(RecordedRefund, "Recorded.", 201),
       errors={**_NOT_FOUND, **_REFUSED}, service="sales",
       description="Refunding more than the receipt still holds is 409. With Idempotency-Key a retry returns the "
                   "first refund.")
def refund_receipt(a: Args):
    b = a.body
    message = pb.RefundReceiptRequest(receipt_id=a.path.receipt_id, amount=_money_pb(b.amount), reason=b.reason,
                                      request_id=request_id())
    if b.refund_date is not None:
        message.refund_date.CopyFrom(_date_pb(b.refund_date))
    return stub().RefundReceipt(message)


@route(bp, "POST", "/receipts/<receipt_id>/void", "voidReceipt", "Void a receipt recorded in error", allow=MONEY,
       path=ReceiptPath, body=VoidCreate, ok=Ok(RecordedRefund, "Recorded.", 201),
       errors={**_NOT_FOUND, **_REFUSED}, service="sales",
       description="All the receipt still holds goes back; the receipt stays on the plan with its history.")
def void_receipt(a: Args):
    return stub().VoidReceipt(pb.VoidReceiptRequest(receipt_id=a.path.receipt_id, reason=a.body.reason,
                                                    request_id=request_id()))


@route(bp, "GET", "/receivables/ageing", "getReceivablesAgeing", "Outstanding amounts by days past due",
       allow=READ, query=AgeingQuery, ok=Ok(AgeingReport, "Per currency."), service="sales",
       errors={404: "No such customer, or not one you may see.", 400: "Bad query parameter.",
               403: "Not a book you may see: reps see their own, managers their team's."},
       description="Buckets: not yet due, 1-30, 31-60, 61-90 and over 90 days past due; they add up to the "
                   "outstanding total. Name at most one of rep_id, team_id, customer_id. A rep's or a team's "
                   "book is read from its summary, which follows each receipt, refund or plan change within "
                   "the sales service's event lag (normally under a second); a customer's is read from its plans.")
def receivables_ageing(a: Args):
    q = a.query
    message = pb.GetAgeingRequest(rep_id=q.rep_id, team_id=q.team_id, customer_id=q.customer_id)
    if q.as_of is not None:
        message.as_of.CopyFrom(_date_pb(q.as_of))
    return stub().GetAgeing(message)
