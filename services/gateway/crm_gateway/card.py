"""The 360 card: `GET /api/v1/customers/360?phone=…|email=…|id=…` answers in
one request what a person picking up the phone needs.

The profile (preferences first) anchors the card: it is the lookup, and its
answer (404, 403, 503) is the card's. The same call (the customer service's
GetCustomerOverview) brings that service's own sections, the interactions
and the open visits, with the customer read once: they share the profile's
fate and its deadline, and a part the service could not read is named in
`missing` as `error`. Every other part is a **section**,
fetched in parallel under one deadline budget (GATEWAY_CARD_BUDGET_SECONDS,
1.0 s by default, counted from the start of the request, the profile
included). A section whose service is down, slow or refuses is left out and
named in `missing` with the reason (`unavailable`, `timeout`,
`not_permitted`, `error`); the rest still answers 200. A section the
caller's role may not see is named there too, as `not_permitted`, without a
call. Rights are the services': the caller's token goes with every call,
and with the calls started after the overview (by phone or e-mail; by id
the sections start at once) its customer grant (crm_kit.customer_directory),
so those services need not ask the customer service who owns the customer
a second time.

Adding a section is one `register(Section(...))`: its name, the service it
calls, the call (or the part of the overview that answers it), the mapping,
its JSON type and who may see it. Sales
(orders, receivables), support (tickets with SLA state) and loyalty
(points, tier, the last greeting) join that way, e.g.

    register(Section(
        "loyalty", "loyalty", allow=Policy(_READERS, scope="loyalty:read"),
        call=lambda ds, s, timeout: ds.stub("loyalty", lpb_grpc.LoyaltyServiceStub).GetAccount(
            lpb.GetAccountRequest(customer_id=s.customer_id), timeout=timeout),
        to_json=_loyalty_json, model=LoyaltyCard, description="Points held, ..."))

A section's call is a blocking gRPC call, run with the request's context
on threads each gateway worker keeps (Downstream.side_by_side): a blocking
call waits on its own completion queue, where a grpc future starts a
polling thread per call when none is running (three thread starts a card).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as PoolTimeout
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import grpc
from flask import Blueprint, g
from pydantic import Field, create_model

from crm.customer.v1 import interaction_service_pb2 as ipb
from crm.customer.v1 import overview_service_pb2 as opb
from crm.sales.v1 import customer_sales_service_pb2 as spb
from crm.sales.v1 import customer_sales_service_pb2_grpc as spb_grpc
from crm.loyalty.v1 import loyalty_service_pb2 as lpb
from crm.loyalty.v1 import loyalty_service_pb2_grpc as lpb_grpc

from crm_kit import context

from crm_gateway.customers import READ, Customer, exactly_one
from crm_gateway.downstream import Downstream
from crm_gateway.fields import Id, NullableTime, Out, Query, optional, text
from crm_gateway.interactions import Interaction
from crm_gateway.loyalty import Account as LoyaltyAccount, LastGreeting, Tier as LoyaltyTier
from crm_gateway.routing import Args, Ok, Policy, route
from crm_gateway.sales_contracts import Contract
from crm_gateway.sales_orders import Order
from crm_gateway.sales_payments import CurrencyAgeing, ageing_json
from crm_gateway.visits import Visit, visit_json

bp = Blueprint("card", __name__, url_prefix="/api/v1/customers")

RECENT_INTERACTIONS = 5
OPEN_VISITS = 10


@dataclass(frozen=True)
class Subject:
    """Whom the card is about: the id at once (when asked by id), the
    customer service's overview (the profile among it) once it is read."""

    customer_id: str
    overview: opb.CustomerOverview | None = None


class Ready:
    """A section's value known without a call (e.g. nothing to ask)."""

    def __init__(self, value):
        self.value = value

    def result(self, timeout=None):  # noqa: ARG002 - the Future signature
        return self.value


class Refused(Ready):
    """A part of the overview the service did not give: not permitted to
    this caller (value None), or one it could not read ("error")."""

    def result(self, timeout=None):  # noqa: ARG002
        raise SectionRefused(self.value or "not_permitted")


class SectionRefused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Section:
    name: str  # its key on the card
    service: str  # the downstream it calls (Downstream.channel name), named in `missing`
    # The blocking call (its answer; the timeout is what is left of the budget). None for a section the
    # overview answers (`part`).
    call: Callable[[Downstream, Subject, float], Any] | None
    to_json: Callable[[Any, Subject], Any]  # the answer's JSON (the subject at hand)
    model: Any  # the JSON's type, for /openapi.json
    allow: Policy  # who may see it; others find it in `missing` as not_permitted
    description: str
    needs: Literal["id", "profile"] = "id"  # "profile": starts once the profile is read
    # The part of the customer service's overview that answers it (opb.GetCustomerOverviewRequest's flag).
    part: Literal["", "interactions", "open_visits"] = ""


SECTIONS: list[Section] = []


