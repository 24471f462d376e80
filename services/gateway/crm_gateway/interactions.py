"""/api/v1/customers/{id}/interactions: REST in, InteractionService gRPC out."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Literal

from flask import Blueprint, g, request
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import Field

from crm.common.v1 import common_pb2
from crm.customer.v1 import interaction_service_pb2 as pb

from crm_gateway.fields import NEXT_PAGE, Body, CustomerPath, DateIn, DateTimeIn, NullableTime, Out, PagingQuery, \
    Time, optional, text
from crm_gateway.problems import Problem
from crm_gateway.requests import timestamp
from crm_gateway.routing import Args, Ok, Policy, route

bp = Blueprint("interactions", __name__, url_prefix="/api/v1/customers")

# Whoever sees a customer's contact details reads its log; whoever changes customers writes it.
READ = Policy(("admin", "manager", "rep", "agent", "finance", "integration"), scope="customers:read")
WRITE = Policy(("admin", "manager", "rep", "integration"), scope="customers:write")
CHANNELS = ("call", "visit", "email", "sms", "chat", "meeting", "quote")
DIRECTIONS = ("inbound", "outbound")
Channel = Literal["call", "visit", "email", "sms", "chat", "meeting", "quote"]
Direction = Literal["inbound", "outbound"]
_CHANNEL_TO_PB = {c: pb.InteractionChannel.Value(f"INTERACTION_CHANNEL_{c.upper()}") for c in CHANNELS}
_CHANNEL_FROM_PB = {v: k for k, v in _CHANNEL_TO_PB.items()}
_DIRECTION_TO_PB = {d: pb.InteractionDirection.Value(f"INTERACTION_DIRECTION_{d.upper()}") for d in DIRECTIONS}
_DIRECTION_FROM_PB = {v: k for k, v in _DIRECTION_TO_PB.items()}
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


# --- request bodies ------------------------------------------------------------------

class MoneyIn(Body):
    minor_units: Annotated[int, Field(ge=0, le=10**15, description="Amount in the currency's minor unit, e.g. 1999 "
                                                                     "for CNY 19.99.")]
    currency_code: Annotated[str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$",
                                        description="ISO 4217 code, e.g. CNY.")]


class QuoteLineIn(Body):
    item: text(200, 1)
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]
    unit_price: MoneyIn


class Outcome(Body):
    """What happened: shared by recording an interaction and completing a visit."""

    direction: Direction = optional()
    occurred_at: Annotated[DateTimeIn, Field(description="When it happened; now when left out; not in the "
                                                         "future.")] = optional()
    summary: text(4000, 1)
    quote_lines: Annotated[list[QuoteLineIn], Field(max_length=50, description="What was quoted and at what price; "
                                                                               "all lines in one currency.")] = []
    commitments: Annotated[list[text(500, 1)], Field(max_length=10, description="What we promised.")] = []
    next_follow_up: Annotated[DateIn, Field(description="When to get back to the customer.")] = optional()

    def fill(self, message: pb.Interaction) -> pb.Interaction:
        """`message` with what happened; a time the pattern cannot check
        fully (out of range in UTC) is a 422 naming the field."""
        if self.direction is not None:
            message.direction = _DIRECTION_TO_PB[self.direction]
        if self.occurred_at is not None:
            try:
                message.occur_time.FromDatetime(timestamp(self.occurred_at))
            except ValueError as err:
                raise Problem(422, "the body does not match the schema", slug="validation",
                              errors=[{"field": "occurred_at", "message": str(err)}]) from None
        message.summary = self.summary
        for line in self.quote_lines:
            message.quote_lines.add(item=line.item, quantity=line.quantity, unit_price=common_pb2.Money(
                minor_units=line.unit_price.minor_units, currency_code=line.unit_price.currency_code))
        message.commitments.extend(self.commitments)
        if self.next_follow_up is not None:
            year, month, day = map(int, _DATE.match(self.next_follow_up).groups())
            # A well-formed but impossible day (2026-02-30) is the service's to refuse.
            message.next_follow_up_date.CopyFrom(common_pb2.Date(year=year, month=month, day=day))
        return message


class InteractionCreate(Outcome):
    channel: Channel
    direction: Direction
    rep_id: text(128, description="Who talked to the customer; you when left out. Reps may only name "
                                  "themselves.") = ""


# --- answers ---------------------------------------------------------------------------

def time_json(ts: Timestamp) -> str:
    return ts.ToJsonString()


class Money(Out):
    minor_units: int
    currency_code: str


class QuoteLine(Out):
    item: str
    quantity: int
    unit_price: Money


class Interaction(Out):
    customer_id: str
    sequence: Annotated[int, Field(description="Position in the customer's log, from 1.")]
    channel: Channel
    direction: Direction
    rep_id: str
    occurred_at: Time
    recorded_at: Time
    recorded_by: str
    summary: str
    quote_lines: list[QuoteLine]
    quote_total: Money | None
    commitments: list[str]
    next_follow_up: Annotated[str | None, Field(json_schema_extra={"format": "date"})]

    @staticmethod
    def from_pb(i: pb.Interaction) -> dict:
        d = i.next_follow_up_date
        return {
            "customer_id": i.customer_id, "sequence": i.sequence, "channel": _CHANNEL_FROM_PB.get(i.channel, "call"),
            "direction": _DIRECTION_FROM_PB.get(i.direction, "outbound"), "rep_id": i.rep_id,
            "occurred_at": i.occur_time.ToJsonString(), "recorded_at": i.record_time.ToJsonString(),
            "recorded_by": i.recorded_by, "summary": i.summary,
            "quote_lines": [{"item": q.item, "quantity": q.quantity, "unit_price": {
                "minor_units": q.unit_price.minor_units, "currency_code": q.unit_price.currency_code}}
                for q in i.quote_lines],
            "quote_total": {"minor_units": i.quote_total.minor_units, "currency_code": i.quote_total.currency_code}
            if i.HasField("quote_total") else None,
            "commitments": list(i.commitments),
            "next_follow_up": f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if i.HasField("next_follow_up_date") else None,
        }


interaction_json = Interaction.from_pb


class InteractionPage(Out):
    items: Annotated[list[Interaction], Field(description="Newest first.")]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(page: pb.ListInteractionsResponse) -> dict:
        return {"items": [interaction_json(i) for i in page.interactions], "next_page_token": page.next_page_token}


class InteractionSummary(Out):
    customer_id: str
    last_quote: Annotated[Interaction | None, Field(description="The latest interaction with quote lines.")]
    last_commitment: Annotated[Interaction | None, Field(description="The latest interaction with commitments.")]
    last_follow_up: Annotated[Interaction | None, Field(description="The latest interaction that set a follow-up "
                                                                    "date.")]
    last_contact_at: NullableTime

    @staticmethod
    def from_pb(s: pb.InteractionSummary) -> dict:
        return {
            "customer_id": s.customer_id,
            **{slot: interaction_json(getattr(s, slot)) if s.HasField(slot) else None
               for slot in ("last_quote", "last_commitment", "last_follow_up")},
            "last_contact_at": s.last_contact_time.ToJsonString() if s.HasField("last_contact_time") else None,
        }


def request_id() -> str:
    """The Idempotency-Key, passed on as the service's own retry key, so a
    retry is recognised even when the gateway's replay store lost it."""
    key = request.headers.get("Idempotency-Key")
    return "idem:" + hashlib.sha256(key.encode()).hexdigest()[:40] if key else ""


