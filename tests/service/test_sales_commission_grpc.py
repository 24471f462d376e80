"""Commission over real gRPC: plans set by an admin, commission earned from
real receipts and refunds (payment events, consumer group
sales-commission), statements, team totals, the close, and who may do what.

Late movements for long-past months (a receipt date can never precede its
order's confirmation over gRPC) are applied the way the consumer applies
them, on the running sales host (`features["commission"].apply`)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import commission_service_pb2 as pb
from crm.sales.v1 import commission_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as opb
from crm.sales.v1 import order_service_pb2_grpc, payment_service_pb2 as paypb, payment_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm_sales.profitability.commission.model import Movement
from crm_sales.profitability.months import Month
from tests.service.support import as_in, code_of, create

TAG = uuid.uuid4().hex[:6]
TEAM = f"team-com-{TAG}"
as_ = as_in(TEAM)
REP_A, REP_D = f"rep-com-a-{TAG}", f"rep-com-d-{TAG}"
MANAGER = as_(f"boss-com-{TAG}", "manager")
OTHER_MANAGER = as_(f"boss-com-x-{TAG}", "manager", team=f"team-other-{TAG}")
FINANCE = as_("fin-com", "finance", team="finance")
ADMIN = as_("adm-com", "admin", team="ops")
PLAN_ID = f"grade-{TAG}"
THIS_MONTH = str(Month.of(datetime.now(timezone.utc), timezone.utc))
# Long past, used by this module alone: closing them touches nobody else's statements.
OLD, OLDER_NEXT = Month(2001, 1), Month(2001, 2)


def cny(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code="CNY")


@pytest.fixture(scope="module")
def stubs(services):
    sales = grpc.insecure_channel(services.targets["sales"])
    customer = grpc.insecure_channel(services.targets["customer"])
    yield (commission_service_pb2_grpc.CommissionServiceStub(sales), order_service_pb2_grpc.OrderServiceStub(sales),
           payment_service_pb2_grpc.PaymentServiceStub(sales), product_service_pb2_grpc.ProductServiceStub(sales),
           customer_service_pb2_grpc.CustomerServiceStub(customer))
    sales.close()
    customer.close()


@pytest.fixture(scope="module")
def commission(stubs):
    """The plan (grade A 10 %, D 1 % of the margin; 5 % more above 1,000.00 a month) for this module's reps."""
    stub = stubs[0]
    stub.PutCommissionPlan(pb.PutCommissionPlanRequest(plan=pb.CommissionPlan(
        id=PLAN_ID, name="按毛利等级", base=pb.COMMISSION_BASE_MARGIN, currency_code="CNY",
        rates=[pb.GradeRate(grade="A", rate_bp=1000), pb.GradeRate(grade="D", rate_bp=100)],
        bands=[pb.CommissionBand(above_minor_units=100_000, extra_bp=500)])), metadata=ADMIN)
    for rep in (REP_A, REP_D):
        stub.AssignCommissionPlan(pb.AssignCommissionPlanRequest(assignment=pb.CommissionAssignment(
            scope=f"rep:{rep}", plan_id=PLAN_ID, from_month="2000-01")), metadata=ADMIN)
    return stub


@pytest.fixture
def confirmed(stubs, phone):
    """A confirmed order of one line: price x quantity at unit cost `cost` for a fresh customer of `rep`."""
    _c, orders, _p, products, customers = stubs

    def make(rep: str, price: int, cost: int, quantity: int = 1) -> opb.Order:
        customer = create(customers, phone(), who=as_(rep))
        goods = products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
            sku=f"C-{uuid.uuid4().hex[:10].upper()}", name="净水器", unit="台", list_price=cny(price),
            unit_cost=cny(cost), active=True)), metadata=MANAGER)
        made = orders.CreateOrder(opb.CreateOrderRequest(customer_id=customer.id, lines=[
            opb.OrderLineInput(product=goods.id, quantity=quantity)]), metadata=as_(rep))
        return orders.ConfirmOrder(opb.ConfirmOrderRequest(id=made.id), metadata=as_(rep))
    return make


