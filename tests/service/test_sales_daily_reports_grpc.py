"""Daily reports over real gRPC: the contacted customers come from the day's
interactions and completed visits in the customer service (by event, per rep
and day; an erased customer leaves the list), one report per rep per day
editable until the deadline, late once after it, the team's view with who has
not submitted, and who may read and write what."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import grpc
import pytest
from prometheus_client import REGISTRY

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as cpb
from crm.customer.v1 import customer_service_pb2_grpc
from crm.customer.v1 import interaction_service_pb2 as ipb
from crm.customer.v1 import interaction_service_pb2_grpc
from crm.customer.v1 import visit_service_pb2 as vpb
from crm.customer.v1 import visit_service_pb2_grpc
from crm.sales.v1 import daily_report_service_pb2 as pb
from crm.sales.v1 import daily_report_service_pb2_grpc
from crm_sales.profitability.daily_reports import model as rules
from tests.service.support import as_, code_of, create, ts
from tests.polling import wait_for


def d(day: date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


@pytest.fixture(scope="module")
def stubs(services):
    with grpc.insecure_channel(services.targets["customer"]) as customer, \
            grpc.insecure_channel(services.targets["sales"]) as sales:
        yield (customer_service_pb2_grpc.CustomerServiceStub(customer),
               interaction_service_pb2_grpc.InteractionServiceStub(customer),
               visit_service_pb2_grpc.VisitServiceStub(customer),
               daily_report_service_pb2_grpc.DailyReportServiceStub(sales))


@pytest.fixture(scope="module")
def feature(services):
    return services.hosts["sales"].app.features["daily_reports"]


@pytest.fixture
def clock(feature):
    """Set the service's time (the deadline rules depend on it); restored afterwards."""
    original = feature.clock

    def set_to(moment: datetime) -> None:
        feature.clock = lambda: moment
    yield set_to
    feature.clock = original


@pytest.fixture
def team():
    tag = uuid.uuid4().hex[:6]
    return f"team-dr-{tag}", f"rep-dr-a-{tag}", f"rep-dr-b-{tag}"


def local(day: date, hour: int, feature) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=feature.zone).astimezone(timezone.utc)


def contacted(report) -> dict[str, tuple]:
    return {c.customer_id: (tuple(c.channels), c.interaction_count, c.visit_count) for c in report.contacted}


def test_the_days_calls_and_completed_visits_prefill_the_report_and_erasure_removes_a_customer(stubs, feature, team):
    customers, log, visits, reports = stubs
    team_id, rep, other = team
    me = as_(rep, team=team_id)
    happened = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)
    day = rules.local_day(happened, feature.zone)
    called = create(customers, f"+86136{uuid.uuid4().int % 10**8:08d}", who=me).id
    visited = create(customers, f"+86136{uuid.uuid4().int % 10**8:08d}", who=me).id
    for summary in ("报价", "跟进"):
        log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=called, interaction=ipb.Interaction(
            channel=ipb.INTERACTION_CHANNEL_CALL, direction=ipb.INTERACTION_DIRECTION_OUTBOUND, summary=summary,
             occur_time=ts(happened))), metadata=me)
    yesterday = happened - timedelta(days=1)
    log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=visited, interaction=ipb.Interaction(
        channel=ipb.INTERACTION_CHANNEL_EMAIL, direction=ipb.INTERACTION_DIRECTION_INBOUND, summary="昨天的邮件",
         occur_time=ts(yesterday))), metadata=me)
    visit = visits.ScheduleVisit(vpb.ScheduleVisitRequest(visit=vpb.Visit(
        customer_id=visited, schedule_time=ts(happened), purpose="回访")), metadata=me)
    visits.CompleteVisit(vpb.CompleteVisitRequest(id=visit.id, interaction=ipb.Interaction(
        summary="拜访完成", occur_time=ts(happened))), metadata=me)

    def today_report():
        return reports.GetDailyReport(pb.GetDailyReportRequest(rep_id=rep, day=d(day)), metadata=me)

    report = wait_for(today_report, lambda r: len(r.contacted) == 2 and r.contacted[0].interaction_count == 2)
    assert contacted(report) == {called: (("call",), 2, 0), visited: (("visit",), 1, 1)}
    assert not report.submitted and report.revision == 0
    # yesterday's e-mail is in yesterday's report, and another rep's day is empty
    before = reports.GetDailyReport(pb.GetDailyReportRequest(
        rep_id=rep, day=d(rules.local_day(yesterday, feature.zone))), metadata=me)
    assert contacted(wait_for(lambda: reports.GetDailyReport(pb.GetDailyReportRequest(
        rep_id=rep, day=before.day), metadata=me), lambda r: r.contacted)) == {visited: (("email",), 1, 0)}
    assert not reports.GetDailyReport(pb.GetDailyReportRequest(rep_id=other, day=d(day)),
                                      metadata=as_(other, team=team_id)).contacted

    customers.EraseCustomer(cpb.EraseCustomerRequest(id=called, reason="GDPR request"),
                            metadata=as_("root-dr", "admin", team=""))
    report = wait_for(today_report, lambda r: len(r.contacted) == 1)
    assert contacted(report) == {visited: (("visit",), 1, 1)}