def stubs():
    return g.downstream.interactions


_NOT_FOUND = {404: "No such customer, or not one you may see."}
WRITE_ERRORS = {409: "The request id was used for other content."}


# --- routes ----------------------------------------------------------------------------

@route(bp, "POST", "/<customer_id>/interactions", "recordInteraction",
       "Record a call, visit, e-mail, SMS, chat, meeting or quote", allow=WRITE, path=CustomerPath,
       body=InteractionCreate, ok=Ok(Interaction, "Recorded.", 201), errors={**_NOT_FOUND, **WRITE_ERRORS},
       description="Money is integer minor units plus an ISO 4217 code. Refreshes the customer's last-contact time. "
                   "With Idempotency-Key a retry returns the first entry.")
def record_interaction(a: Args):
    b = a.body
    message = b.fill(pb.Interaction(channel=_CHANNEL_TO_PB[b.channel], rep_id=b.rep_id))
    return stubs().RecordInteraction(pb.RecordInteractionRequest(
        customer_id=a.path.customer_id, interaction=message, request_id=request_id()))


@route(bp, "GET", "/<customer_id>/interactions", "listInteractions", "A customer's interactions, newest first",
       allow=READ, path=CustomerPath, query=PagingQuery, ok=Ok(InteractionPage, "A page of interactions."),
       errors={**_NOT_FOUND, 400: "Bad query parameter or page token."})
def list_interactions(a: Args):
    return stubs().ListInteractions(pb.ListInteractionsRequest(
        customer_id=a.path.customer_id, page_size=a.query.page_size, page_token=a.query.page_token))


@route(bp, "GET", "/<customer_id>/interactions/summary", "getInteractionSummary",
       "Last quote, last commitment and last contact", allow=READ, path=CustomerPath,
       ok=Ok(InteractionSummary, "The summary."), errors=_NOT_FOUND,
       description="What we told the customer last, in one call, so the next answer agrees with it.")
def interaction_summary(a: Args):
    return stubs().GetInteractionSummary(pb.GetInteractionSummaryRequest(customer_id=a.path.customer_id))