def pay(stubs, order_id: str, amount: int) -> str:
    payments = stubs[2]
    deadline = time.monotonic() + 20
    while True:  # the plan follows order.confirmed (group sales-payments)
        try:
            return payments.RecordReceipt(paypb.RecordReceiptRequest(
                order_id=order_id, method=paypb.PAYMENT_METHOD_BANK_TRANSFER, amount=cny(amount)),
                metadata=FINANCE).receipt.id
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.NOT_FOUND or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def statement(stub, rep: str, month: str = THIS_MONTH, who=None, until=lambda s: True, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while True:
        found = stub.GetCommissionStatement(pb.GetCommissionStatementRequest(rep_id=rep, month=month),
                                            metadata=who or FINANCE)
        if until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def of_order(s: pb.CommissionStatement, order_id: str) -> list[pb.CommissionLine]:
    return [line for line in s.lines if line.order_id == order_id]


def earned_on(order_id: str, total: int):
    return lambda s: sum(x.amount.minor_units for x in of_order(s, order_id)) == total


def test_commission_is_earned_pro_rata_on_receipts_and_clawed_back_on_refunds(stubs, commission, confirmed):
    order = confirmed(REP_A, 10_000, 5_000, quantity=3)  # margin 15,000 at 10 %: 1,500
    first = pay(stubs, order.id, 10_000)
    s = statement(commission, REP_A, until=earned_on(order.id, 500))
    [line] = of_order(s, order.id)
    assert (line.kind, line.margin_grade, line.base, line.rate_bp, line.amount, line.receipt_id,
            line.line_id) == ("receipt", "A", cny(5_000), 1000, cny(500), first, order.lines[0].line_id)
    pay(stubs, order.id, 20_000)
    s = statement(commission, REP_A, until=earned_on(order.id, 1_500))
    assert sum(x.base.minor_units for x in of_order(s, order.id)) == 15_000
    refund = stubs[2].RefundReceipt(paypb.RefundReceiptRequest(receipt_id=first, amount=cny(3_000)),
                                    metadata=FINANCE).refund
    s = statement(commission, REP_A, until=earned_on(order.id, 1_350))
    claw = [x for x in of_order(s, order.id) if x.kind == "refund"]
    assert [(x.refund_id, x.amount.minor_units, x.base.minor_units) for x in claw] == [(refund.id, -150, -1_500)]
    stubs[2].VoidReceipt(paypb.VoidReceiptRequest(receipt_id=first, reason="录入错误"), metadata=FINANCE)
    s = statement(commission, REP_A, until=earned_on(order.id, 1_000))
    assert [x.kind for x in of_order(s, order.id)][-1] == "void"
    assert s.totals == [cny(sum(x.amount.minor_units for x in s.lines) + sum(b.minor_units for b in s.bonus))]


def test_grade_a_sales_earn_more_than_the_same_revenue_in_grade_d(stubs, commission, confirmed):
    a = confirmed(REP_A, 10_000, 5_000)   # grade A
    d = confirmed(REP_D, 10_000, 9_500)   # grade D, same revenue
    pay(stubs, a.id, 10_000)
    pay(stubs, d.id, 10_000)
    earned_a = sum(x.amount.minor_units for x in of_order(statement(commission, REP_A, until=earned_on(a.id, 500)),
                                                           a.id))
    earned_d = sum(x.amount.minor_units for x in of_order(statement(commission, REP_D, until=earned_on(d.id, 5)),
                                                           d.id))
    assert (earned_a, earned_d) == (500, 5)


def test_reps_read_their_own_statement_managers_their_team_and_its_totals(stubs, commission, confirmed):
    order = confirmed(REP_D, 20_000, 19_000)
    pay(stubs, order.id, 20_000)
    mine = statement(commission, REP_D, who=as_(REP_D), until=earned_on(order.id, 10))
    assert mine.rep_id == REP_D and mine.team_id == TEAM and mine.plan_id == PLAN_ID
    assert statement(commission, "", who=as_(REP_D)).rep_id == REP_D  # empty: the caller's own
    assert code_of(lambda: commission.GetCommissionStatement(pb.GetCommissionStatementRequest(
        rep_id=REP_D, month=THIS_MONTH), metadata=as_(REP_A))) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: commission.GetCommissionStatement(pb.GetCommissionStatementRequest(
        rep_id=REP_D, month=THIS_MONTH), metadata=OTHER_MANAGER)) == grpc.StatusCode.NOT_FOUND
    full = statement(commission, REP_D, who=MANAGER)
    assert [(x.event_id, x.amount) for x in full.lines] == [(x.event_id, x.amount) for x in mine.lines]
    # grade and base (the line's margin) are cost figures: the manager sees them, the rep does not
    assert {x.margin_grade for x in full.lines} == {"D"} and all(x.HasField("base") for x in full.lines)
    assert {x.margin_grade for x in mine.lines} == {""} and not any(x.HasField("base") for x in mine.lines)
    team = commission.GetTeamCommission(pb.GetTeamCommissionRequest(month=THIS_MONTH), metadata=MANAGER)
    by_rep = {r.rep_id: r.totals for r in team.reps}
    assert REP_D in by_rep and by_rep[REP_D] == statement(commission, REP_D).totals
    assert sum(t.minor_units for t in team.totals) == sum(t.minor_units for r in team.reps for t in r.totals)
    for who in (as_(REP_D), OTHER_MANAGER):
        assert code_of(lambda: commission.GetTeamCommission(pb.GetTeamCommissionRequest(
            team_id=TEAM, month=THIS_MONTH), metadata=who)) == grpc.StatusCode.NOT_FOUND


