"""gRPC transport for the pipeline: messages in, use cases, messages out."""

from __future__ import annotations

from crm.sales.v1 import opportunity_service_pb2 as pb
from crm.sales.v1 import opportunity_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal

from crm_sales.opportunities import model as rules
from crm_sales.opportunities.model import FunnelStage, ForecastRow, Opportunity, OpportunityChanges
from crm_sales.opportunities.service import OpportunityService
from crm_sales.wire import date_from_pb, date_pb, money_from_pb, money_pb, timestamp_pb

GROUPING = {pb.FORECAST_GROUPING_UNSPECIFIED: "owner", pb.FORECAST_GROUPING_OWNER: "owner",
            pb.FORECAST_GROUPING_TEAM: "team"}


class OpportunityServicer(pb_grpc.OpportunityServiceServicer):
    def __init__(self, service: OpportunityService):
        self.service = service

    def CreateOpportunity(self, request, context):
        o = request.opportunity
        violations: list[FieldViolation] = []
        expected_close = _collect_date(violations, o, "expected_close")
        try:
            draft = rules.build_draft(
                customer_id=o.customer_id, title=o.title,
                amount=money_from_pb(o.amount) if o.HasField("amount") else None,
                expected_close=expected_close, stage=o.stage, owner_id=o.owner_id, stages=self.service.stages,
                today=self.service.today())
        except InvalidArgument as err:
            bad_date = bool(violations)  # only the date's own violation so far: "is required" would repeat it
            violations.extend(v for v in err.violations if not (v.field == "expected_close" and bad_date))
            draft = None
        if violations:
            raise InvalidArgument(violations)
        return self._pb(self.service.create(current_principal(), draft))

    def GetOpportunity(self, request, context):
        return self._pb(self.service.get(current_principal(), request.id))

    def ListOpportunities(self, request, context):
        page, token = self.service.list(current_principal(), customer_id=request.customer_id,
                                        owner_id=request.owner_id, team_id=request.team_id,
                                        open_only=request.open_only, page_size=request.page_size,
                                        page_token=request.page_token)
        return pb.ListOpportunitiesResponse(opportunities=[self._pb(o) for o in page], next_page_token=token)

    def UpdateOpportunity(self, request, context):
        violations: list[FieldViolation] = []
        expected_close = _collect_date(violations, request, "expected_close") \
            if request.HasField("expected_close") else None
        if violations:
            raise InvalidArgument(violations)
        changes = OpportunityChanges(
            title=request.title if request.HasField("title") else None,
            amount=money_from_pb(request.amount) if request.HasField("amount") else None,
            expected_close=expected_close,
            owner_id=request.owner_id if request.HasField("owner_id") else None)
        return self._pb(self.service.update(current_principal(), request.id, changes, request.expected_revision))

    def MoveOpportunityStage(self, request, context):
        return self._pb(self.service.move(current_principal(), request.id, request.stage, request.reason,
                                          request.expected_revision))

    def ListStages(self, request, context):
        return pb.ListStagesResponse(stages=[pb.Stage(name=s.name, probability_pct=s.probability)
                                             for s in self.service.stages.stages])

    def GetForecast(self, request, context):
        group_by = GROUPING.get(request.group_by)
        if group_by is None:
            raise InvalidArgument(FieldViolation("group_by", "must be owner or team"))
        rows = self.service.forecast(current_principal(), group_by=group_by, owner_id=request.owner_id,
                                     team_id=request.team_id, from_month=request.from_month,
                                     to_month=request.to_month)
        return pb.GetForecastResponse(rows=[_row_pb(r) for r in rows])

    def GetFunnel(self, request, context):
        stages = self.service.funnel(current_principal(), owner_id=request.owner_id, team_id=request.team_id)
        return pb.GetFunnelResponse(stages=[_funnel_pb(s) for s in stages])

    def _pb(self, o: Opportunity) -> pb.Opportunity:
        return to_pb(o, self.service.stages)


def _collect_date(violations: list[FieldViolation], message, field_name: str):
    if not message.HasField(field_name):
        return None
    try:
        return date_from_pb(getattr(message, field_name), field_name)
    except InvalidArgument as err:
        violations.extend(err.violations)
        return None


def to_pb(o: Opportunity, stages: rules.StageSet) -> pb.Opportunity:
    probability = stages.probability(o.stage)
    return pb.Opportunity(
        id=o.id, customer_id=o.customer_id, owner_id=o.owner_id, team_id=o.team_id, title=o.title,
        amount=money_pb(o.amount), expected_close=date_pb(o.expected_close), stage=o.stage,
        probability_pct=probability, weighted_amount=money_pb(rules.weighted(o.amount, probability)),
        stage_history=[pb.StageChange(stage=c.stage, enter_time=timestamp_pb(c.at), changed_by=c.by, reason=c.reason)
                       for c in o.history],
        closed=not o.is_open, close_reason=o.close_reason, create_time=timestamp_pb(o.created_at),
        created_by=o.created_by, update_time=timestamp_pb(o.updated_at), revision=o.revision)


def _row_pb(r: ForecastRow) -> pb.ForecastRow:
    return pb.ForecastRow(month=r.month, group_id=r.group, count=r.count, amount=money_pb(r.amount),
                          weighted_amount=money_pb(r.weighted), won_amount=money_pb(r.won))


def _funnel_pb(s: FunnelStage) -> pb.FunnelStage:
    msg = pb.FunnelStage(stage=s.stage, probability_pct=s.probability, count=s.count,
                         amounts=[money_pb(m) for m in s.amounts], reached=s.reached)
    if s.conversion_bp is not None:
        msg.conversion_bp = s.conversion_bp
    return msg
