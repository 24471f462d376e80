"""The demo's profitability story for `make run`, after the sales demo: a
commission plan by margin grade for every demo team, this month's targets
for each rep and team, expenses on some customers (most approved by the
team's manager, a few rejected with a reason), the last two days' daily
reports of a few reps, and the story the reports tell: customer X with many
low-margin orders last year, customer Y with a few high-margin ones, graded
(Y the better value grade). Everything goes through the sales service's API, as
the people who would do it: expenses and reports are recorded by their reps
(tokens minted with the development secret), approvals by the team's
manager, plans and targets by an admin."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as cpb, customer_service_pb2_grpc
from crm.sales.v1 import commission_service_pb2 as mpb, commission_service_pb2_grpc
from crm.sales.v1 import daily_report_service_pb2 as dpb, daily_report_service_pb2_grpc
from crm.sales.v1 import expense_service_pb2 as epb, expense_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as opb, order_service_pb2_grpc
from crm.sales.v1 import payment_service_pb2 as paypb, payment_service_pb2_grpc
from crm.sales.v1 import profitability_service_pb2 as ppb, profitability_service_pb2_grpc
from crm.sales.v1 import target_service_pb2 as tpb, target_service_pb2_grpc
from crm.sales.v1 import value_grade_service_pb2 as vpb, value_grade_service_pb2_grpc
from crm_kit.grpc_client import open_channel

from crm_cli.sales_seed import CATALOGUE
from crm_sales.profitability.months import Month, business_zone

# mint(subject, role, team) -> a bearer token
Mint = Callable[[str, str, str], str]

PLAN_ID = "margin-grades"
GRADE_RATES_BP = {"A": 1000, "B": 700, "C": 500, "D": 300}  # of the line's margin
BAND = (100_000_00, 200)  # 2 % more on a rep's month above 100,000.00 of margin
EXPENSE_SHARE = 25  # one customer in this many has an expense
REPORTING_REPS = 5  # reps whose daily reports of yesterday (and some of today) are in the demo
# The story's two customers: (SKU, orders, units per order), all last year.
STORY_X = ("GIFT-BOX-01", 20, 20)  # 20 orders, margin 3.7 %: grade D
STORY_Y = ("TEA-OOLONG-500", 3, 30)  # 3 orders, margin 75 %: grade A
PRICES = {sku: price for sku, _name, _unit, price, _cost in CATALOGUE}
REP_TARGET = {"revenue": 300_000_00, "margin": 90_000_00, "cash": 250_000_00}
WORK = ["拜访了两家老客户，确认了下季度的采购计划", "电话回访五位客户，两位有增购意向", "整理报价单并发给三家新客户",
        "陪同技术人员上门安装调试", "参加行业展会，收集了十几张名片"]
PLANS = ["跟进报价，约见采购负责人", "拜访城东的两家新客户", "准备合同续签材料", "回访上周安装的客户"]
PROBLEMS = ["", "", "有一家客户反映到货延迟", "竞争对手报价更低，需要支持"]


def _md(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def _cny(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code="CNY")


def _date(d: date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


def dev_mint() -> Mint:
    """Tokens signed with the development secret `make run` uses."""
    from crm_kit.auth import mint_dev_token

    from crm_cli.main import _secret

    secret = _secret()
    return lambda subject, role, team: mint_dev_token(secret, subject, role, team=team, ttl_seconds=3600)


def owners(customer_target: str, token: str, customers: list[str]) -> dict[str, tuple[str, str]]:
    """customer id -> (owner rep, team), for the customers that have an owner."""
    stub = customer_service_pb2_grpc.CustomerServiceStub(open_channel(customer_target,
                                                                      "crm.customer.v1.CustomerService"))
    out = {}
    for customer_id in customers:
        c = stub.GetCustomer(cpb.GetCustomerRequest(id=customer_id), metadata=_md(token))
        if c.owner_id and c.team_id:
            out[customer_id] = (c.owner_id, c.team_id)
    return out


def seed_commission(stub, token: str, teams: list[str], first: Month) -> None:
    stub.PutCommissionPlan(mpb.PutCommissionPlanRequest(plan=mpb.CommissionPlan(
        id=PLAN_ID, name="按毛利等级提成", base=mpb.COMMISSION_BASE_MARGIN, currency_code="CNY",
        rates=[mpb.GradeRate(grade=g, rate_bp=bp) for g, bp in GRADE_RATES_BP.items()],
        bands=[mpb.CommissionBand(above_minor_units=BAND[0], extra_bp=BAND[1])])), metadata=_md(token))
    for team in teams:
        stub.AssignCommissionPlan(mpb.AssignCommissionPlanRequest(assignment=mpb.CommissionAssignment(
            scope=f"team:{team}", plan_id=PLAN_ID, from_month=str(first))), metadata=_md(token))


def seed_targets(stub, token: str, reps: dict[str, str], month: Month) -> int:
    """This month's target for every rep (their team's) and every team (the sum of its reps')."""
    by_team: dict[str, int] = {}
    for rep, team in sorted(reps.items()):
        stub.SetTarget(tpb.SetTargetRequest(scope="rep", subject_id=rep, team_id=team, month=str(month),
                                            currency_code="CNY", revenue_minor_units=REP_TARGET["revenue"],
                                            margin_minor_units=REP_TARGET["margin"],
                                            cash_minor_units=REP_TARGET["cash"]), metadata=_md(token))
        by_team[team] = by_team.get(team, 0) + 1
    for team, count in sorted(by_team.items()):
        stub.SetTarget(tpb.SetTargetRequest(scope="team", subject_id=team, month=str(month), currency_code="CNY",
                                            revenue_minor_units=REP_TARGET["revenue"] * count,
                                            margin_minor_units=REP_TARGET["margin"] * count,
                                            cash_minor_units=REP_TARGET["cash"] * count), metadata=_md(token))
    return len(reps) + len(by_team)


def seed_expenses(stub, mint: Mint, owned: dict[str, tuple[str, str]], today: date,
                  rng: random.Random) -> dict[str, int]:
    """An expense by the owner on every EXPENSE_SHARE-th customer; the team's manager approves four in five."""
    done = {"approved": 0, "rejected": 0}
    for n, (customer_id, (rep, team)) in enumerate(sorted(owned.items())[::EXPENSE_SHARE]):
        category = rng.choice(["travel", "entertainment", "gift", "sample"])
        expense = stub.RecordExpense(epb.RecordExpenseRequest(expense=epb.ExpenseDetails(
            category=category, amount=_cny(rng.randrange(200_00, 3_000_00, 100)),
            spent_on=_date(today - timedelta(days=rng.randint(1, 60))), customer_id=customer_id,
            receipt_reference=f"FP-{today.year}-{n + 1:05d}", description="客户拜访")),
            metadata=_md(mint(rep, "rep", team)))
        manager = _md(mint(f"mgr-{team}", "manager", team))
        if n % 5 == 4:
            stub.RejectExpense(epb.RejectExpenseRequest(id=expense.id, reason="缺少发票原件"), metadata=manager)
            done["rejected"] += 1
        else:
            stub.ApproveExpense(epb.ApproveExpenseRequest(id=expense.id), metadata=manager)
            done["approved"] += 1
    return done


def seed_daily_reports(stub, mint: Mint, reps: dict[str, str], today: date, rng: random.Random) -> int:
    """Yesterday's reports of the first REPORTING_REPS reps (sent late: the deadline had passed) and today's of
    every other one of them; the rest of the team shows as not submitted."""
    sent = 0
    for n, (rep, team) in enumerate(sorted(reps.items())[:REPORTING_REPS]):
        for day in ([today - timedelta(days=1), today] if n % 2 == 0 else [today - timedelta(days=1)]):
            try:
                stub.SubmitDailyReport(dpb.SubmitDailyReportRequest(
                    rep_id=rep, day=_date(day), work_done=rng.choice(WORK), tomorrow_plan=rng.choice(PLANS),
                    problems=rng.choice(PROBLEMS)), metadata=_md(mint(rep, "rep", team)))
                sent += 1
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.FAILED_PRECONDITION:  # a re-seed after the deadline: keep it
                    raise
    return sent


def _stub(sales_target: str, cls, name: str):
    return cls(open_channel(sales_target, name, default_timeout=30.0))


def seed_commission_plan(customer_target: str, sales_target: str, token: str, customers: list[str], *,
                         timezone_name: str = "Asia/Shanghai") -> int:
    """The plan by margin grade for the teams of `customers`, from a year ago: seeded before the demo's orders
    and receipts, so the money they collect earns commission. Returns how many teams."""
    teams = sorted({team for _rep, team in owners(customer_target, token, customers).values()})
    month = Month.of(datetime.now(timezone.utc), business_zone(timezone_name))
    try:
        seed_commission(_stub(sales_target, commission_service_pb2_grpc.CommissionServiceStub,
                              "crm.sales.v1.CommissionService"), token, teams, Month.from_index(month.index - 12))
    except grpc.RpcError as err:
        raise SystemExit(f"demo commission plan failed: {err.code().name}: {err.details()}") from None
    return len(teams)


def seed_story(sales_target: str, token: str, products: dict[str, str], x: str, y: str, *,
               timezone_name: str = "Asia/Shanghai", wait_seconds: float = 180.0) -> dict:
    """The story the profitability reports tell, on two demo customers: X buys many low-margin orders
    (STORY_X: grade-D gift boxes), Y a few high-margin ones (STORY_Y: grade-A tea), all last year; once the
    roll-ups have them, an admin grading run of last year gives Y the better value grade. `products`: the demo
    catalogue's product ids by SKU."""
    zone = business_zone(timezone_name)
    last_year = datetime.now(zone).year - 1
    orders = _stub(sales_target, order_service_pb2_grpc.OrderServiceStub, "crm.sales.v1.OrderService")
    payments = _stub(sales_target, payment_service_pb2_grpc.PaymentServiceStub, "crm.sales.v1.PaymentService")
    wanted = {}
    for customer_id, (sku, count, quantity) in ((x, STORY_X), (y, STORY_Y)):
        items = []
        for n in range(count):
            at = datetime(last_year, 1 + n % 12, 10 + n % 15, 3, tzinfo=timezone.utc)
            stamp = Timestamp()
            stamp.FromDatetime(at)
            items.append(opb.ImportOrderItem(request_id=f"demo-story-{customer_id}-{n}", customer_id=customer_id,
                                             ordered_at=stamp,
                                             lines=[opb.OrderLineInput(product=products[sku], quantity=quantity)]))
        results = orders.ImportOrders(opb.ImportOrdersRequest(orders=items), metadata=_md(token)).results
        failed = [r.error_message for r in results if not r.order_id]
        if failed:
            raise SystemExit(f"demo story orders failed: {failed[0]}")
        wanted[customer_id] = count
        # Paid in full twenty days after each order (an imported order's plan is made with it), or today when
        # that is still to come (a December order seeded in early January): a receipt is never dated ahead.
        today = datetime.now(zone).date()
        for item, result in zip(items, results):
            paid_on = min((item.ordered_at.ToDatetime() + timedelta(days=20)).date(), today)
            payments.RecordReceipt(paypb.RecordReceiptRequest(
                order_id=result.order_id, method=paypb.PAYMENT_METHOD_BANK_TRANSFER,
                amount=_cny(PRICES[sku] * quantity), received_date=_date(paid_on),
                request_id=f"demo-story-pay-{result.order_id}"), metadata=_md(token))
    # The roll-ups follow the orders' events: grade once both customers' orders are in them.
    reports = _stub(sales_target, profitability_service_pb2_grpc.ProfitabilityServiceStub,
                    "crm.sales.v1.ProfitabilityService")
    deadline = time.monotonic() + wait_seconds
    while True:
        counted = {c: reports.GetContributionSeries(ppb.GetContributionSeriesRequest(
            id=c, start_month=f"{last_year}-01", end_month=f"{last_year}-12", currency_code="CNY"),
            metadata=_md(token)).total.order_count for c in wanted}
        if all(counted[c] >= n for c, n in wanted.items()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    grades = _stub(sales_target, value_grade_service_pb2_grpc.ValueGradeServiceStub, "crm.sales.v1.ValueGradeService")
    run = grades.RunValueGrading(vpb.RunValueGradingRequest(year=last_year), metadata=_md(token))
    while not run.HasField("finished_at") and time.monotonic() < deadline + wait_seconds:
        time.sleep(0.5)
        run = grades.GetValueGradingRun(vpb.GetValueGradingRunRequest(run_id=run.run_id), metadata=_md(token))
    return {"x": x, "y": y, "graded_year": last_year, "graded": run.graded if run.HasField("finished_at") else 0}


def seed_profitability_demo(customer_target: str, sales_target: str, token: str, customers: list[str], *,
                            mint: Mint | None = None, timezone_name: str = "Asia/Shanghai") -> dict:
    """Targets, expenses and daily reports for `customers` (see the module's docstring; the commission plan
    is seed_commission_plan's, before the orders); `token` is an admin's."""
    mint = mint or dev_mint()
    rng = random.Random(29)
    owned = owners(customer_target, token, customers)
    reps = {rep: team for rep, team in owned.values()}
    zone = business_zone(timezone_name)
    now = datetime.now(timezone.utc)
    month = Month.of(now, zone)

    def stub(cls, name: str):
        return _stub(sales_target, cls, name)

    try:
        targets = seed_targets(stub(target_service_pb2_grpc.TargetServiceStub, "crm.sales.v1.TargetService"),
                               token, reps, month)
        expenses = seed_expenses(stub(expense_service_pb2_grpc.ExpenseServiceStub, "crm.sales.v1.ExpenseService"),
                                 mint, owned, now.astimezone(zone).date(), rng)
        reports = seed_daily_reports(stub(daily_report_service_pb2_grpc.DailyReportServiceStub,
                                          "crm.sales.v1.DailyReportService"), mint, reps,
                                     now.astimezone(zone).date(), rng)
    except grpc.RpcError as err:
        raise SystemExit(f"profitability demo failed: {err.code().name}: {err.details()}") from None
    return {"targets": targets, "expenses": expenses, "daily_reports": reports}
