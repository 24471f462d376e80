"""/api/v1/visits: REST in, VisitService gRPC out."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.customer.v1 import interaction_service_pb2 as ipb
from crm.customer.v1 import visit_service_pb2 as pb

from crm_gateway.fields import NEXT_PAGE, Body, DateTimeIn, Id, NullableTime, PageSize, PageToken, Query, \
    QueryTime, Time, optional, text
from crm_gateway.interactions import Interaction, Outcome, WRITE_ERRORS, interaction_json, request_id, time_json
from crm_gateway.problems import Problem
from crm_gateway.requests import timestamp
from crm_gateway.routing import Args, Header, Ok, Policy, route

bp = Blueprint("visits", __name__, url_prefix="/api/v1/visits")

# Agents and finance have no visits; the service decides whose visits each role sees.
VISIT_READ = Policy(("admin", "manager", "rep", "integration"), scope="customers:read")
VISIT_WRITE = Policy(("admin", "manager", "rep", "integration"), scope="customers:write")
STATES = ("scheduled", "completed", "cancelled")
_STATE_FROM_PB = {pb.VisitState.Value(f"VISIT_STATE_{s.upper()}"): s for s in STATES}


class VisitCreate(Body):
    customer_id: Id
    scheduled_at: Annotated[DateTimeIn, Field(description="When; within a year back and five years ahead.")]
    purpose: text(500, 1)
    recurrence_days: Annotated[int, Field(ge=0, le=3650, description="Plan the next visit this many days on when "
                                                                     "this one is completed; 0: once.")] = 0
    rep_id: text(128, description="Who visits; reps plan only their own; others default to the customer's "
                                  "owner.") = ""


class VisitCompletion(Outcome):
    """What happened; recorded as a visit in the customer's interactions (direction outbound unless given)."""


class Visit(BaseModel):
    model_config = {"extra": "forbid"}
    id: str
    customer_id: str
    rep_id: str
    scheduled_at: Time
    purpose: str
    recurrence_days: int
    state: Literal["scheduled", "completed", "cancelled"]
    overdue: Annotated[bool, Field(description="Still open and its time has passed.")]
    created_at: Time
    created_by: str
    closed_at: Annotated[NullableTime, Field(description="When it was completed (the visit's time) or cancelled.")]
    interaction_sequence: Annotated[int, Field(description="The interaction recorded on completion; 0 before.")]
    next_visit_id: Annotated[str, Field(description="The next occurrence, planned on completion.")]

    @staticmethod
    def from_pb(v: pb.Visit) -> dict:
        return visit_json(v)


class VisitPage(BaseModel):
    model_config = {"extra": "forbid"}
    items: Annotated[list[Visit], Field(description="Earliest first.")]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(page: pb.ListVisitsResponse) -> dict:
        return {"items": [visit_json(v) for v in page.visits], "next_page_token": page.next_page_token}


class VisitCompleted(BaseModel):
    model_config = {"extra": "forbid"}
    visit: Visit
    interaction: Interaction
    next_visit: Annotated[Visit | None, Field(description="The next occurrence of a recurring visit.")]

    @staticmethod
    def from_pb(done: pb.CompleteVisitResponse) -> dict:
        return {"visit": visit_json(done.visit), "interaction": interaction_json(done.interaction),
                "next_visit": visit_json(done.next_visit) if done.HasField("next_visit") else None}


class VisitPath(BaseModel):
    visit_id: Id


class VisitQuery(Query):
    rep_id: text(128) = ""
    customer_id: Annotated[Id | Literal[""], Field(description="Only this customer's open visits, whoever "
                                                               "visits (then no rep_id).")] = ""
    due_before: Annotated[QueryTime, Field(description="Only visits planned before this time, e.g. the end of "
                                                       "today.")] = optional()
    page_size: PageSize = 50
    page_token: PageToken = ""


