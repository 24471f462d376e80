"""The demo data `make run` seeds into an empty platform tells the sales
story through the real services: every margin grade in the catalogue,
confirmed orders with plans, money owed and paid, contracts ending soon;
and the profitability story: a commission plan, targets, approved expenses,
daily reports."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import grpc

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import commission_service_pb2 as mpb, commission_service_pb2_grpc
from crm.sales.v1 import daily_report_service_pb2 as dpb, daily_report_service_pb2_grpc
from crm.sales.v1 import expense_service_pb2 as epb, expense_service_pb2_grpc
from crm.sales.v1 import target_service_pb2 as tpb, target_service_pb2_grpc
from crm.sales.v1 import value_grade_service_pb2 as vpb, value_grade_service_pb2_grpc
from crm.sales.v1 import customer_sales_service_pb2 as spb, customer_sales_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm_cli import sales_seed
from crm_cli.profitability_demo import EXPENSE_SHARE, PLAN_ID, STORY_X, STORY_Y, seed_commission_plan, seed_profitability_demo
from crm_cli.sales_demo import CONTRACT_SHARE, seed_sales_demo
from crm_sales.profitability.months import Month, business_zone
from tests.conftest import token
from tests.service.support import create


def test_the_sales_demo_covers_every_grade_and_leaves_money_owed(empty_platform, phone):
    # On a platform of its own, as `make run` seeds an empty one: the demo's grading run grades every customer's
    # CNY sales of last year, and the session's other sales would decide X's and Y's grades.
    services = empty_platform
    admin = token("demo-seed", "admin", team="team-demo-sales")
    with grpc.insecure_channel(services.targets["customer"]) as channel:
        stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
        customers = [create(stub, phone(), [("authorization", f"Bearer {admin}")], display_name=f"演示客户{n}").id
                     for n in range(CONTRACT_SHARE + 1)]
    done = seed_sales_demo(services.targets["customer"], services.targets["sales"], admin, orders_per_customer=2,
                           customers=customers, progress=False,
                           mint=lambda subject, role, team: token(subject, role, team=team))
    assert done["orders"] == {"CONFIRMED": 2 * len(customers)} and done["contracts"] == 2
    metadata = [("authorization", f"Bearer {admin}")]
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        products = product_service_pb2_grpc.ProductServiceStub(channel).ListProducts(
            ppb.ListProductsRequest(page_size=200), metadata=metadata).products
        demo_skus = {sku for sku, *_ in sales_seed.CATALOGUE}
        assert {p.grade for p in products if p.sku in demo_skus} == {"A", "B", "C", "D"}
        summaries = [customer_sales_service_pb2_grpc.CustomerSalesServiceStub(channel).GetCustomerSales(
            spb.GetCustomerSalesRequest(customer_id=c), metadata=metadata) for c in customers]
    # Every demo order is a confirmed order of a demo customer, dated over the last year (and the story's
    # orders of X and Y, last year).
    assert sum(len(s.open_orders) for s in summaries) == 2 * len(customers) + STORY_X[1] + STORY_Y[1]
    ordered = sum(o.total.minor_units for s in summaries for o in s.open_orders)
    contracts = done["contracts"] * 12_000_00
    owed = sum(a.outstanding.minor_units for s in summaries for a in s.receivables)
    overdue = sum(a.overdue.minor_units for s in summaries for a in s.receivables)
    # Most orders paid, some in part, some not: less is owed than was ordered, more than the contracts alone.
    assert contracts < owed < ordered + contracts
    assert overdue > 0  # orders from months ago, on 30-day terms, left unpaid
    # The story: X (the first customer) bought many low-margin orders last year, Y (the second) a few
    # high-margin ones; the demo's grading run gives Y the better value grade.
    story = done["profitability"]["story"]
    assert (story["x"], story["y"]) == (customers[0], customers[1]) and story["graded"] >= 2
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        grades = value_grade_service_pb2_grpc.ValueGradeServiceStub(channel)
        x, y = (grades.GetCustomerValueGrade(vpb.GetCustomerValueGradeRequest(customer_id=c), metadata=metadata)
                for c in (customers[0], customers[1]))
    assert x.graded_year == y.graded_year == story["graded_year"]
    assert y.grade < x.grade, (y.grade, x.grade)  # A is the best grade


def test_seeding_the_catalogue_again_finds_the_products_already_there(services):
    """A second seed (a re-run of `make run`'s demo on the same store) creates nothing and answers the same ids,
    in the catalogue's order: the SKUs are taken, their products found in the catalogue."""
    admin = token("demo-seed", "admin", team="team-demo-sales")
    first = sales_seed.seed_catalogue(services.targets["sales"], admin)
    again = sales_seed.seed_catalogue(services.targets["sales"], admin)
    assert again == first and len(set(first)) == len(sales_seed.CATALOGUE)
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        products = product_service_pb2_grpc.ProductServiceStub(channel)
        skus = [products.GetProduct(ppb.GetProductRequest(id=product_id),
                                    metadata=[("authorization", f"Bearer {admin}")]).sku for product_id in again]
    assert skus == [sku for sku, *_ in sales_seed.CATALOGUE]


def test_the_profitability_demo_has_a_plan_targets_expenses_and_daily_reports(services, stub, phone):
    """Two reps of one team, with a customer each: the plan applies to the team, each rep and the team have this
    month's target, an expense is approved by the team's manager, and the reps' daily reports are in."""
    team = f"team-demo-prof-{uuid.uuid4().hex[:6]}"
    reps = [f"rep-demo-prof-{n}-{team[-6:]}" for n in range(2)]
    customers = [create(stub, phone(), [("authorization", f"Bearer {token(rep, 'rep', team=team)}")],
                        display_name=f"演示客户{n}").id for n, rep in enumerate(reps)]
    admin = token("demo-seed", "admin", team=team)
    assert seed_commission_plan(services.targets["customer"], services.targets["sales"], admin, customers) == 1
    done = seed_profitability_demo(services.targets["customer"], services.targets["sales"], admin, customers,
                                   mint=lambda subject, role, team_id: token(subject, role, team=team_id))
    assert done["targets"] == len(reps) + 1
    assert done["expenses"] == {"approved": len(customers[::EXPENSE_SHARE]), "rejected": 0}
    zone = business_zone()
    month, today = Month.of(datetime.now(timezone.utc), zone), datetime.now(zone).date()
    metadata = [("authorization", f"Bearer {admin}")]
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        setup = commission_service_pb2_grpc.CommissionServiceStub(channel).GetCommissionSetup(
            mpb.GetCommissionSetupRequest(), metadata=metadata)
        assert any(a.scope == f"team:{team}" and a.plan_id == PLAN_ID for a in setup.assignments)
        targets = target_service_pb2_grpc.TargetServiceStub(channel)
        for scope, subject in [("rep", reps[0]), ("rep", reps[1]), ("team", team)]:
            got = targets.ListTargets(tpb.ListTargetsRequest(scope=scope, subject_id=subject, start_month=str(month),
                                                             end_month=str(month), currency_code="CNY"),
                                      metadata=metadata).targets
            assert [t.month for t in got] == [str(month)] and got[0].revenue_minor_units > 0
        expenses = expense_service_pb2_grpc.ExpenseServiceStub(channel).ListExpenses(
            epb.ListExpensesRequest(team_id=team), metadata=metadata).expenses
        assert [(e.state, e.customer_id) for e in expenses] == [(epb.EXPENSE_STATE_APPROVED, min(customers))]
        yesterday = today - timedelta(days=1)
        team_day = daily_report_service_pb2_grpc.DailyReportServiceStub(channel).ListTeamDailyReports(
            dpb.ListTeamDailyReportsRequest(team_id=team, day=common_pb2.Date(
                year=yesterday.year, month=yesterday.month, day=yesterday.day)), metadata=metadata)
        assert sorted(r.rep_id for r in team_day.reports) == sorted(reps) and not team_day.missing_rep_ids
