"""gRPC transport for targets, attainment and rankings: messages in, use cases, messages out."""

from __future__ import annotations

from crm.sales.v1 import target_service_pb2 as pb
from crm.sales.v1 import target_service_pb2_grpc as pb_grpc
from crm_kit.grpc_server import current_principal

from crm_sales.profitability.targets.model import MonthFigures, Target
from crm_sales.profitability.targets.service import AttainmentReport, RankEntry, Ranking, TargetService
from crm_sales.wire import timestamp_pb


class TargetServicer(pb_grpc.TargetServiceServicer):
    def __init__(self, service: TargetService):
        self.service = service

    def SetTarget(self, request, context):
        principal = current_principal()
        r = request
        return target_pb(self.service.set(principal, r.scope, r.subject_id, r.team_id, r.month, r.currency_code,
                                          r.revenue_minor_units, r.margin_minor_units, r.cash_minor_units),
                         principal)

    def ListTargets(self, request, context):
        principal = current_principal()
        r = request
        found = self.service.list(principal, r.scope, r.subject_id, r.start_month, r.end_month, r.currency_code)
        return pb.ListTargetsResponse(targets=[target_pb(t, principal) for t in found])

    def GetAttainment(self, request, context):
        r = request
        return attainment_pb(self.service.attainment(current_principal(), r.scope, r.subject_id, r.start_month,
                                                     r.end_month, r.currency_code))

    def RankReps(self, request, context):
        r = request
        return ranking_pb(self.service.rank(current_principal(), r.metric, r.start_month, r.end_month,
                                            r.currency_code, r.team_id, r.limit))


def target_pb(t: Target, principal) -> pb.Target:
    from crm_sales import access

    msg = pb.Target(scope=t.scope, subject_id=t.subject_id, team_id=t.team_id, month=str(t.month),
                    currency_code=t.currency, revenue_minor_units=t.goals.revenue,
                    margin_minor_units=t.goals.margin, cash_minor_units=t.goals.cash,
                    margin_hidden=not access.sees_costs(principal), revision=t.revision, updated_by=t.updated_by)
    if t.updated_at is not None:
        msg.updated_at.CopyFrom(timestamp_pb(t.updated_at))
    return msg


def month_pb(row: MonthFigures) -> pb.MonthAttainment:
    msg = pb.MonthAttainment(
        month=row.label, target_revenue_minor_units=row.target.revenue, target_margin_minor_units=row.target.margin,
        target_cash_minor_units=row.target.cash, actual_revenue_minor_units=row.actual.revenue,
        actual_margin_minor_units=row.actual.margin, actual_cash_minor_units=row.actual.cash)
    for name, value in (("revenue_attainment_bp", row.revenue_bp), ("margin_attainment_bp", row.margin_bp),
                        ("cash_attainment_bp", row.cash_bp)):
        if value is not None:
            setattr(msg, name, value)
    return msg


def attainment_pb(a: AttainmentReport) -> pb.Attainment:
    return pb.Attainment(scope=a.scope, subject_id=a.subject_id, currency_code=a.currency,
                         months=[month_pb(m) for m in a.months], total=month_pb(a.total),
                         margin_hidden=a.margin_hidden)


def entry_pb(e: RankEntry) -> pb.RankEntry:
    return pb.RankEntry(rank=e.rank, rep_id=e.rep_id, team_id=e.team_id, value=e.value, value_hidden=e.value_hidden)


def ranking_pb(r: Ranking) -> pb.RankRepsResponse:
    msg = pb.RankRepsResponse(metric=r.metric, entries=[entry_pb(e) for e in r.entries], ranked=r.ranked)
    if r.own is not None:
        msg.own.CopyFrom(entry_pb(r.own))
    return msg