def test_only_admins_set_plans_and_bad_plans_are_refused_naming_the_field(commission):
    assert code_of(lambda: commission.PutCommissionPlan(pb.PutCommissionPlanRequest(plan=pb.CommissionPlan(
        id="x", name="x", base=pb.COMMISSION_BASE_MARGIN, currency_code="CNY",
        rates=[pb.GradeRate(grade="A", rate_bp=1)])), metadata=MANAGER)) == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        commission.PutCommissionPlan(pb.PutCommissionPlanRequest(plan=pb.CommissionPlan(
            id="Bad Id", name="x", currency_code="CNY", rates=[pb.GradeRate(grade="Z", rate_bp=20_000)])),
            metadata=ADMIN)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for name in ("plan.id", "plan.base", "plan.rates[0].grade", "plan.rates[0].rate_bp"):
        assert name in err.value.details()
    assert code_of(lambda: commission.AssignCommissionPlan(pb.AssignCommissionPlanRequest(
        assignment=pb.CommissionAssignment(scope="rep:x", plan_id="no-such-plan", from_month="2026-01")),
        metadata=ADMIN)) == grpc.StatusCode.INVALID_ARGUMENT
    setup = commission.GetCommissionSetup(pb.GetCommissionSetupRequest(), metadata=MANAGER)
    assert PLAN_ID in [p.id for p in setup.plans]
    assert code_of(lambda: commission.GetCommissionSetup(pb.GetCommissionSetupRequest(),
                                                         metadata=as_(REP_A))) == grpc.StatusCode.PERMISSION_DENIED


def test_a_closed_month_is_frozen_and_later_corrections_land_in_the_next_open_month(
        services, stubs, commission, confirmed):
    feature = services.hosts["sales"].app.features["commission"]
    order = confirmed(REP_A, 100_000, 50_000, quantity=3)  # margin 150,000: 15,000 at 10 %
    tag = uuid.uuid4().hex[:8]

    def move(n: str, kind: str, amount: int, month: Month) -> Movement:
        return Movement(f"evt_{tag}{n}", kind, order.id, f"rct_{tag}", f"rfd_{tag}{n}" if kind != "receipt" else "",
                        amount, month)

    feature.apply(move("1", "receipt", 300_000, OLD), REP_A, TEAM)
    before = statement(commission, REP_A, str(OLD))
    assert sum(x.amount.minor_units for x in before.lines) == 15_000
    assert [b.minor_units for b in before.bonus] == [(150_000 - 100_000) * 500 // 10_000]  # the band, live
    assert code_of(lambda: commission.CloseCommissionMonth(pb.CloseCommissionMonthRequest(
        month=str(OLD)), metadata=MANAGER)) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: commission.CloseCommissionMonth(pb.CloseCommissionMonthRequest(
        month=THIS_MONTH), metadata=FINANCE)) == grpc.StatusCode.FAILED_PRECONDITION
    closed = commission.CloseCommissionMonth(pb.CloseCommissionMonthRequest(month=str(OLD)), metadata=FINANCE)
    assert closed.statements_closed >= 1 and closed.closed_by == "fin-com"
    again = commission.CloseCommissionMonth(pb.CloseCommissionMonthRequest(month=str(OLD)), metadata=ADMIN)
    assert again.statements_closed == 0 and again.closed_by == "fin-com"

    feature.apply(move("2", "refund", -150_000, OLD), REP_A, TEAM)  # a late refund dated in the closed month
    feature.apply(move("2", "refund", -150_000, OLD), REP_A, TEAM)  # redelivered: applied once
    frozen = statement(commission, REP_A, str(OLD))
    assert frozen.closed and frozen.lines == before.lines and frozen.bonus == before.bonus
    nxt = statement(commission, REP_A, str(OLDER_NEXT))
    assert [(x.amount.minor_units, x.counts_in, x.kind) for x in nxt.lines] == [(-7_500, str(OLD), "refund")]
    commission.CloseCommissionMonth(pb.CloseCommissionMonthRequest(month=str(OLDER_NEXT)), metadata=FINANCE)
    feature.apply(move("3", "refund", -150_000, OLD), REP_A, TEAM)  # both closed: the month after
    feature.apply(move("2", "refund", -150_000, OLD), REP_A, TEAM)  # still applied once
    third = statement(commission, REP_A, str(OLDER_NEXT.next()))
    assert [(x.amount.minor_units, x.counts_in) for x in third.lines] == [(-7_500, str(OLD))]
    assert statement(commission, REP_A, str(OLDER_NEXT)).lines == nxt.lines