def register(section: Section) -> Section:
    if any(s.name == section.name for s in SECTIONS) or section.name in ("customer_id", "profile", "missing"):
        raise ValueError(f"card section {section.name!r} registered twice")
    if (section.call is None) == (not section.part):
        raise ValueError(f"card section {section.name!r}: give a call or an overview part, not both")
    SECTIONS.append(section)
    return section


# --- the customer service's sections ------------------------------------------------------

class LastTold(Out):
    last_quote: Annotated[Interaction | None, Field(description="The latest interaction with quote lines.")]
    last_commitment: Annotated[Interaction | None, Field(description="The latest interaction with commitments.")]
    last_follow_up: Annotated[Interaction | None, Field(description="The latest interaction that set a follow-up "
                                                                    "date.")]
    last_contact_at: NullableTime


def _last_told(s: ipb.InteractionSummary) -> dict:
    one = Interaction.from_pb
    return {"last_quote": one(s.last_quote) if s.HasField("last_quote") else None,
            "last_commitment": one(s.last_commitment) if s.HasField("last_commitment") else None,
            "last_follow_up": one(s.last_follow_up) if s.HasField("last_follow_up") else None,
            "last_contact_at": s.last_contact_time.ToJsonString() if s.HasField("last_contact_time") else None}


def _visits_json(o: opb.CustomerOverview, s: Subject) -> list:
    return [visit_json(v) for v in o.open_visits]


_READERS = ("admin", "manager", "rep", "agent", "finance", "integration")

register(Section(
    "last_told", "customer", allow=Policy(_READERS, scope="customers:read"), call=None, part="interactions",
    to_json=lambda o, s: _last_told(o.interactions), model=LastTold,
    description="The last quote, last commitment and last follow-up date: what we told them last."))
register(Section(
    "recent_interactions", "customer", allow=Policy(_READERS, scope="customers:read"), call=None,
    part="interactions", to_json=lambda o, s: [Interaction.from_pb(i) for i in o.interactions.recent],
    model=list[Interaction], description=f"The last {RECENT_INTERACTIONS} interactions, newest first."))
register(Section(
    "open_visits", "customer",
    allow=Policy(("admin", "manager", "rep", "integration"), scope="customers:read"), call=None,
    part="open_visits", to_json=_visits_json, model=list[Visit],
    description=f"Up to {OPEN_VISITS} open visits of this customer, earliest first."))


# --- the sales service's section ------------------------------------------------------------

class SalesCard(Out):
    open_orders: Annotated[list[Order], Field(description="Orders neither closed nor cancelled, oldest first (at "
                                                          "most 20), each line with its delivery state.")]
    more_open_orders: bool
    last_order: Annotated[Order | None, Field(description="The most recent order past the draft stage.")]
    receivables: Annotated[list[CurrencyAgeing], Field(description="Outstanding and overdue, by days past due, "
                                                                   "one entry per currency with anything owed.")]
    ending_contracts: Annotated[list[Contract], Field(description="Signed contracts ending within 60 days, "
                                                                  "soonest first.")]


def _sales_json(r: spb.CustomerSales, s: Subject) -> dict:
    return {"open_orders": [Order.from_pb(o) for o in r.open_orders], "more_open_orders": r.more_open_orders,
            "last_order": Order.from_pb(r.last_order) if r.HasField("last_order") else None,
            "receivables": [ageing_json(a) for a in r.receivables],
            "ending_contracts": [Contract.from_pb(c) for c in r.ending_contracts]}


register(Section(
    "sales", "sales", allow=Policy(_READERS, scope="sales:read"),
    call=lambda ds, s, timeout: ds.stub("sales", spb_grpc.CustomerSalesServiceStub).GetCustomerSales(
        spb.GetCustomerSalesRequest(customer_id=s.customer_id), timeout=timeout),
    to_json=_sales_json, model=SalesCard,
    description="Open orders with delivery state, the last order, receivables (outstanding and overdue) and "
                "contracts ending within 60 days. Costs and margins only for managers, finance and admins."))


# --- the loyalty service's section -----------------------------------------------------------

class LoyaltyCard(Out):
    balance: Annotated[int, Field(description="Points held now.")]
    expiring_within_30_days: int
    next_expiry_date: Annotated[str | None, Field(json_schema_extra={"format": "date"})]
    tier: Annotated[LoyaltyTier, Field(description="The VIP tier and the way to the next one (to_next).")]
    last_greeting: LastGreeting


def _loyalty_json(a, s: Subject) -> dict:
    account = LoyaltyAccount.from_pb(a)
    return {name: account[name] for name in LoyaltyCard.model_fields}  # the account's fields the card shows


# One call: the service checks the caller's right to the customer once for the points and the last greeting.
register(Section(
    "loyalty", "loyalty", allow=Policy(_READERS, scope="loyalty:read"),
    call=lambda ds, s, timeout: ds.stub("loyalty", lpb_grpc.LoyaltyServiceStub).GetAccount(
        lpb.GetAccountRequest(customer_id=s.customer_id), timeout=timeout),
    to_json=_loyalty_json, model=LoyaltyCard,
    description="Points held, points expiring within 30 days, the VIP tier and what is missing for the next, "
                "the last greeting."))


# --- the route -----------------------------------------------------------------------------

