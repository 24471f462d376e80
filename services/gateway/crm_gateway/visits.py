"""/api/v1/visits: REST in, VisitService gRPC out."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from crm.customer.v1 import interaction_service_pb2 as ipb
from crm.customer.v1 import visit_service_pb2 as pb

from crm_gateway import schemas
from crm_gateway.interactions import DATE_TIME_IN, OUTCOME_FIELDS, WRITE_ERRORS, interaction_json, outcome_pb, \
    request_id, time_json
from crm_gateway.openapi import COMMON, IDEMPOTENCY_PARAM, json_response, problem
from crm_gateway.problems import Problem
from crm_gateway.requests import call, integer, json_body, query_args, require_role, text, timestamp

bp = Blueprint("visits", __name__, url_prefix="/api/v1/visits")

# Agents and finance have no visits; the service decides whose visits each role sees.
ROLES = ("admin", "manager", "rep", "integration")
STATES = ("scheduled", "completed", "cancelled")
_STATE_FROM_PB = {pb.VisitState.Value(f"VISIT_STATE_{s.upper()}"): s for s in STATES}

VISIT_CREATE = {
    "type": "object", "additionalProperties": False, "required": ["customer_id", "scheduled_at", "purpose"],
    "properties": {
        "customer_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "scheduled_at": {**DATE_TIME_IN, "description": "When; within a year back and five years ahead."},
        "purpose": {"type": "string", "minLength": 1, "maxLength": 500},
        "recurrence_days": {"type": "integer", "minimum": 0, "maximum": 3650, "default": 0,
                            "description": "Plan the next visit this many days on when this one is completed; 0: once."},
        "rep_id": {"type": "string", "maxLength": 128,
                   "description": "Who visits; reps plan only their own; others default to the customer's owner."},
    },
}
VISIT_COMPLETION = {
    "type": "object", "additionalProperties": False, "required": ["summary"],
    "properties": OUTCOME_FIELDS,
    "description": "What happened; recorded as a visit in the customer's interactions (direction outbound unless given).",
}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
VISIT = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "customer_id", "rep_id", "scheduled_at", "purpose", "recurrence_days", "state", "overdue",
                 "created_at", "created_by", "closed_at", "interaction_sequence", "next_visit_id"],
    "properties": {
        "id": {"type": "string"},
        "customer_id": {"type": "string"},
        "rep_id": {"type": "string"},
        "scheduled_at": {"type": "string", "format": "date-time"},
        "purpose": {"type": "string"},
        "recurrence_days": {"type": "integer"},
        "state": {"type": "string", "enum": list(STATES)},
        "overdue": {"type": "boolean", "description": "Still open and its time has passed."},
        "created_at": {"type": "string", "format": "date-time"},
        "created_by": {"type": "string"},
        "closed_at": {**_NULLABLE_TIME, "description": "When it was completed (the visit's time) or cancelled."},
        "interaction_sequence": {"type": "integer", "description": "The interaction recorded on completion; 0 before."},
        "next_visit_id": {"type": "string", "description": "The next occurrence, planned on completion."},
    },
}
VISIT_PAGE = {
    "type": "object", "additionalProperties": False, "required": ["items", "next_page_token"],
    "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Visit"}, "description": "Earliest first."},
        "next_page_token": {"type": "string", "description": "Pass as page_token for the next page; empty at the end."},
    },
}
VISIT_COMPLETED = {
    "type": "object", "additionalProperties": False, "required": ["visit", "interaction", "next_visit"],
    "properties": {
        "visit": {"$ref": "#/components/schemas/Visit"},
        "interaction": {"$ref": "#/components/schemas/Interaction"},
        "next_visit": {"anyOf": [{"$ref": "#/components/schemas/Visit"}, {"type": "null"}],
                       "description": "The next occurrence of a recurring visit."},
    },
}

schemas.register(VisitCreate=VISIT_CREATE, VisitCompletion=VISIT_COMPLETION, Visit=VISIT, VisitPage=VISIT_PAGE,
                 VisitCompleted=VISIT_COMPLETED)


def visit_json(v: pb.Visit) -> dict:
    return {
        "id": v.id, "customer_id": v.customer_id, "rep_id": v.rep_id, "scheduled_at": time_json(v.schedule_time),
        "purpose": v.purpose, "recurrence_days": v.recurrence_days, "state": _STATE_FROM_PB.get(v.state, "scheduled"),
        "overdue": v.overdue, "created_at": time_json(v.create_time), "created_by": v.created_by,
        "closed_at": time_json(v.close_time) if v.HasField("close_time") else None,
        "interaction_sequence": v.interaction_sequence, "next_visit_id": v.next_visit_id,
    }


@bp.post("")
def schedule_visit():
    require_role(ROLES)
    body = json_body("VisitCreate")
    try:
        when = timestamp(body["scheduled_at"])
    except ValueError as err:
        raise Problem(422, "the body does not match the schema", slug="validation",
                      errors=[{"field": "scheduled_at", "message": str(err)}]) from None
    visit = pb.Visit(customer_id=body["customer_id"], purpose=body["purpose"],
                     recurrence_days=int(body.get("recurrence_days", 0)), rep_id=body.get("rep_id", ""))
    visit.schedule_time.FromDatetime(when)
    made = call("customer", g.downstream.visits.ScheduleVisit,
                pb.ScheduleVisitRequest(visit=visit, request_id=request_id()))
    resp = jsonify(visit_json(made))
    resp.status_code = 201
    resp.headers["Location"] = f"/api/v1/visits/{made.id}"
    return resp


@bp.get("")
def list_visits():
    require_role(ROLES)
    q = query_args({"rep_id": text(128), "due_before": timestamp, "page_size": integer(1, 200),
                    "page_token": text(512)})
    message = pb.ListVisitsRequest(rep_id=q.get("rep_id", ""), page_size=q.get("page_size", 50),
                                   page_token=q.get("page_token", ""))
    if "due_before" in q:
        message.due_before.FromDatetime(q["due_before"])
    page = call("customer", g.downstream.visits.ListVisits, message)
    return jsonify({"items": [visit_json(v) for v in page.visits], "next_page_token": page.next_page_token})


@bp.get("/<visit_id>")
def get_visit(visit_id: str):
    require_role(ROLES)
    return jsonify(visit_json(call("customer", g.downstream.visits.GetVisit, pb.GetVisitRequest(id=visit_id[:64]))))


@bp.post("/<visit_id>/complete")
def complete_visit(visit_id: str):
    require_role(ROLES)
    body = json_body("VisitCompletion")
    outcome = outcome_pb(body, ipb.Interaction())
    done = call("customer", g.downstream.visits.CompleteVisit,
                pb.CompleteVisitRequest(id=visit_id[:64], interaction=outcome))
    return jsonify({"visit": visit_json(done.visit), "interaction": interaction_json(done.interaction),
                    "next_visit": visit_json(done.next_visit) if done.HasField("next_visit") else None})


@bp.post("/<visit_id>/cancel")
def cancel_visit(visit_id: str):
    require_role(ROLES)
    return jsonify(visit_json(call("customer", g.downstream.visits.CancelVisit, pb.CancelVisitRequest(id=visit_id[:64]))))


VISIT_ID_PARAM = {"name": "visit_id", "in": "path", "required": True, "schema": {"type": "string"}}
_NOT_FOUND = problem("No such visit, or not one you may see.")

PATHS = {
    "/api/v1/visits": {
        "post": {
            "operationId": "scheduleVisit", "summary": "Plan a visit, once or recurring",
            "parameters": [IDEMPOTENCY_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/VisitCreate"}}}},
            "responses": {
                "201": json_response("Visit", "Planned.", {"Location": {"schema": {"type": "string"}}}),
                "404": problem("No such customer, or not one you may see."),
                **WRITE_ERRORS, **COMMON,
            },
        },
        "get": {
            "operationId": "listVisits", "summary": "A rep's open visits: due, overdue and upcoming",
            "description": "Earliest first; each says whether it is overdue. Reps get their own; managers and "
                           "admins name any rep (themselves by default).",
            "parameters": [
                {"name": "rep_id", "in": "query", "schema": {"type": "string", "maxLength": 128}},
                {"name": "due_before", "in": "query", "schema": {"type": "string", "format": "date-time"},
                 "description": "Only visits planned before this time, e.g. the end of today."},
                {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                {"name": "page_token", "in": "query", "schema": {"type": "string", "maxLength": 512}},
            ],
            "responses": {"200": json_response("VisitPage", "A page of open visits."),
                          "400": problem("Bad query parameter or page token."), **COMMON},
        },
    },
    "/api/v1/visits/{visit_id}": {
        "get": {
            "operationId": "getVisit", "summary": "Get a visit",
            "parameters": [VISIT_ID_PARAM],
            "responses": {"200": json_response("Visit", "The visit."), "404": _NOT_FOUND, **COMMON},
        },
    },
    "/api/v1/visits/{visit_id}/complete": {
        "post": {
            "operationId": "completeVisit", "summary": "Complete a visit",
            "description": "Records the visit in the customer's interactions and plans the next occurrence of a "
                           "recurring visit. Repeating the same completion returns the same result.",
            "parameters": [VISIT_ID_PARAM, IDEMPOTENCY_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/VisitCompletion"}}}},
            "responses": {
                "200": json_response("VisitCompleted", "Completed."),
                "404": _NOT_FOUND,
                **WRITE_ERRORS,
                "409": problem("The visit was cancelled, or completed with other details."),
                **COMMON,
            },
        },
    },
    "/api/v1/visits/{visit_id}/cancel": {
        "post": {
            "operationId": "cancelVisit", "summary": "Cancel an open visit",
            "parameters": [VISIT_ID_PARAM, IDEMPOTENCY_PARAM],
            "responses": {
                "200": json_response("Visit", "Cancelled."),
                "400": problem("Bad Idempotency-Key."),
                "404": _NOT_FOUND,
                "409": problem("The visit was completed, or the Idempotency-Key is in use."),
                "422": problem("The Idempotency-Key was used for another request."),
                **COMMON,
            },
        },
    },
}