def test_bad_months_and_rep_ids_are_invalid_arguments(commission):
    for month in ("", "2026-13", "26-01", "2026-01-01"):
        assert code_of(lambda: commission.GetCommissionStatement(pb.GetCommissionStatementRequest(
            rep_id=REP_A, month=month), metadata=FINANCE)) == grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(lambda: commission.GetCommissionStatement(pb.GetCommissionStatementRequest(
        rep_id="x" * 65, month=THIS_MONTH), metadata=FINANCE)) == grpc.StatusCode.INVALID_ARGUMENT


def test_racing_deliveries_post_each_event_once_and_lose_no_line(services, stubs, commission, confirmed):
    """Eight orders of one rep paid at once, each event delivered twice at the
    same time (two consumers, say): the rep's statement has every order's
    line once; the order ledgers and the statement race on their revisions."""
    from concurrent.futures import ThreadPoolExecutor

    feature = services.hosts["sales"].app.features["commission"]
    month = Month(2002, 5)
    orders = [confirmed(REP_D, 10_000, 5_000) for _ in range(8)]
    tag = uuid.uuid4().hex[:8]
    moves = [Movement(f"evt_race{tag}{i}", "receipt", o.id, f"rct_race{tag}{i}", "", 10_000, month)
             for i, o in enumerate(orders)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda m: feature.apply(m, REP_D, TEAM), moves + moves))
    s = statement(commission, REP_D, str(month))
    assert sorted(x.order_id for x in s.lines) == sorted(o.id for o in orders)
    assert sum(x.amount.minor_units for x in s.lines) == 8 * 500


def test_one_read_of_payment_events_posts_as_one_at_a_time_would(services, stubs, commission, confirmed):
    """The consumer applies a read's events together (one statement write per
    rep and month): receipts of several orders, one of them twice in the same
    read, and a refund dated in a closed month, which goes to the next open one."""
    feature = services.hosts["sales"].app.features["commission"]
    month = Month(2001, 3)
    orders = [confirmed(REP_D, 10_000, 5_000) for _ in range(3)]
    tag = uuid.uuid4().hex[:8]
    receipts = [Movement(f"evt_batch{tag}{i}", "receipt", o.id, f"rct_batch{tag}{i}", "", 10_000, month)
                for i, o in enumerate(orders)]
    made = feature.apply_all([(m, REP_D, TEAM) for m in (*receipts, receipts[0])])
    assert [sum(x.amount for x in lines) for lines in made] == [500, 500, 500, 500]  # the repeat: the same lines
    posted = statement(commission, REP_D, str(month))
    assert sorted(x.order_id for x in posted.lines) == sorted(o.id for o in orders)  # each once
    assert sum(x.amount.minor_units for x in posted.lines) == 3 * 500

    commission.CloseCommissionMonth(pb.CloseCommissionMonthRequest(month=str(month)), metadata=FINANCE)
    refund = Movement(f"evt_batch{tag}r", "refund", orders[1].id, f"rct_batch{tag}1", f"rfd_batch{tag}", -10_000,
                      month)
    late = Movement(f"evt_batch{tag}l", "receipt", orders[2].id, f"rct_batch{tag}l", "", 0, month)
    feature.apply_all([(refund, REP_D, TEAM), (receipts[2], REP_D, TEAM), (late, REP_D, TEAM)])
    assert statement(commission, REP_D, str(month)).lines == posted.lines  # closed: unchanged
    after = statement(commission, REP_D, str(month.next()))
    assert [(x.order_id, x.amount.minor_units, x.counts_in) for x in after.lines] == \
        [(orders[1].id, -500, str(month))]


def test_an_amendment_after_a_receipt_moves_what_the_next_receipts_earn(stubs, commission, confirmed):
    """Paid half of 2 units, amended to 3 units, paid in full: the full commission of 3 units, to the cent."""
    orders, payments = stubs[1], stubs[2]
    order = confirmed(REP_A, 10_001, 5_000, quantity=2)  # margin 5,001 a unit: grade A at 10 %
    pay(stubs, order.id, 10_001)
    statement(commission, REP_A, until=earned_on(order.id, 10_002 * 1000 // 10_000 // 2))
    orders.AmendOrder(opb.AmendOrderRequest(id=order.id, reason="加一台", lines=[
        opb.OrderLineInput(product=order.lines[0].product_id, quantity=3)]), metadata=as_(REP_A))
    deadline = time.monotonic() + 20
    while payments.GetPaymentPlan(paypb.GetPaymentPlanRequest(order_id=order.id), metadata=FINANCE).total \
            .minor_units != 30_003 and time.monotonic() < deadline:
        time.sleep(0.1)  # the plan follows order.amended
    pay(stubs, order.id, 20_002)
    full = 15_003 * 1000 // 10_000
    s = statement(commission, REP_A, until=earned_on(order.id, full))
    assert sum(x.amount.minor_units for x in of_order(s, order.id)) == full
    assert sum(x.base.minor_units for x in of_order(s, order.id)) == 15_003
