"""/api/v1/opportunities: REST in, the sales service's OpportunityService gRPC out."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.sales.v1 import opportunity_service_pb2 as pb
from crm.sales.v1 import opportunity_service_pb2_grpc as pb_grpc

from crm_gateway.fields import NEXT_PAGE, Body, DateIn, Id, Out, PageSize, PageToken, Query, QueryBool, Time, \
    date_json, date_pb, money_json, optional, text
from crm_gateway.interactions import Money, MoneyIn
from crm_gateway.routing import Args, Header, Ok, Policy, RequestHeader, route
from crm_gateway.sales_products import expected_revision, money_pb

bp = Blueprint("sales_opportunities", __name__, url_prefix="/api/v1/opportunities")

# The service decides per opportunity (a rep's own, a manager's team's): these are the roles that may ask at all.
READ = Policy(("admin", "manager", "rep", "agent", "finance", "integration"), scope="sales:read")
WRITE = Policy(("admin", "manager", "rep", "integration"), scope="sales:write")
ETAG = Header("ETag", "The opportunity's revision; send it back in If-Match to change only what you read.",
              lambda m: f'"{m.revision}"')
IF_MATCH = RequestHeader("If-Match", "The ETag you read; optional: without it the change applies to the "
                                     "opportunity as it is now.")
_NOT_FOUND = {404: "No such opportunity, or not one you may see."}
_STALE = {412: "If-Match is stale: someone changed the opportunity since you read it.",
          409: "The opportunity is closed."}
_MONTH = r"^\d{4}-\d{2}$"
_SUMS = {400: "Bad query parameter.", 409: "Too many opportunities, or amounts too large, to add up at once (a sum "
                                           "above 10^15 minor units): name a team or an owner."}
_GROUPING = {"owner": pb.FORECAST_GROUPING_OWNER, "team": pb.FORECAST_GROUPING_TEAM}
_SCOPE_NOTE = ("By default the caller's own book: a rep's opportunities, a manager's team's, everyone's for "
               "admins, finance and agents; name an owner or a team (at most one) to narrow it.")


# --- request bodies and queries ----------------------------------------------------------

class OpportunityCreate(Body):
    customer_id: Id
    title: text(200, 1, description="What is being sold, in any script.")
    amount: Annotated[MoneyIn, Field(description="Expected value, more than zero.")]
    expected_close: Annotated[DateIn, Field(description="When it is expected to close.")]
    stage: text(32, description="The stage it opens in; the first configured stage when left out.") = ""
    owner_id: text(128, description="Who works on it; the customer's owner when left out (only managers and "
                                    "admins name someone else).") = ""


class OpportunityUpdate(Body):
    title: text(200, 1) = optional()
    amount: MoneyIn = optional()
    expected_close: DateIn = optional()
    owner_id: Annotated[str, Field(min_length=1, max_length=128,
                                   description="Give it to another owner (managers and admins).")] = optional()


class StageMove(Body):
    stage: text(32, 1, description="A configured stage, or won, lost, abandoned.")
    reason: text(500, description="Why; required for won, lost and abandoned.") = ""


class OpportunityPath(BaseModel):
    opportunity_id: Id


class OpportunitiesQuery(Query):
    customer_id: text(64, description="A customer's opportunities.") = ""
    owner_id: text(128, description="An owner's opportunities.") = ""
    team_id: text(128, description="A team's opportunities.") = ""
    open_only: Annotated[QueryBool, Field(description="Only open ones.")] = False
    page_size: PageSize = 50
    page_token: PageToken = ""


class ScopeQuery(Query):
    owner_id: text(128, description="Only this owner's opportunities.") = ""
    team_id: text(128, description="Only this team's opportunities.") = ""


class ForecastQuery(ScopeQuery):
    group_by: Annotated[Literal["owner", "team"], Field(description="One row per month and owner, or per month "
                                                                    "and team.")] = "owner"
    from_month: Annotated[str, Field(pattern=_MONTH, description="First month, YYYY-MM.")] = ""
    to_month: Annotated[str, Field(pattern=_MONTH, description="Last month, YYYY-MM.")] = ""


# --- answers -----------------------------------------------------------------------------

class StageChange(Out):
    stage: str
    entered_at: Time
    changed_by: str
    reason: str


class Opportunity(Out):
    id: str
    customer_id: str
    owner_id: str
    team_id: str
    title: str
    amount: Money
    expected_close: Annotated[str, Field(json_schema_extra={"format": "date"})]
    stage: str
    probability_pct: Annotated[int, Field(description="The stage's win probability (won 100, lost and "
                                                      "abandoned 0).")]
    weighted_amount: Annotated[Money, Field(description="amount × probability / 100, rounded down.")]
    stage_history: Annotated[list[StageChange], Field(description="Oldest first.")]
    closed: bool
    close_reason: str
    created_at: Time
    created_by: str
    updated_at: Time
    revision: int

    @staticmethod
    def from_pb(o: pb.Opportunity) -> dict:
        return {
            "id": o.id, "customer_id": o.customer_id, "owner_id": o.owner_id, "team_id": o.team_id,
            "title": o.title, "amount": money_json(o.amount), "expected_close": date_json(o.expected_close),
            "stage": o.stage, "probability_pct": o.probability_pct, "weighted_amount": money_json(o.weighted_amount),
            "stage_history": [{"stage": c.stage, "entered_at": c.enter_time.ToJsonString(),
                               "changed_by": c.changed_by, "reason": c.reason} for c in o.stage_history],
            "closed": o.closed, "close_reason": o.close_reason, "created_at": o.create_time.ToJsonString(),
            "created_by": o.created_by, "updated_at": o.update_time.ToJsonString(), "revision": o.revision,
        }


class OpportunityPage(Out):
    items: Annotated[list[Opportunity], Field(description="In the order they came to the list; a page may be "
                                                          "short.")]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(page: pb.ListOpportunitiesResponse) -> dict:
        return {"items": [Opportunity.from_pb(o) for o in page.opportunities],
                "next_page_token": page.next_page_token}


class Stage(Out):
    name: str
    probability_pct: int


class Stages(Out):
    items: Annotated[list[Stage], Field(description="In pipeline order; won, lost and abandoned follow.")]

    @staticmethod
    def from_pb(r: pb.ListStagesResponse) -> dict:
        return {"items": [{"name": s.name, "probability_pct": s.probability_pct} for s in r.stages]}


class ForecastRow(Out):
    month: Annotated[str, Field(description="YYYY-MM: the expected close month, or the month it was won.")]
    group_id: Annotated[str, Field(description="The owner or team.")]
    count: int
    amount: Money
    weighted_amount: Annotated[Money, Field(description="Σ(amount × probability) / 100, rounded down once.")]
    won_amount: Money


class Forecast(Out):
    items: Annotated[list[ForecastRow], Field(description="Open and won opportunities, in month, group and "
                                                          "currency order.")]

    @staticmethod
    def from_pb(r: pb.GetForecastResponse) -> dict:
        return {"items": [{"month": row.month, "group_id": row.group_id, "count": row.count,
                           "amount": money_json(row.amount), "weighted_amount": money_json(row.weighted_amount),
                           "won_amount": money_json(row.won_amount)} for row in r.rows]}


class FunnelStage(Out):
    stage: str
    probability_pct: int
    count: Annotated[int, Field(description="Opportunities in the stage now.")]
    amounts: Annotated[list[Money], Field(description="Their amounts, one per currency.")]
    reached: Annotated[int, Field(description="Opportunities that ever got this far (won: past every stage).")]
    conversion_bp: Annotated[int | None, Field(description="Share of those that reached the next stage, in basis "
                                                           "points rounded down; null when none reached this one, "
                                                           "and for won, lost, abandoned.")]


class Funnel(Out):
    items: Annotated[list[FunnelStage], Field(description="The stages in pipeline order, then won, lost, "
                                                          "abandoned.")]

    @staticmethod
    def from_pb(r: pb.GetFunnelResponse) -> dict:
        return {"items": [{"stage": s.stage, "probability_pct": s.probability_pct, "count": s.count,
                           "amounts": [money_json(m) for m in s.amounts], "reached": s.reached,
                           "conversion_bp": s.conversion_bp if s.HasField("conversion_bp") else None}
                          for s in r.stages]}


def stub() -> pb_grpc.OpportunityServiceStub:
    return g.downstream.stub("sales", pb_grpc.OpportunityServiceStub)


# --- routes --------------------------------------------------------------------------------

@route(bp, "POST", "", "createOpportunity", "Open an opportunity for a customer", allow=WRITE,
       body=OpportunityCreate, ok=Ok(Opportunity, "The opportunity.", 201, (ETAG,)), service="sales",
       errors={404: "No such customer, or not one you may see.",
               409: "The customer is in the public pool: name an owner."},
       description="Money is integer minor units plus an ISO 4217 code.")
def create_opportunity(a: Args):
    b = a.body
    return stub().CreateOpportunity(pb.CreateOpportunityRequest(opportunity=pb.Opportunity(
        customer_id=b.customer_id, title=b.title, amount=money_pb(b.amount), expected_close=date_pb(b.expected_close),
        stage=b.stage, owner_id=b.owner_id)))


@route(bp, "GET", "", "listOpportunities", "A customer's, an owner's or a team's opportunities", allow=READ,
       query=OpportunitiesQuery, ok=Ok(OpportunityPage, "A page of opportunities."), service="sales",
       errors={404: "No such customer, or not one you may see.", 400: "Bad query parameter or page token."},
       description=_SCOPE_NOTE)
def list_opportunities(a: Args):
    q = a.query
    return stub().ListOpportunities(pb.ListOpportunitiesRequest(
        customer_id=q.customer_id, owner_id=q.owner_id, team_id=q.team_id, open_only=q.open_only,
        page_size=q.page_size, page_token=q.page_token))


@route(bp, "GET", "/stages", "listOpportunityStages", "The pipeline's stages and their win probabilities",
       allow=READ, ok=Ok(Stages, "The configured stages."), service="sales")
def list_stages(a: Args):
    return stub().ListStages(pb.ListStagesRequest())


@route(bp, "GET", "/forecast", "getOpportunityForecast", "The weighted forecast per month and rep or team",
       allow=READ, query=ForecastQuery, ok=Ok(Forecast, "The forecast."), service="sales",
       errors=_SUMS, description=_SCOPE_NOTE)
def forecast(a: Args):
    q = a.query
    return stub().GetForecast(pb.GetForecastRequest(group_by=_GROUPING[q.group_by], owner_id=q.owner_id,
                                                    team_id=q.team_id, from_month=q.from_month,
                                                    to_month=q.to_month))


@route(bp, "GET", "/funnel", "getOpportunityFunnel", "Count and amount per stage, conversion between stages",
       allow=READ, query=ScopeQuery, ok=Ok(Funnel, "The funnel."), service="sales",
       errors=_SUMS, description=_SCOPE_NOTE)
def funnel(a: Args):
    return stub().GetFunnel(pb.GetFunnelRequest(owner_id=a.query.owner_id, team_id=a.query.team_id))


@route(bp, "GET", "/<opportunity_id>", "getOpportunity", "Get an opportunity", allow=READ, path=OpportunityPath,
       ok=Ok(Opportunity, "The opportunity.", headers=(ETAG,)), errors=_NOT_FOUND, service="sales")
def get_opportunity(a: Args):
    return stub().GetOpportunity(pb.GetOpportunityRequest(id=a.path.opportunity_id))


@route(bp, "PATCH", "/<opportunity_id>", "updateOpportunity", "Change an open opportunity", allow=WRITE,
       path=OpportunityPath, body=OpportunityUpdate, request_headers=(IF_MATCH,),
       ok=Ok(Opportunity, "The opportunity as changed.", headers=(ETAG,)), errors={**_NOT_FOUND, **_STALE},
       service="sales", description="Send only what changes: title, amount, expected close, or (managers and "
                                    "admins) the owner.")
def update_opportunity(a: Args):
    b = a.body
    message = pb.UpdateOpportunityRequest(id=a.path.opportunity_id, expected_revision=expected_revision())
    if b.title is not None:
        message.title = b.title
    if b.owner_id is not None:
        message.owner_id = b.owner_id
    if b.amount is not None:
        message.amount.CopyFrom(money_pb(b.amount))
    if b.expected_close is not None:
        message.expected_close.CopyFrom(date_pb(b.expected_close))
    return stub().UpdateOpportunity(message)


@route(bp, "POST", "/<opportunity_id>/stage", "moveOpportunityStage",
       "Move an opportunity to another stage, or close it", allow=WRITE, path=OpportunityPath, body=StageMove,
       request_headers=(IF_MATCH,), ok=Ok(Opportunity, "The opportunity in its new stage.", headers=(ETAG,)),
       errors={**_NOT_FOUND, **_STALE}, service="sales",
       description="won, lost and abandoned close it (a reason is required); repeating the closing move returns it "
                   "unchanged.")
def move_stage(a: Args):
    return stub().MoveOpportunityStage(pb.MoveOpportunityStageRequest(
        id=a.path.opportunity_id, stage=a.body.stage, reason=a.body.reason, expected_revision=expected_revision()))
