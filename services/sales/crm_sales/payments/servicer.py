"""gRPC transport for payment plans: messages in, use cases, messages out."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import common_pb2
from crm.sales.v1 import payment_service_pb2 as pb
from crm.sales.v1 import payment_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal
from crm_kit.money import Money

from crm_sales import wire
from crm_sales.payments import model
from crm_sales.payments.model import Ageing, Plan, Receipt, Refund
from crm_sales.payments.service import PaymentService
from crm_sales.wire import date_from_pb, date_pb

METHOD_TO_PB = {name: pb.PaymentMethod.Value(f"PAYMENT_METHOD_{name.upper()}") for name in model.METHODS}
METHOD_FROM_PB = {v: k for k, v in METHOD_TO_PB.items()}


class PaymentServicer(pb_grpc.PaymentServiceServicer):
    def __init__(self, service: PaymentService):
        self.service = service

    def GetPaymentPlan(self, request, context):
        return plan_to_pb(self.service.get_plan(current_principal(), *debt_of(request)))

    def ReplaceInstalments(self, request, context):
        wanted, currency = [], ""
        for i, item in enumerate(request.instalments):
            wanted.append((date_from_pb(item.due_date, f"instalments[{i}].due_date"), item.amount.minor_units))
            currency = currency or item.amount.currency_code
            if item.amount.currency_code != currency:
                raise InvalidArgument(FieldViolation(f"instalments[{i}].amount.currency_code",
                                                     "must be the same currency for every instalment"))
        return plan_to_pb(self.service.replace_instalments(current_principal(), *debt_of(request), wanted, currency))

    def RecordReceipt(self, request, context):
        plan, receipt = self.service.record_receipt(
            current_principal(), *debt_of(request), method=METHOD_FROM_PB.get(request.method, ""),
            amount=money_from_pb(request.amount, "amount"),
            received_on=date_from_pb(request.received_date, "received_date")
            if request.HasField("received_date") else None,
            reference=request.reference, allocations=allocations_from_pb(request.allocations) or None,
            request_id=request.request_id)
        return pb.RecordReceiptResponse(receipt=receipt_to_pb(plan, receipt), plan=plan_to_pb(plan))

    def AllocateReceipt(self, request, context):
        _require(request.receipt_id, "receipt_id")
        return plan_to_pb(self.service.allocate(current_principal(), request.receipt_id,
                                                allocations_from_pb(request.allocations)))

    def RefundReceipt(self, request, context):
        _require(request.receipt_id, "receipt_id")
        plan, receipt, refund = self.service.refund(
            current_principal(), request.receipt_id,
            amount=money_from_pb(request.amount, "amount") if request.HasField("amount") else None,
            refunded_on=date_from_pb(request.refund_date, "refund_date") if request.HasField("refund_date") else None,
            reason=request.reason, request_id=request.request_id)
        return _refund_response(plan, receipt, refund)

    def VoidReceipt(self, request, context):
        _require(request.receipt_id, "receipt_id")
        plan, receipt, refund = self.service.refund(current_principal(), request.receipt_id, amount=None,
                                                    void=True, reason=request.reason, request_id=request.request_id)
        return _refund_response(plan, receipt, refund)

    def GetAgeing(self, request, context):
        as_of = date_from_pb(request.as_of, "as_of") if request.HasField("as_of") else self.service.today()
        report = self.service.ageing(current_principal(), rep_id=request.rep_id, team_id=request.team_id,
                                     customer_id=request.customer_id, as_of=as_of)
        return pb.AgeingReport(as_of=date_pb(as_of), currencies=[ageing_to_pb(a) for a in report])


def _require(value: str, field_name: str) -> None:
    if not value:
        raise InvalidArgument(FieldViolation(field_name, "is required"))


def _refund_response(plan: Plan, receipt: Receipt, refund: Refund) -> pb.RefundReceiptResponse:
    return pb.RefundReceiptResponse(refund=refund_to_pb(plan, refund), receipt=receipt_to_pb(plan, receipt),
                                    plan=plan_to_pb(plan))


# --- messages -> domain -----------------------------------------------------------

def debt_of(request) -> tuple[str, str]:
    """(kind, id) from a request naming exactly one of order_id and contract_id."""
    if bool(request.order_id) == bool(request.contract_id):
        raise InvalidArgument(FieldViolation("order_id", "name exactly one of order_id and contract_id"))
    return ("order", request.order_id) if request.order_id else ("contract", request.contract_id)


def money_from_pb(m: common_pb2.Money, field_name: str) -> Money:
    if not m.currency_code:
        raise InvalidArgument(FieldViolation(f"{field_name}.currency_code", "is required"))
    return wire.money_from_pb(m)


def allocations_from_pb(items) -> list[tuple[int, int]]:
    return [(a.instalment, a.minor_units) for a in items]


# --- domain -> messages -----------------------------------------------------------

def money_pb(minor: int, currency: str) -> common_pb2.Money:
    return wire.money_pb(Money(minor, currency))


def timestamp_pb(moment) -> Timestamp:
    return wire.timestamp_pb(moment) if moment is not None else Timestamp()


def refund_to_pb(plan: Plan, f: Refund) -> pb.Refund:
    return pb.Refund(id=f.id, amount=money_pb(f.amount, plan.currency), refund_date=date_pb(f.refunded_on),
                     void=f.void, reason=f.reason, recorded_by=f.recorded_by, record_time=timestamp_pb(f.recorded_at))


def receipt_to_pb(plan: Plan, r: Receipt) -> pb.Receipt:
    c = plan.currency
    return pb.Receipt(
        id=r.id, method=METHOD_TO_PB.get(r.method, pb.PAYMENT_METHOD_OTHER), amount=money_pb(r.amount, c),
        received_date=date_pb(r.received_on), reference=r.reference, recorded_by=r.recorded_by,
        record_time=timestamp_pb(r.recorded_at),
        allocations=[pb.Allocation(instalment=a.number, amount=money_pb(a.amount, c), effective_date=date_pb(a.on))
                     for a in r.allocations],
        refunds=[refund_to_pb(plan, f) for f in r.refunds], net=money_pb(r.net, c),
        unallocated=money_pb(r.unallocated, c))


def plan_to_pb(p: Plan) -> pb.PaymentPlan:
    c = p.currency
    return pb.PaymentPlan(
        order_id=p.debt_id if p.kind == "order" else "", contract_id=p.debt_id if p.kind == "contract" else "",
        customer_id=p.customer_id, owner_id=p.owner_id, team_id=p.team_id, total=money_pb(p.total, c),
        start_date=date_pb(p.starts_on),
        instalments=[pb.Instalment(number=i.number, due_date=date_pb(i.due_on), amount=money_pb(i.amount, c),
                                   paid=money_pb(p.paid_to(i.number), c), unpaid=money_pb(p.unpaid(i), c))
                     for i in p.instalments],
        receipts=[receipt_to_pb(p, r) for r in p.receipts], collected=money_pb(p.collected, c),
        balance=money_pb(max(p.balance, 0), c), credit=money_pb(p.credit, c), cancelled=p.cancelled,
        paid=p.fully_paid, revision=p.revision)


def ageing_to_pb(a: Ageing) -> pb.CurrencyAgeing:
    c = a.currency
    return pb.CurrencyAgeing(currency_code=c, outstanding=money_pb(a.outstanding, c), overdue=money_pb(a.overdue, c),
                             plans=a.plans, **{name: money_pb(a.buckets[name], c) for name in model.BUCKETS})