def test_a_redelivered_interaction_counts_once(stubs, feature, team):
    _customers, _log, _visits, reports = stubs
    _team_id, rep, _other = team
    happened = datetime.now(timezone.utc) - timedelta(hours=1)
    for _delivery in range(2):
        feature.note_interactions([(rep, "cus_aaaaaaaaaaaaaaaaaaaaaaaa#7", "call", happened)])
    report = reports.GetDailyReport(pb.GetDailyReportRequest(
        rep_id=rep, day=d(rules.local_day(happened, feature.zone))), metadata=as_(rep))
    assert [(c.customer_id, c.interaction_count) for c in report.contacted] == [("cus_aaaaaaaaaaaaaaaaaaaaaaaa", 1)]


def submit(reports, rep, team_id, day, work_done="拜访两家客户", **fields):
    return reports.SubmitDailyReport(pb.SubmitDailyReportRequest(rep_id=rep, day=d(day), work_done=work_done, **fields),
                                     metadata=as_(rep, team=team_id))


def test_one_report_per_rep_per_day_edited_until_the_deadline_then_frozen(stubs, feature, team, clock):
    reports = stubs[3]
    team_id, rep, _other = team
    day = rules.local_day(datetime.now(timezone.utc), feature.zone)
    clock(local(day, 18, feature))
    first = submit(reports, rep, team_id, day, tomorrow_plan="去杭州", problems="")
    assert (first.submitted, first.late, first.editable, first.revision, first.team_id) == (True, False, True, 1, team_id)
    assert first.deadline.ToDatetime(tzinfo=timezone.utc) == feature.deadline.of(day, feature.zone)
    edited = submit(reports, rep, team_id, day, work_done="拜访三家客户", problems="物流延误")
    assert (edited.work_done, edited.problems, edited.revision) == ("拜访三家客户", "物流延误", 2)
    assert edited.submit_time == first.submit_time
    # an edit over a revision read before another device's edit is refused; over the current one it applies
    assert code_of(lambda: submit(reports, rep, team_id, day, work_done="stale", expected_revision=1)) == \
        grpc.StatusCode.FAILED_PRECONDITION
    assert submit(reports, rep, team_id, day, work_done="拜访三家客户", problems="物流延误",
                  expected_revision=2).revision == 3
    clock(local(day, 23, feature))
    with pytest.raises(grpc.RpcError) as err:
        submit(reports, rep, team_id, day, work_done="deadline passed")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    kept = reports.GetDailyReport(pb.GetDailyReportRequest(rep_id=rep, day=d(day)), metadata=as_(rep, team=team_id))
    assert (kept.work_done, kept.editable, kept.revision) == ("拜访三家客户", False, 3)


