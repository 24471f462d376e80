"""/api/v1/customers/{id}/interactions: REST in, InteractionService gRPC out."""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, g, jsonify, request
from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import common_pb2
from crm.customer.v1 import interaction_service_pb2 as pb

from crm_gateway import schemas
from crm_gateway.openapi import COMMON, IDEMPOTENCY_PARAM, json_response, problem
from crm_gateway.problems import Problem
from crm_gateway.requests import call, integer, json_body, query_args, require_role, text, timestamp

bp = Blueprint("interactions", __name__, url_prefix="/api/v1/customers")

READERS = ("admin", "manager", "rep", "agent", "finance", "integration")
WRITERS = ("admin", "manager", "rep", "integration")
CHANNELS = ("call", "visit", "email", "sms", "chat", "meeting", "quote")
DIRECTIONS = ("inbound", "outbound")
_CHANNEL_TO_PB = {c: pb.InteractionChannel.Value(f"INTERACTION_CHANNEL_{c.upper()}") for c in CHANNELS}
_CHANNEL_FROM_PB = {v: k for k, v in _CHANNEL_TO_PB.items()}
_DIRECTION_TO_PB = {d: pb.InteractionDirection.Value(f"INTERACTION_DIRECTION_{d.upper()}") for d in DIRECTIONS}
_DIRECTION_FROM_PB = {v: k for k, v in _DIRECTION_TO_PB.items()}
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

# --- JSON Schemas -------------------------------------------------------------------

DATE_TIME_IN = {"type": "string", "maxLength": 40, "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$",
                "description": "RFC 3339 with a time zone, e.g. 2026-01-31T08:00:00Z."}
DATE_IN = {"type": "string", "maxLength": 10, "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "A calendar date, e.g. 2026-02-01."}
MONEY_FIELDS = {
    "minor_units": {"type": "integer", "minimum": 0, "maximum": 10**15,
                    "description": "Amount in the currency's minor unit, e.g. 1999 for CNY 19.99."},
    "currency_code": {"type": "string", "minLength": 3, "maxLength": 3, "pattern": "^[A-Z]{3}$",
                      "description": "ISO 4217 code, e.g. CNY."},
}
MONEY_IN = {"type": "object", "additionalProperties": False, "required": ["minor_units", "currency_code"],
            "properties": MONEY_FIELDS}
QUOTE_LINE_IN = {
    "type": "object", "additionalProperties": False, "required": ["item", "quantity", "unit_price"],
    "properties": {
        "item": {"type": "string", "minLength": 1, "maxLength": 200},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "unit_price": MONEY_IN,
    },
}
# What happened: shared by recording an interaction and completing a visit.
OUTCOME_FIELDS = {
    "direction": {"type": "string", "enum": list(DIRECTIONS)},
    "occurred_at": {**DATE_TIME_IN, "description": "When it happened; now when left out; not in the future."},
    "summary": {"type": "string", "minLength": 1, "maxLength": 4000},
    "quote_lines": {"type": "array", "maxItems": 50, "items": QUOTE_LINE_IN,
                    "description": "What was quoted and at what price; all lines in one currency."},
    "commitments": {"type": "array", "maxItems": 10, "items": {"type": "string", "minLength": 1, "maxLength": 500},
                    "description": "What we promised."},
    "next_follow_up": {**DATE_IN, "description": "When to get back to the customer."},
}
INTERACTION_CREATE = {
    "type": "object", "additionalProperties": False, "required": ["channel", "direction", "summary"],
    "properties": {
        "channel": {"type": "string", "enum": list(CHANNELS)},
        **OUTCOME_FIELDS,
        "rep_id": {"type": "string", "maxLength": 128,
                   "description": "Who talked to the customer; you when left out. Reps may only name themselves."},
    },
}
MONEY = {"type": "object", "additionalProperties": False, "required": ["minor_units", "currency_code"],
         "properties": {"minor_units": {"type": "integer"}, "currency_code": {"type": "string"}}}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
INTERACTION = {
    "type": "object", "additionalProperties": False,
    "required": ["customer_id", "sequence", "channel", "direction", "rep_id", "occurred_at", "recorded_at",
                 "recorded_by", "summary", "quote_lines", "quote_total", "commitments", "next_follow_up"],
    "properties": {
        "customer_id": {"type": "string"},
        "sequence": {"type": "integer", "description": "Position in the customer's log, from 1."},
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "direction": {"type": "string", "enum": list(DIRECTIONS)},
        "rep_id": {"type": "string"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "recorded_at": {"type": "string", "format": "date-time"},
        "recorded_by": {"type": "string"},
        "summary": {"type": "string"},
        "quote_lines": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["item", "quantity", "unit_price"],
            "properties": {"item": {"type": "string"}, "quantity": {"type": "integer"},
                           "unit_price": {"$ref": "#/components/schemas/Money"}}}},
        "quote_total": {"anyOf": [{"$ref": "#/components/schemas/Money"}, {"type": "null"}]},
        "commitments": {"type": "array", "items": {"type": "string"}},
        "next_follow_up": {"type": ["string", "null"], "format": "date"},
    },
}
INTERACTION_PAGE = {
    "type": "object", "additionalProperties": False, "required": ["items", "next_page_token"],
    "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Interaction"},
                  "description": "Newest first."},
        "next_page_token": {"type": "string", "description": "Pass as page_token for the next page; empty at the end."},
    },
}
_NULLABLE_INTERACTION = {"anyOf": [{"$ref": "#/components/schemas/Interaction"}, {"type": "null"}]}
INTERACTION_SUMMARY = {
    "type": "object", "additionalProperties": False,
    "required": ["customer_id", "last_quote", "last_commitment", "last_follow_up", "last_contact_at"],
    "properties": {
        "customer_id": {"type": "string"},
        "last_quote": {**_NULLABLE_INTERACTION, "description": "The latest interaction with quote lines."},
        "last_commitment": {**_NULLABLE_INTERACTION, "description": "The latest interaction with commitments."},
        "last_follow_up": {**_NULLABLE_INTERACTION, "description": "The latest interaction that set a follow-up date."},
        "last_contact_at": _NULLABLE_TIME,
    },
}

