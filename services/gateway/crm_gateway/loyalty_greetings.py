"""Greetings: REST in, the loyalty service's GreetingService gRPC out: the
templates per occasion and language (admins), a run of one day's greetings
(admins; the day may be set, e.g. to a lunar holiday; started at once, then
polled), and a customer's delivery log (whoever may see the customer; the
service decides)."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.loyalty.v1 import greeting_service_pb2 as pb
from crm.loyalty.v1 import greeting_service_pb2_grpc as pb_grpc

from crm_gateway.fields import Body, CustomerPath, DateIn, NullableTime, Out, Query, Time, date_json, date_pb, \
    optional, text
from crm_gateway.routing import Args, Header, Ok, Policy, route

bp = Blueprint("loyalty_greetings", __name__, url_prefix="/api/v1")

READ = Policy(("admin", "manager", "rep", "agent", "finance", "integration"), scope="loyalty:read")
ADMIN = Policy(("admin",))
SERVICE = "loyalty"
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
Language = Annotated[str, Field(pattern=r"^(zh|en)$")]


def stub() -> pb_grpc.GreetingServiceStub:
    return g.downstream.stub("loyalty.greetings", pb_grpc.GreetingServiceStub)


# --- answers -----------------------------------------------------------------------------

class GreetingTemplate(Out):
    occasion: Annotated[str, Field(description="birthday, anniversary, spring_festival, dragon_boat, mid_autumn or a "
                                               "configured solar holiday's code.")]
    language: Annotated[str, Field(description="zh or en.")]
    subject: Annotated[str, Field(description="The e-mail subject; SMS sends the body only.")]
    body: Annotated[str, Field(description="Text with the placeholders {name} and {tier}.")]
    built_in: Annotated[bool, Field(description="True while no admin has set this one (the shipped default).")]
    updated_at: NullableTime

    @staticmethod
    def from_pb(t: pb.GreetingTemplate) -> dict:
        return {"occasion": t.occasion, "language": t.language, "subject": t.subject, "body": t.body,
                "built_in": t.built_in,
                "updated_at": t.update_time.ToJsonString() if t.HasField("update_time") else None}


class GreetingTemplates(Out):
    items: list[GreetingTemplate]

    @staticmethod
    def from_pb(r: pb.ListGreetingTemplatesResponse) -> dict:
        return {"items": [GreetingTemplate.from_pb(t) for t in r.templates]}


def _time(r, name: str) -> str | None:
    return getattr(r, name).ToJsonString() if r.HasField(name) else None


class GreetingRun(Out):
    run_id: str
    on_date: Annotated[str, Field(json_schema_extra={"format": "date"})]
    customers: Annotated[int, Field(description="Customers looked at so far.")]
    sent: int
    failed: int
    skipped: Annotated[int, Field(description="Not sent: no consent for any channel at the moment of sending.")]
    already_done: Annotated[int, Field(description="Sent or skipped before this run; not counted above.")]
    errors: Annotated[int, Field(description="Customers left undecided (their contact could not be read, or an "
                                             "error); a later run retries them.")]
    started_at: Time
    updated_at: Annotated[NullableTime, Field(description="The run's last sign of life: after every batch of "
                                                          "customers. It stops moving when the process running the "
                                                          "run died (finished_at stays null); a new run is safe.")]
    finished_at: Annotated[NullableTime, Field(description="null while the run goes on.")]
    started_by: Annotated[str, Field(description='The admin, or "system:greetings" for the daily run.')]
    stopped_reason: Annotated[str, Field(description="Empty when every customer was looked at; else why the run "
                                                     "stopped early: customer_service_unavailable, "
                                                     "outside_sending_hours or internal_error.")]

    @staticmethod
    def from_pb(r: pb.RunGreetingsResponse) -> dict:
        return {"run_id": r.run_id, "on_date": date_json(r.on_date), "customers": r.customers, "sent": r.sent,
                "failed": r.failed, "skipped": r.skipped, "already_done": r.already_done, "errors": r.errors,
                "started_at": r.started_at.ToJsonString(), "updated_at": _time(r, "updated_at"),
                "finished_at": _time(r, "finished_at"), "started_by": r.started_by,
                "stopped_reason": r.stopped_reason}


class GreetingDelivery(Out):
    occasion: str
    year: Annotated[int, Field(description="The occasion's year (the lunar year for lunar occasions).")]
    channel: Annotated[str, Field(description="sms, email, or empty when skipped before a channel was chosen.")]
    outcome: Annotated[str, Field(description="queued, sent, failed or skipped.")]
    reason: Annotated[str, Field(description="Why it failed or was skipped, e.g. no_consent.")]
    message_id: str
    at: NullableTime

    @staticmethod
    def from_pb(d: pb.GreetingDelivery) -> dict:
        return {"occasion": d.occasion, "year": d.year, "channel": d.channel, "outcome": d.outcome,
                "reason": d.reason, "message_id": d.message_id,
                "at": d.time.ToJsonString() if d.HasField("time") else None}


class GreetingDeliveries(Out):
    items: Annotated[list[GreetingDelivery], Field(description="Newest first.")]

    @staticmethod
    def from_pb(r: pb.ListGreetingDeliveriesResponse) -> dict:
        return {"items": [GreetingDelivery.from_pb(d) for d in r.deliveries]}


# --- inputs --------------------------------------------------------------------------------

class RunPath(BaseModel):
    # The loyalty service's run ids ("greetings_<day>_<start, UTC>_<random>"); any other is no such run.
    run_id: Annotated[str, Field(pattern=r"^greetings_[0-9]{8}_[0-9]{8}T[0-9]{6}_[0-9a-f]{12}$")]


class TemplatePath(BaseModel):
    occasion: Code
    language: Language


class TemplateIn(Body):
    subject: text(200) = ""
    body: text(2000, 1, description="Placeholders: {name} and {tier}; any other is refused (422 naming it).")


class RunIn(Body):
    on_date: Annotated[DateIn, Field(description="The day to run as of (business time zone); today when left "
                                                 "out.")] = optional()


class DeliveriesQuery(Query):
    page_size: Annotated[int, Field(ge=1, le=100)] = 20


# --- routes --------------------------------------------------------------------------------

@route(bp, "GET", "/greetings/templates", "listGreetingTemplates", "The greeting templates in use", allow=ADMIN,
       ok=Ok(GreetingTemplates, "For every occasion and language: an admin's template or the shipped default."),
       service=SERVICE)
def list_templates(a: Args):
    return stub().ListGreetingTemplates(pb.ListGreetingTemplatesRequest())


@route(bp, "PUT", "/greetings/templates/<occasion>/<language>", "setGreetingTemplate",
       "Set the template of one occasion and language", allow=ADMIN, path=TemplatePath, body=TemplateIn,
       ok=Ok(GreetingTemplate, "The template now in use."), service=SERVICE,
       errors={404: "No such occasion or language.",
               422: "An unknown placeholder or occasion (named), or a field too long."})
def set_template(a: Args):
    p, b = a.path, a.body
    return stub().UpdateGreetingTemplate(pb.UpdateGreetingTemplateRequest(template=pb.GreetingTemplate(
        occasion=p.occasion, language=p.language, subject=b.subject, body=b.body)))


@route(bp, "DELETE", "/greetings/templates/<occasion>/<language>", "resetGreetingTemplate",
       "Drop an admin's template: the shipped default applies again", allow=ADMIN, path=TemplatePath,
       ok=Ok(GreetingTemplate, "The template now in use (the default)."), service=SERVICE,
       errors={400: "An occasion that is not configured (named).", 404: "No such occasion or language."})
def reset_template(a: Args):
    return stub().ResetGreetingTemplate(pb.ResetGreetingTemplateRequest(occasion=a.path.occasion,
                                                                        language=a.path.language))


RUN_LOCATION = Header("Location", "The run, to poll.", lambda r: f"/api/v1/greetings/runs/{r.run_id}")


@route(bp, "POST", "/greetings/runs", "runGreetings", "Start one day's greetings now", allow=ADMIN, body=RunIn,
       ok=Ok(GreetingRun, "The run, started: poll its Location until finished_at is set.", 202, (RUN_LOCATION,)),
       service=SERVICE, errors={409: "Today outside the sending hours (name a day to run as of it).",
                                422: "An impossible day."},
       description="Answers at once; the run goes on in the loyalty service. Safe to repeat, also while a run "
                   "goes on: what was sent or skipped stays so, queued and failed are retried. Each customer gets "
                   "one greeting per occasion per year, only by a channel consented to now.")
def run_greetings(a: Args):
    message = pb.RunGreetingsRequest()
    if a.body.on_date is not None:
        message.on_date.CopyFrom(date_pb(a.body.on_date))
    return stub().RunGreetings(message)


@route(bp, "GET", "/greetings/runs/<run_id>", "getGreetingRun", "A greeting run's progress and result",
       allow=ADMIN, path=RunPath, ok=Ok(GreetingRun, "The run (its counts so far while it goes on)."),
       service=SERVICE, errors={404: "No such run (run records are kept 30 days)."})
def get_run(a: Args):
    return stub().GetGreetingRun(pb.GetGreetingRunRequest(run_id=a.path.run_id))


@route(bp, "GET", "/customers/<customer_id>/greetings", "listGreetingDeliveries", "A customer's greeting log",
       allow=READ, path=CustomerPath, query=DeliveriesQuery, ok=Ok(GreetingDeliveries, "Newest first."),
       service=SERVICE, errors={404: "No such customer, or not one you may see."})
def list_deliveries(a: Args):
    return stub().ListGreetingDeliveries(pb.ListGreetingDeliveriesRequest(customer_id=a.path.customer_id,
                                                                          page_size=a.query.page_size))