def test_a_missed_day_may_be_reported_late_once(stubs, feature, team, clock):
    reports = stubs[3]
    team_id, rep, _other = team
    today = rules.local_day(datetime.now(timezone.utc), feature.zone)
    clock(local(today, 10, feature))
    counted = REGISTRY.get_sample_value("crm_sales_daily_reports_total", {"timing": "late"}) or 0
    late = submit(reports, rep, team_id, today - timedelta(days=2))
    assert late.late and late.submitted and not late.editable
    assert REGISTRY.get_sample_value("crm_sales_daily_reports_total", {"timing": "late"}) == counted + 1
    assert code_of(lambda: submit(reports, rep, team_id, today - timedelta(days=2))) == \
        grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(lambda: submit(reports, rep, team_id, today - timedelta(days=feature.late_days + 1))) == \
        grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(lambda: submit(reports, rep, team_id, today + timedelta(days=1))) == \
        grpc.StatusCode.INVALID_ARGUMENT


def test_the_manager_sees_the_teams_reports_and_who_has_not_submitted(stubs, feature, team, clock):
    reports = stubs[3]
    team_id, rep, other = team
    manager = as_(f"boss-{team_id}", "manager", team=team_id)
    day = rules.local_day(datetime.now(timezone.utc), feature.zone)
    clock(local(day, 12, feature))
    submit(reports, rep, team_id, day, work_done="签了合同")
    # no roster set: the recent submitters are the roster
    view = reports.ListTeamDailyReports(pb.ListTeamDailyReportsRequest(day=d(day)), metadata=manager)
    assert (view.team_id, view.roster_source, list(view.missing_rep_ids)) == (team_id, "recent", [])
    assert [r.rep_id for r in view.reports] == [rep] and view.reports[0].work_done == "签了合同"
    assert not view.deadline_passed
    roster = reports.SetTeamRoster(pb.SetTeamRosterRequest(team_id=team_id, rep_ids=[other, rep, other]),
                                   metadata=manager)
    assert (list(roster.rep_ids), roster.source) == (sorted([rep, other]), "set")
    clock(local(day, 22, feature))
    view = reports.ListTeamDailyReports(pb.ListTeamDailyReportsRequest(team_id=team_id, day=d(day)), metadata=manager)
    assert (view.roster_source, list(view.missing_rep_ids), view.deadline_passed) == ("set", [other], True)
    # the manager reads a roster rep's unsubmitted day too; finance reads every team
    assert not reports.GetDailyReport(pb.GetDailyReportRequest(rep_id=other, day=d(day)), metadata=manager).submitted
    finance = as_("fin-dr", "finance", team="finance")
    assert list(reports.ListTeamDailyReports(pb.ListTeamDailyReportsRequest(team_id=team_id, day=d(day)),
                                             metadata=finance).missing_rep_ids) == [other]
    assert reports.GetTeamRoster(pb.GetTeamRosterRequest(team_id=team_id), metadata=finance).source == "set"
    cleared = reports.SetTeamRoster(pb.SetTeamRosterRequest(team_id=team_id), metadata=as_("root", "admin", team=""))
    assert (list(cleared.rep_ids), cleared.source) == ([rep], "recent")