schemas.register(Money=MONEY, InteractionCreate=INTERACTION_CREATE, Interaction=INTERACTION,
                 InteractionPage=INTERACTION_PAGE, InteractionSummary=INTERACTION_SUMMARY)


# --- JSON <-> messages (also used by the visits blueprint) --------------------------

def time_json(ts: Timestamp) -> str:
    return ts.ToJsonString()


def money_json(m: common_pb2.Money) -> dict:
    return {"minor_units": m.minor_units, "currency_code": m.currency_code}


def interaction_json(i: pb.Interaction) -> dict:
    d = i.next_follow_up_date
    return {
        "customer_id": i.customer_id, "sequence": i.sequence, "channel": _CHANNEL_FROM_PB.get(i.channel, "call"),
        "direction": _DIRECTION_FROM_PB.get(i.direction, "outbound"), "rep_id": i.rep_id,
        "occurred_at": time_json(i.occur_time), "recorded_at": time_json(i.record_time),
        "recorded_by": i.recorded_by, "summary": i.summary,
        "quote_lines": [{"item": q.item, "quantity": q.quantity, "unit_price": money_json(q.unit_price)}
                        for q in i.quote_lines],
        "quote_total": money_json(i.quote_total) if i.HasField("quote_total") else None,
        "commitments": list(i.commitments),
        "next_follow_up": f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if i.HasField("next_follow_up_date") else None,
    }


def outcome_pb(body: dict, message: pb.Interaction) -> pb.Interaction:
    """Fill `message` from a validated body (InteractionCreate or VisitCompletion);
    times and dates the schema cannot check fully are a 422 naming the field."""
    errors = []
    if "direction" in body:
        message.direction = _DIRECTION_TO_PB[body["direction"]]
    if "occurred_at" in body:
        try:
            message.occur_time.FromDatetime(timestamp(body["occurred_at"]))
        except ValueError as err:
            errors.append({"field": "occurred_at", "message": str(err)})
    message.summary = body.get("summary", "")
    for line in body.get("quote_lines", ()):
        price = line["unit_price"]
        # JSON Schema counts 2.0 as an integer; protobuf wants an int.
        message.quote_lines.add(item=line["item"], quantity=int(line["quantity"]), unit_price=common_pb2.Money(
            minor_units=int(price["minor_units"]), currency_code=price["currency_code"]))
    message.commitments.extend(body.get("commitments", ()))
    if "next_follow_up" in body:
        year, month, day = map(int, _DATE.match(body["next_follow_up"]).groups())
        # A well-formed but impossible day (2026-02-30) is the service's to refuse.
        message.next_follow_up_date.CopyFrom(common_pb2.Date(year=year, month=month, day=day))
    if errors:
        raise Problem(422, "the body does not match the schema", slug="validation", errors=errors)
    return message


