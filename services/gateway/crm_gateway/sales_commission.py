"""Commission by margin grade: plans, rep statements, team totals and the
month's close. REST in, the sales service's CommissionService gRPC out."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.sales.v1 import commission_service_pb2 as pb
from crm.sales.v1 import commission_service_pb2_grpc as pb_grpc

from crm_gateway.fields import Body, Out, Time, text
from crm_gateway.interactions import Money
from crm_gateway.routing import Args, Ok, Policy, route

bp = Blueprint("sales_commission", __name__, url_prefix="/api/v1")

SETUP_READ = Policy(("admin", "manager", "finance", "integration"), scope="sales:read")
ADMIN = Policy(("admin",))
# The service decides whose statement: a rep their own, a manager their team's, finance and admins all.
STATEMENT_READ = Policy(("admin", "manager", "rep", "finance", "integration"), scope="sales:read")
TEAM_READ = Policy(("admin", "manager", "finance", "integration"), scope="sales:read")
CLOSE = Policy(("admin", "finance"))
MonthText = Annotated[str, Field(min_length=7, max_length=7, pattern=r"^\d{4}-\d{2}$",
                                 description="A calendar month, e.g. 2026-03.")]
Base = Literal["margin", "revenue"]
_BASE_TO_PB = {"margin": pb.COMMISSION_BASE_MARGIN, "revenue": pb.COMMISSION_BASE_REVENUE}
_BASE_FROM_PB = {v: k for k, v in _BASE_TO_PB.items()}
_NOT_FOUND = {404: "No such statement, or not one you may see.", 400: "Not a month from 2000-01 to 2999-12."}


def _money(m) -> dict:
    return {"minor_units": m.minor_units, "currency_code": m.currency_code}


# --- requests ------------------------------------------------------------------------------

class GradeRateIn(Body):
    grade: text(8, 1, description="A product margin grade, e.g. A.")
    rate_bp: Annotated[int, Field(ge=0, le=10_000, description="Basis points of the base (100 = 1 %).")]


class BandIn(Body):
    above_minor_units: Annotated[int, Field(ge=0, le=10**15, description="The rep's month base total above which "
                                                                          "the extra applies (up to the next band).")]
    extra_bp: Annotated[int, Field(ge=0, le=10_000)]


class PlanIn(Body):
    name: text(120, 1)
    base: Annotated[Base, Field(description="margin: line total after discount minus cost (a loss earns nothing); "
                                            "revenue: line total after discount.")]
    currency_code: Annotated[str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$",
                                        description="The bands' currency.")]
    rates: Annotated[list[GradeRateIn], Field(min_length=1, max_length=20)]
    bands: Annotated[list[BandIn], Field(max_length=10, description="Bounds strictly rising.")] = []


class AssignmentIn(Body):
    scope: text(70, 1, description='"rep:<rep id>", "team:<team id>" or "*" (everyone).')
    plan_id: text(40, 1)
    from_month: MonthText


class PlanPath(BaseModel):
    plan_id: text(40, 1)


class StatementPath(BaseModel):
    rep_id: text(64, 1)
    month: MonthText


class TeamPath(BaseModel):
    team_id: text(64, 1)
    month: MonthText


class MonthPath(BaseModel):
    month: MonthText


# --- answers --------------------------------------------------------------------------------

class GradeRate(Out):
    grade: str
    rate_bp: int


class CommissionBand(Out):
    above_minor_units: int
    extra_bp: int


class CommissionPlan(Out):
    id: str
    name: str
    base: Base
    currency_code: str
    rates: list[GradeRate]
    bands: list[CommissionBand]


class CommissionAssignment(Out):
    scope: str
    plan_id: str
    from_month: str


class CommissionSetup(Out):
    plans: list[CommissionPlan]
    assignments: list[CommissionAssignment]
    revision: int

    @staticmethod
    def from_pb(s: pb.CommissionSetup) -> dict:
        return {"revision": s.revision,
                "plans": [{"id": p.id, "name": p.name, "base": _BASE_FROM_PB.get(p.base, "margin"),
                           "currency_code": p.currency_code,
                           "rates": [{"grade": r.grade, "rate_bp": r.rate_bp} for r in p.rates],
                           "bands": [{"above_minor_units": b.above_minor_units, "extra_bp": b.extra_bp}
                                     for b in p.bands]} for p in s.plans],
                "assignments": [{"scope": a.scope, "plan_id": a.plan_id, "from_month": a.from_month}
                                for a in s.assignments]}


class CommissionLine(Out):
    kind: Annotated[str, Field(description="receipt, refund or void (a clawback: negative amounts).")]
    order_id: str
    line_id: str
    product_id: str
    receipt_id: str
    refund_id: str
    margin_grade: Annotated[str, Field(description="Empty unless you are a manager, finance or an admin.")]
    base: Annotated[Money | None, Field(description="The base this movement added; null unless you are a manager, "
                                                    "finance or an admin (a line's margin is a cost figure).")]
    rate_bp: int
    amount: Money
    counts_in: Annotated[str, Field(description="The month the cash moved in; earlier than the statement's month "
                                                "for a correction to a closed month.")]
    event_id: str


class CommissionStatement(Out):
    rep_id: str
    month: str
    team_id: str
    plan_id: str
    closed: bool
    lines: list[CommissionLine]
    bonus: Annotated[list[Money], Field(description="The progressive band bonus per currency (frozen at the close).")]
    totals: Annotated[list[Money], Field(description="Per currency: the lines' sum plus the bonus.")]

    @staticmethod
    def from_pb(s: pb.CommissionStatement) -> dict:
        return {"rep_id": s.rep_id, "month": s.month, "team_id": s.team_id, "plan_id": s.plan_id, "closed": s.closed,
                "lines": [{"kind": x.kind, "order_id": x.order_id, "line_id": x.line_id, "product_id": x.product_id,
                           "receipt_id": x.receipt_id, "refund_id": x.refund_id, "margin_grade": x.margin_grade,
                           "base": _money(x.base) if x.HasField("base") else None, "rate_bp": x.rate_bp, "amount": _money(x.amount),
                           "counts_in": x.counts_in, "event_id": x.event_id} for x in s.lines],
                "bonus": [_money(m) for m in s.bonus], "totals": [_money(m) for m in s.totals]}


class RepCommission(Out):
    rep_id: str
    totals: list[Money]
    closed: bool


class TeamCommission(Out):
    team_id: str
    month: str
    reps: list[RepCommission]
    totals: list[Money]

    @staticmethod
    def from_pb(t: pb.TeamCommission) -> dict:
        return {"team_id": t.team_id, "month": t.month, "totals": [_money(m) for m in t.totals],
                "reps": [{"rep_id": r.rep_id, "closed": r.closed, "totals": [_money(m) for m in r.totals]}
                         for r in t.reps]}


class MonthClosed(Out):
    month: str
    statements_closed: Annotated[int, Field(description="Frozen by this call (0 when it was closed already).")]
    closed_by: str
    closed_at: Time

    @staticmethod
    def from_pb(r: pb.CloseCommissionMonthResponse) -> dict:
        return {"month": r.month, "statements_closed": r.statements_closed, "closed_by": r.closed_by,
                "closed_at": r.closed_at.ToJsonString()}


def stub() -> pb_grpc.CommissionServiceStub:
    return g.downstream.stub("sales", pb_grpc.CommissionServiceStub)


# --- routes ------------------------------------------------------------------------------------

@route(bp, "GET", "/commission/setup", "getCommissionSetup", "Commission plans and who they apply to",
       allow=SETUP_READ, ok=Ok(CommissionSetup, "Every plan and assignment."), service="sales")
def get_setup(a: Args):
    return stub().GetCommissionSetup(pb.GetCommissionSetupRequest())


@route(bp, "PUT", "/commission/plans/<plan_id>", "putCommissionPlan", "Add or replace a commission plan",
       allow=ADMIN, path=PlanPath, body=PlanIn, ok=Ok(CommissionSetup, "The setup after it."), service="sales",
       errors={422: "A field of the plan is invalid (named)."},
       description="Each margin grade's rate in basis points; orders already priced keep their rates.")
def put_plan(a: Args):
    b = a.body
    return stub().PutCommissionPlan(pb.PutCommissionPlanRequest(plan=pb.CommissionPlan(
        id=a.path.plan_id, name=b.name, base=_BASE_TO_PB[b.base], currency_code=b.currency_code,
        rates=[pb.GradeRate(grade=r.grade, rate_bp=r.rate_bp) for r in b.rates],
        bands=[pb.CommissionBand(above_minor_units=x.above_minor_units, extra_bp=x.extra_bp) for x in b.bands])))


@route(bp, "POST", "/commission/assignments", "assignCommissionPlan", "Apply a plan to a rep, a team or everyone",
       allow=ADMIN, body=AssignmentIn, ok=Ok(CommissionSetup, "The setup after it."), service="sales",
       errors={422: "Unknown plan or bad scope."},
       description="From the given month on; a rep's own assignment wins over their team's, which wins over "
                   "everyone's. An order is priced by the plan in force in the month of its first receipt.")
def assign_plan(a: Args):
    b = a.body
    return stub().AssignCommissionPlan(pb.AssignCommissionPlanRequest(assignment=pb.CommissionAssignment(
        scope=b.scope, plan_id=b.plan_id, from_month=b.from_month)))


@route(bp, "GET", "/commission/statements/<rep_id>/<month>", "getCommissionStatement",
       "A rep's commission statement for a month", allow=STATEMENT_READ, path=StatementPath,
       ok=Ok(CommissionStatement, "Every line, traceable to the order line and receipt or refund."),
       errors=_NOT_FOUND, service="sales",
       description="Commission is earned as cash is collected (pro rata on partial payments) and clawed back on "
                   "refunds and voids; lines follow receipts within the sales service's event lag.")
def get_statement(a: Args):
    return stub().GetCommissionStatement(pb.GetCommissionStatementRequest(rep_id=a.path.rep_id,
                                                                          month=a.path.month))


@route(bp, "GET", "/commission/teams/<team_id>/<month>", "getTeamCommission", "A team's commission for a month",
       allow=TEAM_READ, path=TeamPath, ok=Ok(TeamCommission, "Each rep's totals and the team's."),
       errors={404: "Not a team whose commission you may see.", 400: "Not a month from 2000-01 to 2999-12."},
       service="sales")
def get_team(a: Args):
    return stub().GetTeamCommission(pb.GetTeamCommissionRequest(team_id=a.path.team_id, month=a.path.month))


@route(bp, "POST", "/commission/months/<month>/close", "closeCommissionMonth", "Close a month's commission",
       allow=CLOSE, path=MonthPath, ok=Ok(MonthClosed, "Closed."), service="sales",
       errors={409: "The month has not ended."},
       description="Freezes every statement of an ended month with its band bonus; a later receipt or refund "
                   "dated in it lands in the next open month. Running it again is harmless.")
def close_month(a: Args):
    return stub().CloseCommissionMonth(pb.CloseCommissionMonthRequest(month=a.path.month))
