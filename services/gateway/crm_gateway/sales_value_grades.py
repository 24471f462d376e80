"""/api/v1/customers/<id>/value-grade and /api/v1/value-grade-runs: REST in,
the sales service's ValueGradeService gRPC out.

A customer's value grade grades the customer by last year's profit
contribution (sales); it is not the loyalty programme's VIP tier."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.sales.v1 import value_grade_service_pb2 as pb
from crm.sales.v1 import value_grade_service_pb2_grpc as pb_grpc

from crm_gateway.fields import Body, CustomerPath, NullableTime, Out, Time
from crm_gateway.routing import Args, Ok, Policy, route

bp = Blueprint("sales_value_grades", __name__, url_prefix="/api/v1")

# The service decides per customer (a rep's own, a manager's team); these may ask at all.
READ = Policy(("admin", "manager", "rep", "agent", "finance", "integration"), scope="sales:read")
ADMIN = Policy(("admin",))
_RULES = """Bands of cumulative share of the year's positive gross margin, best first (SALES_VALUE_GRADE_BANDS,
default A:50,B:30,C:20: A = the customers who together make the top 50 % of the margin, B the next 30 %, C the rest;
the customer who crosses a boundary belongs to the band above it, equal margins share a grade); D = no or negative
margin. Graded once a year for the year that ended (after January 1, SALES_TIMEZONE)."""


class RunPath(BaseModel):
    run_id: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_]+$")]


class RunStart(Body):
    year: Annotated[int, Field(ge=0, le=2999, description="A finished year; 0 or left out: the year that ended.")] = 0


class GradeChange(Out):
    grade: str
    graded_year: int
    run_id: str
    graded_at: NullableTime


class CustomerValueGrade(Out):
    customer_id: str
    grade: Annotated[str, Field(description='e.g. "A"; empty when never graded.')]
    graded_year: Annotated[int, Field(description="The year whose contribution decided the grade; 0 when never.")]
    history: Annotated[list[GradeChange], Field(description="Every grade given, oldest first.")]

    @staticmethod
    def from_pb(v: pb.CustomerValueGrade) -> dict:
        return {"customer_id": v.customer_id, "grade": v.grade, "graded_year": v.graded_year,
                "history": [{"grade": h.grade, "graded_year": h.graded_year, "run_id": h.run_id,
                             "graded_at": h.graded_at.ToJsonString() if h.HasField("graded_at") else None}
                            for h in v.history]}


class GradeCount(Out):
    grade: str
    customers: int


class GradingRun(Out):
    run_id: str
    graded_year: int
    graded: Annotated[int, Field(description="Customers graded.")]
    changed: Annotated[int, Field(description="Grades stored because they changed.")]
    counts: Annotated[list[GradeCount], Field(description="Customers per grade, best first.")]
    started_at: Time
    finished_at: Annotated[NullableTime, Field(description="null while the run is going.")]
    started_by: str

    @staticmethod
    def from_pb(r: pb.ValueGradingRun) -> dict:
        return {"run_id": r.run_id, "graded_year": r.graded_year, "graded": r.graded, "changed": r.changed,
                "counts": [{"grade": c.grade, "customers": c.customers} for c in r.counts],
                "started_at": r.started_at.ToJsonString(),
                "finished_at": r.finished_at.ToJsonString() if r.HasField("finished_at") else None,
                "started_by": r.started_by}


def stub() -> pb_grpc.ValueGradeServiceStub:
    return g.downstream.stub("sales", pb_grpc.ValueGradeServiceStub)


@route(bp, "GET", "/customers/<customer_id>/value-grade", "getCustomerValueGrade",
       "A customer's value grade and its history", allow=READ, path=CustomerPath,
       ok=Ok(CustomerValueGrade, "The grade."), errors={404: "No such customer, or not yours."}, service="sales",
       description="For whoever may read the customer's sales. " + _RULES)
def get_value_grade(a: Args):
    return stub().GetCustomerValueGrade(pb.GetCustomerValueGradeRequest(customer_id=a.path.customer_id))


@route(bp, "POST", "/value-grade-runs", "runValueGrading", "Grade every customer for a finished year now",
       allow=ADMIN, body=RunStart, ok=Ok(GradingRun, "The run, started (poll it until finished_at is set).",
                                           status=202),
       errors={422: "Not a finished year."}, service="sales",
       description="Admins only. Re-running a year changes only grades that changed; each change publishes "
                   "customer.value_grade_changed and shows on the customer record. " + _RULES)
def run_grading(a: Args):
    return stub().RunValueGrading(pb.RunValueGradingRequest(year=a.body.year))


@route(bp, "GET", "/value-grade-runs/<run_id>", "getValueGradingRun", "A grading run's progress and result",
       allow=ADMIN, path=RunPath, ok=Ok(GradingRun, "The run."), errors={404: "No such run."}, service="sales")
def get_run(a: Args):
    return stub().GetValueGradingRun(pb.GetValueGradingRunRequest(run_id=a.path.run_id))