def visit_json(v: pb.Visit) -> dict:
    return {
        "id": v.id, "customer_id": v.customer_id, "rep_id": v.rep_id, "scheduled_at": time_json(v.schedule_time),
        "purpose": v.purpose, "recurrence_days": v.recurrence_days, "state": _STATE_FROM_PB.get(v.state, "scheduled"),
        "overdue": v.overdue, "created_at": time_json(v.create_time), "created_by": v.created_by,
        "closed_at": time_json(v.close_time) if v.HasField("close_time") else None,
        "interaction_sequence": v.interaction_sequence, "next_visit_id": v.next_visit_id,
    }


def stubs():
    return g.downstream.visits


_NOT_FOUND = {404: "No such visit, or not one you may see."}
LOCATION = Header("Location", "The new visit.", lambda v: f"/api/v1/visits/{v.id}")


@route(bp, "POST", "", "scheduleVisit", "Plan a visit, once or recurring", allow=VISIT_WRITE, body=VisitCreate,
       ok=Ok(Visit, "Planned.", 201, (LOCATION,)),
       errors={404: "No such customer, or not one you may see.", **WRITE_ERRORS})
def schedule_visit(a: Args):
    b = a.body
    try:
        when = timestamp(b.scheduled_at)
    except ValueError as err:
        raise Problem(422, "the body does not match the schema", slug="validation",
                      errors=[{"field": "scheduled_at", "message": str(err)}]) from None
    visit = pb.Visit(customer_id=b.customer_id, purpose=b.purpose, recurrence_days=b.recurrence_days,
                     rep_id=b.rep_id)
    visit.schedule_time.FromDatetime(when)
    return stubs().ScheduleVisit(pb.ScheduleVisitRequest(visit=visit, request_id=request_id()))


@route(bp, "GET", "", "listVisits", "A rep's open visits: due, overdue and upcoming", allow=VISIT_READ,
       query=VisitQuery, ok=Ok(VisitPage, "A page of open visits."),
       errors={400: "Bad query parameter or page token.", 404: "With customer_id: no such customer, or not one you "
                                                                "may see in full."},
       description="Earliest first; each says whether it is overdue. Reps get their own; managers and admins name "
                   "any rep (themselves by default). With customer_id: that customer's open visits, for whoever "
                   "sees the customer in full.")
def list_visits(a: Args):
    q = a.query
    message = pb.ListVisitsRequest(rep_id=q.rep_id, customer_id=q.customer_id, page_size=q.page_size,
                                   page_token=q.page_token)
    if q.due_before is not None:
        message.due_before.FromDatetime(q.due_before)
    return stubs().ListVisits(message)


@route(bp, "GET", "/<visit_id>", "getVisit", "Get a visit", allow=VISIT_READ, path=VisitPath, ok=Ok(Visit, "The visit."),
       errors=_NOT_FOUND)
def get_visit(a: Args):
    return stubs().GetVisit(pb.GetVisitRequest(id=a.path.visit_id))


@route(bp, "POST", "/<visit_id>/complete", "completeVisit", "Complete a visit", allow=VISIT_WRITE, path=VisitPath,
       body=VisitCompletion, ok=Ok(VisitCompleted, "Completed."),
       errors={**_NOT_FOUND, 409: "The visit was cancelled, or completed with other details."},
       description="Records the visit in the customer's interactions and plans the next occurrence of a recurring "
                   "visit. Repeating the same completion returns the same result.")
def complete_visit(a: Args):
    outcome = a.body.fill(ipb.Interaction())
    return stubs().CompleteVisit(pb.CompleteVisitRequest(id=a.path.visit_id, interaction=outcome))


@route(bp, "POST", "/<visit_id>/cancel", "cancelVisit", "Cancel an open visit", allow=VISIT_WRITE, path=VisitPath,
       ok=Ok(Visit, "Cancelled."), errors={**_NOT_FOUND, 409: "The visit was completed."})
def cancel_visit(a: Args):
    return stubs().CancelVisit(pb.CancelVisitRequest(id=a.path.visit_id))