def request_id() -> str:
    """The Idempotency-Key, passed on as the service's own retry key, so a
    retry is recognised even when the gateway's replay store lost it."""
    key = request.headers.get("Idempotency-Key")
    return "idem:" + hashlib.sha256(key.encode()).hexdigest()[:40] if key else ""


# --- routes ---------------------------------------------------------------------------

@bp.post("/<customer_id>/interactions")
def record_interaction(customer_id: str):
    require_role(WRITERS)
    body = json_body("InteractionCreate")
    message = outcome_pb(body, pb.Interaction(channel=_CHANNEL_TO_PB[body["channel"]], rep_id=body.get("rep_id", "")))
    made = call("customer", g.downstream.interactions.RecordInteraction, pb.RecordInteractionRequest(
        customer_id=customer_id[:64], interaction=message, request_id=request_id()))
    resp: Response = jsonify(interaction_json(made))
    resp.status_code = 201
    return resp


@bp.get("/<customer_id>/interactions")
def list_interactions(customer_id: str):
    require_role(READERS)
    q = query_args({"page_size": integer(1, 200), "page_token": text(512)})
    page = call("customer", g.downstream.interactions.ListInteractions, pb.ListInteractionsRequest(
        customer_id=customer_id[:64], page_size=q.get("page_size", 50), page_token=q.get("page_token", "")))
    return jsonify({"items": [interaction_json(i) for i in page.interactions], "next_page_token": page.next_page_token})


@bp.get("/<customer_id>/interactions/summary")
def interaction_summary(customer_id: str):
    require_role(READERS)
    s = call("customer", g.downstream.interactions.GetInteractionSummary,
             pb.GetInteractionSummaryRequest(customer_id=customer_id[:64]))
    return jsonify({
        "customer_id": s.customer_id,
        **{slot: interaction_json(getattr(s, slot)) if s.HasField(slot) else None
           for slot in ("last_quote", "last_commitment", "last_follow_up")},
        "last_contact_at": time_json(s.last_contact_time) if s.HasField("last_contact_time") else None,
    })


CUSTOMER_ID_PARAM = {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "string"}}
WRITE_ERRORS = {
    "400": problem("Malformed JSON or bad Idempotency-Key."),
    "409": problem("The request id was used for other content, or the Idempotency-Key is in use."),
    "413": problem("Body too large."),
    "415": problem("Body is not application/json."),
    "422": problem("Body fails validation (or the Idempotency-Key was used for another body); `errors` lists each field."),
}

PATHS = {
    "/api/v1/customers/{customer_id}/interactions": {
        "post": {
            "operationId": "recordInteraction", "summary": "Record a call, visit, e-mail, SMS, chat, meeting or quote",
            "description": "Money is integer minor units plus an ISO 4217 code. Refreshes the customer's "
                           "last-contact time. With Idempotency-Key a retry returns the first entry.",
            "parameters": [CUSTOMER_ID_PARAM, IDEMPOTENCY_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/InteractionCreate"}}}},
            "responses": {
                "201": json_response("Interaction", "Recorded."),
                "404": problem("No such customer, or not one you may see."),
                **WRITE_ERRORS, **COMMON,
            },
        },
        "get": {
            "operationId": "listInteractions", "summary": "A customer's interactions, newest first",
            "parameters": [
                CUSTOMER_ID_PARAM,
                {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                {"name": "page_token", "in": "query", "schema": {"type": "string", "maxLength": 512}},
            ],
            "responses": {"200": json_response("InteractionPage", "A page of interactions."),
                          "400": problem("Bad query parameter or page token."),
                          "404": problem("No such customer, or not one you may see."), **COMMON},
        },
    },
    "/api/v1/customers/{customer_id}/interactions/summary": {
        "get": {
            "operationId": "getInteractionSummary", "summary": "Last quote, last commitment and last contact",
            "description": "What we told the customer last, in one call, so the next answer agrees with it.",
            "parameters": [CUSTOMER_ID_PARAM],
            "responses": {"200": json_response("InteractionSummary", "The summary."),
                          "404": problem("No such customer, or not one you may see."), **COMMON},
        },
    },
}
