"""/api/v1/daily-reports: REST in, the sales service's DailyReportService gRPC out."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.sales.v1 import daily_report_service_pb2 as pb
from crm.sales.v1 import daily_report_service_pb2_grpc as pb_grpc

from crm_gateway.fields import Body, DateIn, NullableTime, Out, Query, Time, date_json, date_pb, text
from crm_gateway.routing import Args, Header, Ok, Policy, RequestHeader, route
from crm_gateway.sales_products import expected_revision

bp = Blueprint("sales_daily_reports", __name__, url_prefix="/api/v1/daily-reports")

# The service decides per report and team (a rep's own, a manager's team); these may ask at all.
READ = Policy(("admin", "manager", "rep", "finance", "integration"), scope="sales:read")
SUBMIT = Policy(("manager", "rep"))
TEAM_READ = Policy(("admin", "manager", "finance", "integration"), scope="sales:read")
ROSTER_WRITE = Policy(("admin", "manager"))
SubjectId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@:-]*$")]
ETAG = Header("ETag", "The report's revision; send it back in If-Match to change only what you read.",
              lambda m: f'"{m.revision}"')
IF_MATCH = RequestHeader("If-Match", "The ETag you read; optional: without it the edit applies to the report "
                                     "as it is now.")
_DENIED = {404: "Not your report, or not your team's (nothing is told about it)."}
_RULES = """One report per rep per business day (SALES_TIMEZONE). It is due at SALES_DAILY_REPORT_DEADLINE local time
(default 21:00 on the day; "HH:MM+1" means the morning after). Before the deadline the rep submits and edits it
freely; a report not submitted by then may still be submitted once, up to SALES_DAILY_REPORT_LATE_DAYS days later,
and is marked late; a submitted report is frozen after its deadline (409). The customers contacted are not typed
in: they are the day's interactions and completed visits the customer service recorded for the rep, read at every
view (an erased customer is gone)."""


# --- inputs ------------------------------------------------------------------------------

class ReportPath(BaseModel):
    rep_id: SubjectId
    day: DateIn


class TeamPath(BaseModel):
    team_id: SubjectId


class ReportSubmit(Body):
    work_done: text(4000, 1, description="What was done (required).")
    tomorrow_plan: text(4000, description="The plan for the next working day.") = ""
    problems: text(4000, description="Problems met, help needed.") = ""


class TeamDayQuery(Query):
    team_id: Annotated[str, Field(max_length=128, description="Managers: their own team (the default).")] = ""
    day: Annotated[DateIn | None, Field(description="The business day; today when left out.")] = None


class RosterSet(Body):
    rep_ids: Annotated[list[SubjectId], Field(max_length=500, description="The reps expected to report every "
                                                                         "day; empty clears the roster.")]


# --- answers ---------------------------------------------------------------------------------

class Contacted(Out):
    customer_id: str
    channels: Annotated[list[str], Field(description="Channels used that day, in the order first used.")]
    interaction_count: int
    visit_count: Annotated[int, Field(description="Of which completed visits.")]
    first_contact_at: Time
    last_contact_at: Time


class DailyReport(Out):
    rep_id: str
    team_id: str
    day: Annotated[str, Field(json_schema_extra={"format": "date"})]
    work_done: str
    tomorrow_plan: str
    problems: str
    contacted: Annotated[list[Contacted], Field(description="Prefilled from the customer service, in the order "
                                                            "first contacted.")]
    submitted: bool
    submitted_at: NullableTime
    updated_at: NullableTime
    late: Annotated[bool, Field(description="First submitted after the deadline.")]
    deadline: Time
    editable: Annotated[bool, Field(description="Whether the rep may still submit or edit it.")]
    revision: int

    @staticmethod
    def from_pb(r: pb.DailyReport) -> dict:
        return {
            "rep_id": r.rep_id, "team_id": r.team_id, "day": date_json(r.day), "work_done": r.work_done,
            "tomorrow_plan": r.tomorrow_plan, "problems": r.problems,
            "contacted": [{"customer_id": c.customer_id, "channels": list(c.channels),
                           "interaction_count": c.interaction_count, "visit_count": c.visit_count,
                           "first_contact_at": c.first_contact_time.ToJsonString(),
                           "last_contact_at": c.last_contact_time.ToJsonString()} for c in r.contacted],
            "submitted": r.submitted,
            "submitted_at": r.submit_time.ToJsonString() if r.HasField("submit_time") else None,
            "updated_at": r.update_time.ToJsonString() if r.HasField("update_time") else None,
            "late": r.late, "deadline": r.deadline.ToJsonString(), "editable": r.editable, "revision": r.revision,
        }


class TeamDay(Out):
    team_id: str
    day: Annotated[str, Field(json_schema_extra={"format": "date"})]
    deadline: Time
    deadline_passed: bool
    reports: Annotated[list[DailyReport], Field(description="Submitted reports, by rep id.")]
    missing_rep_ids: Annotated[list[str], Field(description="Reps on the roster without a submitted report.")]
    roster_source: Annotated[Literal["set", "recent"], Field(
        description="set: the roster the manager set; recent: none set, so the reps who submitted for the team in "
                    "the last 30 days.")]

    @staticmethod
    def from_pb(t: pb.TeamDailyReports) -> dict:
        return {"team_id": t.team_id, "day": date_json(t.day), "deadline": t.deadline.ToJsonString(),
                "deadline_passed": t.deadline_passed, "reports": [DailyReport.from_pb(r) for r in t.reports],
                "missing_rep_ids": list(t.missing_rep_ids), "roster_source": t.roster_source}


class Roster(Out):
    team_id: str
    rep_ids: Annotated[list[str], Field(description="Who is expected to report today.")]
    source: Literal["set", "recent"]

    @staticmethod
    def from_pb(r: pb.TeamRoster) -> dict:
        return {"team_id": r.team_id, "rep_ids": list(r.rep_ids), "source": r.source}


def stub() -> pb_grpc.DailyReportServiceStub:
    return g.downstream.stub("sales", pb_grpc.DailyReportServiceStub)


# --- routes ----------------------------------------------------------------------------------------

@route(bp, "GET", "", "listTeamDailyReports", "A team's reports of a day and who has not submitted",
       allow=TEAM_READ, query=TeamDayQuery, ok=Ok(TeamDay, "The team's day."),
       errors={**_DENIED, 400: "A bad query parameter (a day that is not a calendar day, a team id that cannot be one)."},
       service="sales",
       description="Managers their own team; finance, admins and integrations name one (team_id).")
def list_team_reports(a: Args):
    request = pb.ListTeamDailyReportsRequest(team_id=a.query.team_id)
    if a.query.day:
        request.day.CopyFrom(date_pb(a.query.day))
    return stub().ListTeamDailyReports(request, timeout=g.downstream.settings.list_timeout_seconds)


@route(bp, "GET", "/rosters/<team_id>", "getDailyReportRoster", "Who a team expects a daily report from",
       allow=TEAM_READ, path=TeamPath, ok=Ok(Roster, "The roster."), errors=_DENIED, service="sales")
def get_roster(a: Args):
    return stub().GetTeamRoster(pb.GetTeamRosterRequest(team_id=a.path.team_id))


@route(bp, "PUT", "/rosters/<team_id>", "setDailyReportRoster", "Set who a team expects a daily report from",
       allow=ROSTER_WRITE, path=TeamPath, body=RosterSet, ok=Ok(Roster, "The roster."), errors=_DENIED,
       service="sales", description="The team's manager or an admin. Without a roster the team expects reports "
                                    "from the reps who submitted for it in the last 30 days.")
def set_roster(a: Args):
    return stub().SetTeamRoster(pb.SetTeamRosterRequest(team_id=a.path.team_id, rep_ids=a.body.rep_ids))


@route(bp, "GET", "/<rep_id>/<day>", "getDailyReport", "A rep's report of a day, prefilled", allow=READ,
       path=ReportPath, ok=Ok(DailyReport, "The report; submitted false when not yet sent.", headers=(ETAG,)),
       errors={**_DENIED, 400: "Not a calendar day (2026-02-30)."},
       service="sales", description="Reps their own; managers their team's; finance and admins all. " + _RULES)
def get_report(a: Args):
    return stub().GetDailyReport(pb.GetDailyReportRequest(rep_id=a.path.rep_id, day=date_pb(a.path.day)))


@route(bp, "PUT", "/<rep_id>/<day>", "submitDailyReport", "Submit or edit your report of a day", allow=SUBMIT,
       path=ReportPath, body=ReportSubmit, request_headers=(IF_MATCH,),
       ok=Ok(DailyReport, "The report as stored.", headers=(ETAG,)),
       errors={**_DENIED, 409: "The deadline has passed (a submitted report is frozen; a missed one is too old).",
               412: "If-Match is stale: the report changed since you read it.",
               422: "A bad field (a future day among them)."},
       service="sales", description="Only the rep themselves (rep_id is the caller). " + _RULES)
def submit_report(a: Args):
    b = a.body
    return stub().SubmitDailyReport(pb.SubmitDailyReportRequest(
        rep_id=a.path.rep_id, day=date_pb(a.path.day), work_done=b.work_done, tomorrow_plan=b.tomorrow_plan,
        problems=b.problems, expected_revision=expected_revision()))
