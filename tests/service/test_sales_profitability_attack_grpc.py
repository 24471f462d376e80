"""The profitability features attacked over real gRPC: a manager of another
team squatting a rep's target to read the rep's figures, and business days
out of any calendar a report could have (a 500 before)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import daily_report_service_pb2 as dpb, daily_report_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as opb, order_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm.sales.v1 import target_service_pb2 as tpb, target_service_pb2_grpc
from crm_sales.profitability.months import Month, business_zone
from tests.service.support import as_, code_of, create, ts

TAG = uuid.uuid4().hex[:6]
TEAM, OTHER_TEAM = f"team-pa-{TAG}", f"team-pa-other-{TAG}"
REP = f"rep-pa-{TAG}"
MANAGER, OTHER_MANAGER = as_(f"boss-pa-{TAG}", "manager", team=TEAM), as_(f"boss-pa-o-{TAG}", "manager",
                                                                           team=OTHER_TEAM)
ADMIN = as_("root-pa", "admin", team="")
CURRENCY = "NZD"  # no other test sells in it
YEAR = datetime.now(business_zone()).year - 1
SOLD, NEXT = f"{YEAR}-03", f"{YEAR}-04"


def money(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code=CURRENCY)


@pytest.fixture(scope="module")
def sold(services):
    """REP (of TEAM) sells revenue 30,000, margin 12,000 in March of last year."""
    sales = grpc.insecure_channel(services.targets["sales"])
    customer = grpc.insecure_channel(services.targets["customer"])
    products, orders = product_service_pb2_grpc.ProductServiceStub(sales), order_service_pb2_grpc.OrderServiceStub(sales)
    goods = products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
        sku=f"PA-{uuid.uuid4().hex[:10].upper()}", name="净水器", unit="台", list_price=money(10_000),
        unit_cost=money(6_000), active=True)), metadata=MANAGER)
    cids = [create(customer_service_pb2_grpc.CustomerServiceStub(customer), f"+86136{uuid.uuid4().int % 10**8:08d}",
                   who=as_(REP, team=TEAM), display_name="客户").id for _ in range(2)]
    results = orders.ImportOrders(opb.ImportOrdersRequest(orders=[opb.ImportOrderItem(
        request_id=uuid.uuid4().hex, customer_id=cid, ordered_at=ts(datetime(YEAR, 3, 10, 4, tzinfo=timezone.utc)),
        lines=[opb.OrderLineInput(product=goods.id, quantity=quantity)]) for cid, quantity in zip(cids, (2, 1))]),
        metadata=ADMIN).results
    assert all(r.order_id for r in results), [r.error_message for r in results]
    rollups = services.hosts["sales"].app.features["rollups"]
    deadline = time.monotonic() + 30
    while not set(cids) <= set(rollups.customers(Month(YEAR, 3), Month(YEAR, 3), CURRENCY)):
        assert time.monotonic() < deadline, "the order never reached the roll-ups"
        time.sleep(0.2)
    sales.close()
    customer.close()
    return cids


@pytest.fixture(scope="module")
def targets(services):
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        yield target_service_pb2_grpc.TargetServiceStub(channel)


@pytest.fixture(scope="module")
def reports(services):
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        yield daily_report_service_pb2_grpc.DailyReportServiceStub(channel)


def set_target(stub, who, month):
    return stub.SetTarget(tpb.SetTargetRequest(scope="rep", subject_id=REP, month=month, currency_code=CURRENCY,
                                               revenue_minor_units=50_000), metadata=who)


def test_a_manager_of_another_team_neither_squats_a_reps_target_nor_reads_the_reps_figures(targets, sold):
    # No target yet for April: another team's manager may not claim the rep (who sells for TEAM).
    assert code_of(lambda: set_target(targets, OTHER_MANAGER, NEXT)) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: targets.GetAttainment(tpb.GetAttainmentRequest(
        scope="rep", subject_id=REP, start_month=SOLD, end_month=NEXT, currency_code=CURRENCY),
        metadata=OTHER_MANAGER)) == grpc.StatusCode.PERMISSION_DENIED
    # The rep's own manager still sets it, and reads the figures.
    assert set_target(targets, MANAGER, NEXT).team_id == TEAM
    got = targets.GetAttainment(tpb.GetAttainmentRequest(scope="rep", subject_id=REP, start_month=SOLD,
                                                         end_month=NEXT, currency_code=CURRENCY), metadata=MANAGER)
    assert got.months[0].actual_revenue_minor_units == 30_000


def test_a_target_a_manager_set_does_not_open_another_teams_rep_to_them(targets, sold):
    """A target the admin filed under OTHER_TEAM (a mistake) gives its manager no view of TEAM's rep's sales."""
    targets.SetTarget(tpb.SetTargetRequest(scope="rep", subject_id=REP, month=SOLD, currency_code=CURRENCY,
                                           revenue_minor_units=1, team_id=OTHER_TEAM), metadata=ADMIN)
    assert code_of(lambda: targets.GetAttainment(tpb.GetAttainmentRequest(
        scope="rep", subject_id=REP, start_month=SOLD, currency_code=CURRENCY),
        metadata=OTHER_MANAGER)) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: targets.ListTargets(tpb.ListTargetsRequest(
        scope="rep", subject_id=REP, start_month=SOLD, currency_code=CURRENCY),
        metadata=OTHER_MANAGER)) == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("day", [(1, 1, 1), (1999, 12, 31), (9999, 12, 31)])
def test_a_day_no_report_can_have_is_invalid_argument_not_a_crash(reports, day):
    year, month, dom = day
    d = common_pb2.Date(year=year, month=month, day=dom)
    for call in (lambda: reports.ListTeamDailyReports(dpb.ListTeamDailyReportsRequest(team_id=TEAM, day=d),
                                                      metadata=MANAGER),
                 lambda: reports.GetDailyReport(dpb.GetDailyReportRequest(rep_id=REP, day=d),
                                                metadata=as_(REP, team=TEAM)),
                 lambda: reports.SubmitDailyReport(dpb.SubmitDailyReportRequest(rep_id=REP, day=d, work_done="x"),
                                                   metadata=as_(REP, team=TEAM))):
        assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT


def test_a_manager_who_puts_another_teams_rep_on_their_roster_reads_none_of_the_reps_reports(reports):
    """The roster is the manager's own list: it names whom they expect, it does not open another team's reports."""
    today = datetime.now(business_zone()).date()
    d = common_pb2.Date(year=today.year, month=today.month, day=today.day)
    rep = as_(REP, team=TEAM)
    reports.SubmitDailyReport(dpb.SubmitDailyReportRequest(rep_id=REP, day=d, work_done="拜访了客户, 报价 12 万",
                                                           problems="客户嫌贵"), metadata=rep)
    reports.SetTeamRoster(dpb.SetTeamRosterRequest(team_id=OTHER_TEAM, rep_ids=[REP]), metadata=OTHER_MANAGER)
    assert code_of(lambda: reports.GetDailyReport(dpb.GetDailyReportRequest(rep_id=REP, day=d),
                                                  metadata=OTHER_MANAGER)) == grpc.StatusCode.NOT_FOUND
    team_day = reports.ListTeamDailyReports(dpb.ListTeamDailyReportsRequest(day=d), metadata=OTHER_MANAGER)
    assert list(team_day.reports) == [] and list(team_day.missing_rep_ids) == [REP]
    # the rep's own manager reads it
    assert reports.GetDailyReport(dpb.GetDailyReportRequest(rep_id=REP, day=d), metadata=MANAGER).problems == "客户嫌贵"


def test_a_report_page_reads_the_value_grades_of_its_own_rows_only(services, sold, monkeypatch):
    """Not one grade read per customer of the period (100,000 reads for one page of finance's report)."""
    from crm.sales.v1 import profitability_service_pb2 as rpb, profitability_service_pb2_grpc

    store = services.hosts["sales"].app.features["value_grades"].store
    reads = []
    real_get = store.get
    monkeypatch.setattr(store, "get", lambda customer_id: reads.append(customer_id) or real_get(customer_id))
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        stub = profitability_service_pb2_grpc.ProfitabilityServiceStub(channel)
        request = rpb.GetContributionReportRequest(dimension=rpb.CONTRIBUTION_DIMENSION_CUSTOMER, start_month=SOLD,
                                                   end_month=SOLD, currency_code=CURRENCY, page_size=1)
        page = stub.GetContributionReport(request, metadata=MANAGER)
        assert [row.id for row in page.rows] == [sold[0]] and page.member_count == 2 and page.next_page_token
        assert reads == [sold[0]]
        # filtering by grade needs every member's grade: still right
        reads.clear()
        request.value_grade = "A"
        assert stub.GetContributionReport(request, metadata=MANAGER).member_count == 0
        assert sorted(reads) == sorted(sold)


def test_an_expense_state_the_service_does_not_know_is_refused_not_ignored(services):
    """A state from a newer client (or a typo) would otherwise list every expense, approved ones among them."""
    from crm.sales.v1 import expense_service_pb2 as epb, expense_service_pb2_grpc

    with grpc.insecure_channel(services.targets["sales"]) as channel:
        stub = expense_service_pb2_grpc.ExpenseServiceStub(channel)
        assert code_of(lambda: stub.ListExpenses(epb.ListExpensesRequest(state=99),
                                                 metadata=as_("fin-pa", "finance", team="finance"))) == \
            grpc.StatusCode.INVALID_ARGUMENT
        assert stub.ListExpenses(epb.ListExpensesRequest(state=epb.EXPENSE_STATE_PENDING),
                                 metadata=as_(REP, team=TEAM)).next_page_token == ""
