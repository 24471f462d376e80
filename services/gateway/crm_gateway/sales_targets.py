"""/api/v1/targets and /api/v1/rankings: REST in, the sales service's
TargetService gRPC out (monthly rep and team targets, attainment against
the profitability roll-ups, rep rankings)."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.sales.v1 import target_service_pb2 as pb
from crm.sales.v1 import target_service_pb2_grpc as pb_grpc

from crm_gateway.fields import Body, NullableTime, Out, Query
from crm_gateway.routing import Args, Ok, Policy, route

bp = Blueprint("sales_targets", __name__, url_prefix="/api/v1")

# The service decides per rep and team (a rep's own, a manager's team); these may ask at all.
READ = Policy(("admin", "manager", "rep", "finance", "integration"), scope="sales:read")
SET = Policy(("admin", "manager"))
SubjectId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@:-]*$")]
MonthIn = Annotated[str, Field(min_length=7, max_length=7, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]
Currency = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$", description="ISO 4217")]
Minor = Annotated[int, Field(ge=0, le=10**15, description="Whole minor units.")]
_RIGHTS = """Managers set and read their team's targets (the team's and its reps'; a rep's target belongs to the
team that set it), admins all, finance reads all; a rep reads their own and their team's, without margin figures
(margin fields 0, margin_hidden true)."""
_DENIED = {403: "Not yours to read or set.", 422: "A bad field (named)."}


class TargetPath(BaseModel):
    scope: Literal["rep", "team"]
    subject_id: SubjectId
    month: MonthIn
    currency_code: Currency


class SubjectPath(BaseModel):
    scope: Literal["rep", "team"]
    subject_id: SubjectId


class TargetSet(Body):
    revenue_minor_units: Minor = 0
    margin_minor_units: Minor = 0
    cash_minor_units: Minor = 0
    team_id: Annotated[str, Field(max_length=128, description="A rep target's team (admins; managers: their "
                                                              "own, the default).")] = ""


class RangeQuery(Query):
    start_month: MonthIn
    end_month: Annotated[str, Field(max_length=7, pattern=r"^(\d{4}-\d{2})?$",
                                    description="YYYY-MM; start_month when left out; at most 36 months.")] = ""
    currency_code: Currency


class RankQuery(RangeQuery):
    metric: Literal["revenue", "margin", "cash", "new_customers", "orders"]
    team_id: Annotated[str, Field(max_length=128, description="Finance and admins: one team only.")] = ""
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class Target(Out):
    scope: str
    subject_id: str
    team_id: str
    month: str
    currency_code: str
    revenue_minor_units: int
    margin_minor_units: int
    cash_minor_units: int
    margin_hidden: bool
    revision: int
    updated_at: NullableTime
    updated_by: str

    @staticmethod
    def from_pb(t: pb.Target) -> dict:
        return {"scope": t.scope, "subject_id": t.subject_id, "team_id": t.team_id, "month": t.month,
                "currency_code": t.currency_code, "revenue_minor_units": t.revenue_minor_units,
                "margin_minor_units": t.margin_minor_units, "cash_minor_units": t.cash_minor_units,
                "margin_hidden": t.margin_hidden, "revision": t.revision,
                "updated_at": t.updated_at.ToJsonString() if t.HasField("updated_at") else None,
                "updated_by": t.updated_by}


class TargetList(Out):
    targets: list[Target]

    @staticmethod
    def from_pb(r: pb.ListTargetsResponse) -> dict:
        return {"targets": [Target.from_pb(t) for t in r.targets]}


Bp = Annotated[int | None, Field(description="Actual over target in basis points (10000 = met), rounded down; "
                                             "null when the target is 0.")]


class MonthAttainment(Out):
    month: str
    target_revenue_minor_units: int
    target_margin_minor_units: int
    target_cash_minor_units: int
    actual_revenue_minor_units: int
    actual_margin_minor_units: int
    actual_cash_minor_units: int
    revenue_attainment_bp: Bp
    margin_attainment_bp: Bp
    cash_attainment_bp: Bp

    @staticmethod
    def from_pb(m: pb.MonthAttainment) -> dict:
        out = {name: getattr(m, name) for name in (
            "month", "target_revenue_minor_units", "target_margin_minor_units", "target_cash_minor_units",
            "actual_revenue_minor_units", "actual_margin_minor_units", "actual_cash_minor_units")}
        for name in ("revenue_attainment_bp", "margin_attainment_bp", "cash_attainment_bp"):
            out[name] = getattr(m, name) if m.HasField(name) else None
        return out


class Attainment(Out):
    scope: str
    subject_id: str
    currency_code: str
    months: Annotated[list[MonthAttainment], Field(description="Every month of the range, oldest first.")]
    total: Annotated[MonthAttainment, Field(description='The range summed; month is "YYYY-MM..YYYY-MM".')]
    margin_hidden: bool

    @staticmethod
    def from_pb(a: pb.Attainment) -> dict:
        return {"scope": a.scope, "subject_id": a.subject_id, "currency_code": a.currency_code,
                "months": [MonthAttainment.from_pb(m) for m in a.months], "total": MonthAttainment.from_pb(a.total),
                "margin_hidden": a.margin_hidden}


class RankEntry(Out):
    rank: Annotated[int, Field(description="1 for the best; equal figures share a rank (1, 2, 2, 4).")]
    rep_id: str
    team_id: str
    value: Annotated[int, Field(description="Minor units or a count; 0 when hidden.")]
    value_hidden: bool

    @staticmethod
    def from_pb(e: pb.RankEntry) -> dict:
        return {"rank": e.rank, "rep_id": e.rep_id, "team_id": e.team_id, "value": e.value,
                "value_hidden": e.value_hidden}


class Ranking(Out):
    metric: str
    entries: list[RankEntry]
    own: Annotated[RankEntry | None, Field(description="The caller's own entry when they are a ranked rep.")]
    ranked: Annotated[int, Field(description="How many reps were ranked.")]

    @staticmethod
    def from_pb(r: pb.RankRepsResponse) -> dict:
        return {"metric": r.metric, "entries": [RankEntry.from_pb(e) for e in r.entries],
                "own": RankEntry.from_pb(r.own) if r.HasField("own") else None, "ranked": r.ranked}


def stub() -> pb_grpc.TargetServiceStub:
    return g.downstream.stub("sales", pb_grpc.TargetServiceStub)


@route(bp, "PUT", "/targets/<scope>/<subject_id>/<month>/<currency_code>", "setTarget",
       "Set one month's target of a rep or a team", allow=SET, path=TargetPath, body=TargetSet,
       ok=Ok(Target, "The target as stored."), errors=_DENIED, service="sales",
       description="At least one figure above 0. " + _RIGHTS)
def set_target(a: Args):
    p, b = a.path, a.body
    return stub().SetTarget(pb.SetTargetRequest(
        scope=p.scope, subject_id=p.subject_id, team_id=b.team_id, month=p.month, currency_code=p.currency_code,
        revenue_minor_units=b.revenue_minor_units, margin_minor_units=b.margin_minor_units,
        cash_minor_units=b.cash_minor_units))


@route(bp, "GET", "/targets/<scope>/<subject_id>", "listTargets", "A rep's or a team's targets over months",
       allow=READ, path=SubjectPath, query=RangeQuery, ok=Ok(TargetList, "The targets set, oldest first."),
       errors=_DENIED, service="sales", description=_RIGHTS)
def list_targets(a: Args):
    q = a.query
    return stub().ListTargets(pb.ListTargetsRequest(scope=a.path.scope, subject_id=a.path.subject_id,
                                                    start_month=q.start_month, end_month=q.end_month,
                                                    currency_code=q.currency_code))


@route(bp, "GET", "/targets/<scope>/<subject_id>/attainment", "getAttainment",
       "Target against actual, month by month", allow=READ, path=SubjectPath, query=RangeQuery,
       ok=Ok(Attainment, "The attainment."), errors=_DENIED, service="sales",
       description="Actual revenue, gross margin and collected cash from the profitability roll-ups (a team: its "
                   "reps as the roll-ups attribute them). " + _RIGHTS)
def get_attainment(a: Args):
    q = a.query
    return stub().GetAttainment(pb.GetAttainmentRequest(scope=a.path.scope, subject_id=a.path.subject_id,
                                                        start_month=q.start_month, end_month=q.end_month,
                                                        currency_code=q.currency_code))


@route(bp, "GET", "/rankings/reps", "rankReps", "Reps ranked by revenue, margin, cash, new customers or orders",
       allow=READ, query=RankQuery, ok=Ok(Ranking, "The ranking, best first."), errors=_DENIED, service="sales",
       description="Finance and admins rank every rep (or one team); managers their team; a rep sees their own "
                   "team's ranking: every rep's rank and id, only their own figure, and no figures when ranking by "
                   "margin.")
def rank_reps(a: Args):
    q = a.query
    return stub().RankReps(pb.RankRepsRequest(metric=q.metric, start_month=q.start_month, end_month=q.end_month,
                                              currency_code=q.currency_code, team_id=q.team_id, limit=q.limit))
