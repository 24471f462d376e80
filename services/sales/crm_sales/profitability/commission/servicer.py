"""gRPC transport for commission: messages in, use cases, messages out."""

from __future__ import annotations

from crm.common.v1 import common_pb2
from crm.sales.v1 import commission_service_pb2 as pb
from crm.sales.v1 import commission_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal

from crm_sales.profitability.commission.model import Assignment, Band, CommissionLine, CommissionPlan, Setup
from crm_sales.profitability.commission.service import CommissionService
from crm_sales.profitability.months import Month
from crm_sales.wire import timestamp_pb

BASE_TO_PB = {"margin": pb.COMMISSION_BASE_MARGIN, "revenue": pb.COMMISSION_BASE_REVENUE}
BASE_FROM_PB = {v: k for k, v in BASE_TO_PB.items()}


class CommissionServicer(pb_grpc.CommissionServiceServicer):
    def __init__(self, service: CommissionService):
        self.service = service

    def GetCommissionSetup(self, request, context):
        return setup_to_pb(self.service.setup(current_principal()))

    def PutCommissionPlan(self, request, context):
        p = request.plan
        plan = CommissionPlan(p.id, p.name, BASE_FROM_PB.get(p.base, ""), p.currency_code,
                              tuple((r.grade, r.rate_bp) for r in p.rates),
                              tuple(Band(b.above_minor_units, b.extra_bp) for b in p.bands))
        return setup_to_pb(self.service.put_plan(current_principal(), plan))

    def AssignCommissionPlan(self, request, context):
        a = request.assignment
        return setup_to_pb(self.service.assign(current_principal(), Assignment(
            a.scope, a.plan_id, Month.parse(a.from_month, "assignment.from_month"))))

    def GetCommissionStatement(self, request, context):
        principal = current_principal()
        view = self.service.statement(principal, request.rep_id or principal.subject,
                                      _month(request.month))
        s = view.statement
        return pb.CommissionStatement(
            rep_id=s.rep_id, month=str(s.month), team_id=s.team_id, plan_id=view.plan_id, closed=s.closed,
            lines=[line_to_pb(x, view.shows_costs) for x in s.lines], bonus=_amounts(view.bonus),
            totals=_amounts(view.totals))

    def GetTeamCommission(self, request, context):
        principal = current_principal()
        team_id = request.team_id or principal.team
        month = _month(request.month)
        reps = self.service.team_totals(principal, team_id, month)
        summed: dict[str, int] = {}
        for rep in reps:
            for currency, amount in rep.totals.items():
                summed[currency] = summed.get(currency, 0) + amount
        return pb.TeamCommission(team_id=team_id, month=str(month), totals=_amounts(summed), reps=[
            pb.RepCommission(rep_id=r.rep_id, totals=_amounts(r.totals), closed=r.closed) for r in reps])

    def CloseCommissionMonth(self, request, context):
        month = _month(request.month)
        frozen, decision = self.service.close_month(current_principal(), month)
        return pb.CloseCommissionMonthResponse(month=str(month), statements_closed=frozen,
                                               closed_by=decision.get("closed_by", ""),
                                               closed_at=timestamp_pb(decision["closed_at"]))


def _month(text: str) -> Month:
    if not text:
        raise InvalidArgument(FieldViolation("month", "is required"))
    return Month.parse(text, "month")


def _amounts(by_currency: dict[str, int]) -> list[common_pb2.Money]:
    return [common_pb2.Money(minor_units=v, currency_code=c) for c, v in sorted(by_currency.items())]


def line_to_pb(x: CommissionLine, shows_costs: bool) -> pb.CommissionLine:
    out = pb.CommissionLine(
        kind=x.kind, order_id=x.order_id, line_id=x.line_id, product_id=x.product_id, receipt_id=x.receipt_id,
        refund_id=x.refund_id, rate_bp=x.rate_bp,
        amount=common_pb2.Money(minor_units=x.amount, currency_code=x.currency_code), counts_in=x.counts_in,
        event_id=x.event_id)
    if shows_costs:
        out.margin_grade = x.grade
        out.base.CopyFrom(common_pb2.Money(minor_units=x.base, currency_code=x.currency_code))
    return out


def setup_to_pb(s: Setup) -> pb.CommissionSetup:
    return pb.CommissionSetup(revision=s.revision, plans=[pb.CommissionPlan(
        id=p.id, name=p.name, base=BASE_TO_PB[p.base], currency_code=p.currency_code,
        rates=[pb.GradeRate(grade=g, rate_bp=r) for g, r in p.rates],
        bands=[pb.CommissionBand(above_minor_units=b.above, extra_bp=b.extra_bp) for b in p.bands])
        for p in s.plans], assignments=[pb.CommissionAssignment(scope=a.scope, plan_id=a.plan_id,
                                                                from_month=str(a.from_month))
                                        for a in s.assignments])