class Missing(Out):
    section: str
    service: str
    reason: Literal["unavailable", "timeout", "not_permitted", "error"]


def card_model():
    """The card's schema, from the registry: every section optional (absent when missing)."""
    fields = {s.name: (Annotated[s.model, Field(description=s.description)], optional()) for s in SECTIONS}
    return create_model(
        "CustomerCard", __base__=Out, customer_id=(str, ...),
        profile=(Annotated[Customer, Field(description="The customer as you may see it, preferences first.")], ...),
        missing=(Annotated[list[Missing], Field(description="Sections left out, and why.")], ...), **fields)


CustomerCard = card_model()


class CardQuery(Query):
    phone: text(32, 1) = optional()
    email: text(254, 1) = optional()
    id: Id = optional()


_REASONS = {grpc.StatusCode.DEADLINE_EXCEEDED: "timeout", grpc.StatusCode.UNAVAILABLE: "unavailable",
            grpc.StatusCode.CANCELLED: "unavailable", grpc.StatusCode.PERMISSION_DENIED: "not_permitted",
            grpc.StatusCode.NOT_FOUND: "not_permitted", grpc.StatusCode.UNAUTHENTICATED: "not_permitted"}


def _profile_json(c) -> dict:
    data = Customer.from_pb(c)
    return {"preferences": data.pop("preferences"), **data}


@route(bp, "GET", "/360", "getCustomerCard", "The 360 card: everything about a caller in one answer", allow=READ,
       query=CardQuery, ok=Ok(CustomerCard, "The card; `missing` names what could not be had in time."),
       errors={400: "Give exactly one of phone, email or id.", 404: "No customer you may see has it."},
       description="By phone, e-mail or id: the profile (preferences first) and every section you may see, fetched "
                   "in parallel under one deadline budget (GATEWAY_CARD_BUDGET_SECONDS). A section whose service is "
                   "down, slow or refuses is named in `missing`; the rest still answers.")
def customer_card(a: Args):
    q = a.query
    exactly_one(q, ("phone", "email", "id"))
    ds: Downstream = g.downstream
    deadline = time.monotonic() + ds.settings.card_budget_seconds
    principal = g.principal
    visible = [s for s in SECTIONS if s.allow.allows(principal)]
    missing = [{"section": s.name, "service": s.service.partition(".")[0], "reason": "not_permitted"}
               for s in SECTIONS if s not in visible]
    started: dict[str, Any] = {}

    def start(section: Section, subject: Subject) -> None:
        if section.part:
            o = subject.overview
            answered = o.HasField("interactions") if section.part == "interactions" else True
            if section.part in o.not_permitted:
                started[section.name] = Refused(None)
            elif section.part in o.failed or not answered:
                started[section.name] = Refused("error")
            else:
                started[section.name] = Ready(o)
            return
        # With the request's context: its token, request id and (after the overview) the grant go along.
        started[section.name] = ds.side_by_side().submit(
            contextvars.copy_context().run, section.call, ds, subject, max(0.001, deadline - time.monotonic()))

    if q.id:
        for s in visible:
            if s.needs == "id" and not s.part:
                start(s, Subject(q.id))
    parts = {s.part for s in visible if s.part}
    try:
        overview = ds.overview.GetCustomerOverview(
            opb.GetCustomerOverviewRequest(id=q.id or "", phone=q.phone or "", email=q.email or "",
                                           interactions="interactions" in parts,
                                           recent_interactions=RECENT_INTERACTIONS,
                                           open_visits="open_visits" in parts, open_visits_limit=OPEN_VISITS),
            timeout=max(0.001, deadline - time.monotonic()))
    except grpc.RpcError:
        for f in started.values():
            f.cancel()  # those not running yet; a running call ends within its timeout
        raise  # the card is the profile's: 404, 403, 503 (routing maps it)
    profile = overview.customer
    subject = Subject(profile.id, overview)
    # The overview's customer grant goes with the section calls (the kit's client interceptor adds it): the
    # services take the owner from it rather than ask the customer service again. Opaque here: it is signed
    # with the customer service's private key, which the gateway does not hold.
    grant = context.customer_grant.set(overview.grant)
    try:
        for s in visible:
            if s.name not in started:
                start(s, subject)
    finally:
        context.customer_grant.reset(grant)

    card: dict[str, Any] = {"customer_id": profile.id, "profile": _profile_json(profile)}
    for s in visible:
        outcome = started[s.name]
        try:
            value = outcome.result(timeout=max(0.0, deadline - time.monotonic()) + 0.05)
            card[s.name] = s.to_json(value, subject)
        except grpc.RpcError as err:
            missing.append({"section": s.name, "service": s.service.partition(".")[0],
                            "reason": _REASONS.get(err.code(), "error")})
        except SectionRefused as refused:
            missing.append({"section": s.name, "service": s.service.partition(".")[0], "reason": refused.reason})
        except PoolTimeout:
            outcome.cancel()
            missing.append({"section": s.name, "service": s.service.partition(".")[0], "reason": "timeout"})
    card["missing"] = missing
    return card
