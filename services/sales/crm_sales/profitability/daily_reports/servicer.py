"""gRPC transport for daily reports: messages in, use cases, messages out."""

from __future__ import annotations

from datetime import date

from crm.sales.v1 import daily_report_service_pb2 as pb
from crm.sales.v1 import daily_report_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal

from crm_sales.profitability.daily_reports.service import DailyReportService, ReportView
from crm_sales.wire import date_from_pb, date_pb, timestamp_pb


def _day(request) -> date:
    if not request.HasField("day"):
        raise InvalidArgument(FieldViolation("day", "is required"))
    return date_from_pb(request.day, "day")


class DailyReportServicer(pb_grpc.DailyReportServiceServicer):
    def __init__(self, service: DailyReportService):
        self.service = service

    def GetDailyReport(self, request, context):
        return report_to_pb(self.service.get(current_principal(), request.rep_id, _day(request)))

    def SubmitDailyReport(self, request, context):
        return report_to_pb(self.service.submit(current_principal(), request.rep_id, _day(request),
                                                work_done=request.work_done, tomorrow_plan=request.tomorrow_plan,
                                                problems=request.problems,
                                                expected_revision=request.expected_revision))

    def ListTeamDailyReports(self, request, context):
        day = self.service.today() if not request.HasField("day") else date_from_pb(request.day, "day")
        team = self.service.team_day(current_principal(), request.team_id, day)
        return pb.TeamDailyReports(team_id=team.team_id, day=date_pb(team.day), deadline=timestamp_pb(team.deadline),
                                   deadline_passed=team.deadline_passed,
                                   reports=[report_to_pb(v) for v in team.reports],
                                   missing_rep_ids=team.missing_rep_ids, roster_source=team.roster_source)

    def GetTeamRoster(self, request, context):
        return _roster_pb(*self.service.roster(current_principal(), request.team_id))

    def SetTeamRoster(self, request, context):
        return _roster_pb(*self.service.set_roster(current_principal(), request.team_id, list(request.rep_ids)))


def _roster_pb(roster, expected, source) -> pb.TeamRoster:
    return pb.TeamRoster(team_id=roster.team_id, rep_ids=list(expected), source=source)


def report_to_pb(view: ReportView) -> pb.DailyReport:
    r = view.report
    msg = pb.DailyReport(rep_id=r.rep_id, team_id=r.team_id, day=date_pb(r.day), work_done=r.work_done,
                         tomorrow_plan=r.tomorrow_plan, problems=r.problems, submitted=r.submitted, late=r.late,
                         deadline=timestamp_pb(view.deadline), editable=view.editable, revision=r.revision)
    if r.submitted_at is not None:
        msg.submit_time.CopyFrom(timestamp_pb(r.submitted_at))
    if r.updated_at is not None:
        msg.update_time.CopyFrom(timestamp_pb(r.updated_at))
    for c in view.contacted:
        msg.contacted.add(customer_id=c.customer_id, channels=list(c.channels), interaction_count=c.interaction_count,
                          visit_count=c.visit_count, first_contact_time=timestamp_pb(c.first_at),
                          last_contact_time=timestamp_pb(c.last_at))
    return msg