def test_who_may_read_and_write(stubs, feature, team, clock):
    reports = stubs[3]
    team_id, rep, other = team
    day = rules.local_day(datetime.now(timezone.utc), feature.zone)
    clock(local(day, 12, feature))
    submit(reports, rep, team_id, day)
    get = pb.GetDailyReportRequest(rep_id=rep, day=d(day))
    denied, hidden = grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: reports.GetDailyReport(get, metadata=as_(other, team=team_id))) == hidden
    assert code_of(lambda: reports.GetDailyReport(get, metadata=as_("boss-x", "manager", team="team-elsewhere"))) \
        == hidden
    assert code_of(lambda: reports.GetDailyReport(get, metadata=as_("agent-1", "agent"))) == denied
    assert reports.GetDailyReport(get, metadata=as_("boss-dr", "manager", team=team_id)).submitted
    assert reports.GetDailyReport(get, metadata=as_("sys", "integration", scopes="sales:read")).submitted
    # a report is its own rep's: not another rep's, not an admin's on someone's behalf
    assert code_of(lambda: reports.SubmitDailyReport(pb.SubmitDailyReportRequest(
        rep_id=rep, day=d(day), work_done="x"), metadata=as_(other, team=team_id))) == denied
    assert code_of(lambda: reports.SubmitDailyReport(pb.SubmitDailyReportRequest(
        rep_id=rep, day=d(day), work_done="x"), metadata=as_("root", "admin", team=""))) == denied
    # teams: a manager only their own, reps none; rosters are set by managers and admins
    other_team = pb.ListTeamDailyReportsRequest(team_id="team-elsewhere", day=d(day))
    assert code_of(lambda: reports.ListTeamDailyReports(other_team, metadata=as_("boss-dr", "manager",
                                                                                 team=team_id))) == hidden
    assert code_of(lambda: reports.ListTeamDailyReports(pb.ListTeamDailyReportsRequest(
        team_id=team_id, day=d(day)), metadata=as_(rep, team=team_id))) == denied
    assert code_of(lambda: reports.SetTeamRoster(pb.SetTeamRosterRequest(team_id=team_id, rep_ids=[rep]),
                                                 metadata=as_("fin", "finance"))) == denied


@pytest.mark.parametrize("request_fields, field", [
    ({"rep_id": "", "work_done": "x"}, "rep_id"),
    ({"rep_id": "a|b", "work_done": "x"}, "rep_id"),
    ({"work_done": ""}, "work_done"),
    ({"work_done": "x", "tomorrow_plan": "y" * 4001}, "tomorrow_plan"),
    ({"work_done": "x", "day": common_pb2.Date(year=2026, month=2, day=30)}, "day"),
    ({"work_done": "x", "day": None}, "day"),
])
def test_bad_submissions_name_the_field(stubs, feature, request_fields, field):
    from crm_kit.grpc_errors import details_of

    reports = stubs[3]
    rep = "rep-dr-bad"
    fields = {"rep_id": rep, "day": d(rules.local_day(datetime.now(timezone.utc), feature.zone)), **request_fields}
    if fields["day"] is None:
        del fields["day"]
    with pytest.raises(grpc.RpcError) as err:
        reports.SubmitDailyReport(pb.SubmitDailyReportRequest(**fields), metadata=as_(fields["rep_id"] or rep))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in str(details_of(err.value))


def test_an_interaction_a_manager_records_for_a_rep_is_in_the_reps_day(stubs, feature, team):
    customers, log, _visits, reports = stubs
    team_id, rep, _other = team
    manager_id = f"boss-{team_id}"
    manager = as_(manager_id, "manager", team=team_id)
    cid = create(customers, f"+86136{uuid.uuid4().int % 10**8:08d}", who=as_(rep, team=team_id)).id
    happened = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)
    log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=cid, interaction=ipb.Interaction(
        channel=ipb.INTERACTION_CHANNEL_MEETING, direction=ipb.INTERACTION_DIRECTION_OUTBOUND, rep_id=rep,
        summary="经理代记的会议", occur_time=ts(happened))), metadata=manager)
    day = d(rules.local_day(happened, feature.zone))
    report = wait_for(lambda: reports.GetDailyReport(pb.GetDailyReportRequest(rep_id=rep, day=day),
                                                     metadata=as_(rep, team=team_id)), lambda r: r.contacted)
    assert contacted(report) == {cid: (("meeting",), 1, 0)}
    assert not reports.GetDailyReport(pb.GetDailyReportRequest(rep_id=manager_id, day=day), metadata=manager).contacted
