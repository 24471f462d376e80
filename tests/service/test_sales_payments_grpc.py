"""Payment plans over real gRPC: receipts, allocations, refunds, ageing, the
money races, and who may do what. Plans are made the way orders and
contracts make them (`ensure_plan` on the running sales host)."""

from __future__ import annotations

import random
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import grpc
import pytest
import redis

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import payment_service_pb2 as pb
from crm.sales.v1 import payment_service_pb2_grpc
from crm_kit.events import envelope as ev
from crm_kit.money import Money
from crm_sales.payments.model import Debt
from tests.service.support import as_, code_of, create, race
from tests.conftest import business_today

TEAM = f"team-pay-{uuid.uuid4().hex[:6]}"
REP = f"rep-pay-{uuid.uuid4().hex[:6]}"
OTHER_REP = f"rep-pay-other-{uuid.uuid4().hex[:6]}"
FINANCE = as_("fin-1", "finance", team="finance")
ADMIN = as_("adm-1", "admin", team="ops")
MANAGER = as_("mgr-pay", "manager", team=TEAM)


def cny(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code="CNY")


def d(day: date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


@pytest.fixture(scope="module")
def payments(services):
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        yield payment_service_pb2_grpc.PaymentServiceStub(channel)


@pytest.fixture(scope="module")
def customers(services):
    with grpc.insecure_channel(services.targets["customer"]) as channel:
        yield customer_service_pb2_grpc.CustomerServiceStub(channel)


@pytest.fixture(scope="module")
def plans(services):
    """The running sales host's payment service (what orders and contracts call)."""
    return services.hosts["sales"].app.features["payments"]


@pytest.fixture(scope="module")
def customer_id(customers):
    return create(customers, f"+86139{random.randrange(10**8):08d}", who=as_(REP, team=TEAM)).id


@pytest.fixture
def new_order(plans, customer_id):
    """A plan for a fresh made-up order of REP's customer: make(total, starts_on)."""
    def make(total: int = 1000, starts_on: date | None = None, owner: str = REP) -> str:
        starts_on = starts_on or business_today()
        order_id = f"ord_pay{uuid.uuid4().hex[:16]}"
        plans.ensure_plan(Debt("order", order_id, customer_id, owner, TEAM, Money(total, "CNY"), starts_on))
        return order_id
    return make


def receipt(payments, order_id: str, amount: int, who=FINANCE, **kw):
    return payments.RecordReceipt(pb.RecordReceiptRequest(
        order_id=order_id, method=kw.pop("method", pb.PAYMENT_METHOD_BANK_TRANSFER), amount=cny(amount), **kw),
        metadata=who)


def plan_of(payments, order_id: str, who=FINANCE) -> pb.PaymentPlan:
    return payments.GetPaymentPlan(pb.GetPaymentPlanRequest(order_id=order_id), metadata=who)


def aged(payments, request: pb.GetAgeingRequest, who=FINANCE, until=lambda report: bool(report.currencies),
         seconds: float = 20.0) -> pb.AgeingReport:
    """A rep's or team's report once its summary caught up (it follows the
    plan writes by the sales-ageing consumer's lag)."""
    deadline = time.monotonic() + seconds
    while True:
        report = payments.GetAgeing(request, metadata=who)
        if until(report) or time.monotonic() > deadline:
            return report
        time.sleep(0.1)


def as_its_plans(plans, book: str, as_of: date | None = None):
    """`until` for `aged`: the report equals the book's plans aged one by one
    (as of `as_of`, by default the business day of each check, as the service ages by its own today)."""
    from crm_sales.payments import model
    from crm_sales.payments.servicer import ageing_to_pb

    return lambda report: list(report.currencies) == [
        ageing_to_pb(a) for a in model.ageing(plans.store.in_book(book), as_of or business_today())]


def split(payments, order_id: str, *parts: tuple[date, int], who=FINANCE) -> pb.PaymentPlan:
    return payments.ReplaceInstalments(pb.ReplaceInstalmentsRequest(order_id=order_id, instalments=[
        pb.Instalment(due_date=d(due), amount=cny(amount)) for due, amount in parts]), metadata=who)


# --- the plan ---------------------------------------------------------------------------

def test_a_confirmed_order_gets_one_instalment_due_after_the_payment_terms(payments, new_order):
    today = business_today()
    order_id = new_order(1000, today - timedelta(days=5))
    plan = plan_of(payments, order_id)
    assert [(i.number, i.amount.minor_units) for i in plan.instalments] == [(1, 1000)]
    due = plan.instalments[0].due_date
    assert date(due.year, due.month, due.day) == today - timedelta(days=5) + timedelta(days=30)
    assert plan.balance.minor_units == 1000 and not plan.paid


def test_instalments_must_add_up_to_the_total_exactly(payments, new_order):
    today = business_today()
    order_id = new_order(1000)
    err = code_of(lambda: split(payments, order_id, (today, 400), (today + timedelta(days=30), 500)))
    assert err == grpc.StatusCode.INVALID_ARGUMENT
    assert len(plan_of(payments, order_id).instalments) == 1  # nothing written
    plan = split(payments, order_id, (today + timedelta(days=30), 600), (today, 400))
    assert [(i.number, i.amount.minor_units) for i in plan.instalments] == [(1, 400), (2, 600)]  # by due date


def test_a_plan_is_replaced_only_before_money_is_applied(payments, new_order):
    today = business_today()
    order_id = new_order(1000)
    receipt(payments, order_id, 100)
    with pytest.raises(grpc.RpcError) as err:
        split(payments, order_id, (today, 500), (today + timedelta(days=30), 500))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "already applied" in err.value.details()


def test_the_teams_manager_may_replace_a_plan_but_a_rep_may_not(payments, new_order):
    today = business_today()
    order_id = new_order(1000)
    assert code_of(lambda: split(payments, order_id, (today, 1000), who=as_(REP, team=TEAM))) == \
        grpc.StatusCode.PERMISSION_DENIED
    assert len(split(payments, order_id, (today, 300), (today, 700), who=MANAGER).instalments) == 2


# --- receipts and allocation --------------------------------------------------------------

def test_receipts_pay_instalments_oldest_due_first_partially_and_across(payments, new_order):
    today = business_today()
    order_id = new_order(1000)
    split(payments, order_id, (today, 300), (today + timedelta(days=30), 300), (today + timedelta(days=60), 400))
    first = receipt(payments, order_id, 450).plan  # pays #1 and half of #2
    assert [i.paid.minor_units for i in first.instalments] == [300, 150, 0]
    second = receipt(payments, order_id, 100).plan  # several receipts pay one instalment
    assert [i.paid.minor_units for i in second.instalments] == [300, 250, 0]
    assert second.collected.minor_units == 550 and second.balance.minor_units == 450


def test_a_receipt_over_the_outstanding_amount_is_refused_saying_by_how_much(payments, new_order):
    order_id = new_order(1000)
    receipt(payments, order_id, 700)
    with pytest.raises(grpc.RpcError) as err:
        receipt(payments, order_id, 500)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "by 200 CNY minor units" in err.value.details()
    plan = plan_of(payments, order_id)
    assert plan.collected.minor_units == 700 and len(plan.receipts) == 1  # nothing written


def test_explicit_allocation_and_allocating_one_receipt_twice(payments, new_order):
    today = business_today()
    order_id = new_order(1000)
    split(payments, order_id, (today, 500), (today + timedelta(days=30), 500))
    recorded = receipt(payments, order_id, 400, allocations=[pb.AllocationRequest(instalment=2, minor_units=100)])
    assert recorded.receipt.unallocated.minor_units == 300
    assert [i.paid.minor_units for i in recorded.plan.instalments] == [0, 100]
    rid = recorded.receipt.id
    allocate = lambda n, amount: payments.AllocateReceipt(pb.AllocateReceiptRequest(
        receipt_id=rid, allocations=[pb.AllocationRequest(instalment=n, minor_units=amount)]), metadata=FINANCE)
    assert [i.paid.minor_units for i in allocate(1, 300).instalments] == [300, 100]
    with pytest.raises(grpc.RpcError) as err:  # the remainder is spent: allocating it again is refused
        allocate(1, 100)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "100 CNY minor units more than the receipt's unallocated remainder" in err.value.details()
    assert code_of(lambda: allocate(3, 1)) in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)
    assert [i.paid.minor_units for i in plan_of(payments, order_id).instalments] == [300, 100]


def test_an_allocation_beyond_an_instalment_or_the_receipt_is_refused(payments, new_order):
    today = business_today()
    order_id = new_order(1000)
    split(payments, order_id, (today, 500), (today + timedelta(days=30), 500))
    over_instalment = lambda: receipt(payments, order_id, 600,
                                      allocations=[pb.AllocationRequest(instalment=1, minor_units=600)])
    assert code_of(over_instalment) == grpc.StatusCode.FAILED_PRECONDITION
    over_receipt = lambda: receipt(payments, order_id, 100, allocations=[
        pb.AllocationRequest(instalment=1, minor_units=80), pb.AllocationRequest(instalment=2, minor_units=80)])
    assert code_of(over_receipt) == grpc.StatusCode.FAILED_PRECONDITION
    assert plan_of(payments, order_id).receipts == []


def test_bad_receipts_name_the_field(payments, new_order):
    today = business_today()
    order_id = new_order(1000)
    cases = {
        "method": lambda: receipt(payments, order_id, 100, method=pb.PAYMENT_METHOD_UNSPECIFIED),
        "amount.minor_units": lambda: receipt(payments, order_id, 0),
        "received_date": lambda: receipt(payments, order_id, 100, received_date=d(today + timedelta(days=1))),
        "amount.currency_code": lambda: payments.RecordReceipt(pb.RecordReceiptRequest(
            order_id=order_id, method=pb.PAYMENT_METHOD_CASH,
            amount=common_pb2.Money(minor_units=100, currency_code="USD")), metadata=FINANCE),
    }
    for field, call in cases.items():
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert field in err.value.details(), field
    assert code_of(lambda: receipt(payments, "ord_nosuchorder000000000000", 100)) == grpc.StatusCode.NOT_FOUND
    assert plan_of(payments, order_id).receipts == []


def test_a_retried_receipt_is_recorded_once(payments, new_order):
    order_id = new_order(1000)
    first = receipt(payments, order_id, 300, request_id="retry-1").receipt
    again = receipt(payments, order_id, 300, request_id="retry-1").receipt
    assert again.id == first.id
    assert len(plan_of(payments, order_id).receipts) == 1
    assert code_of(lambda: receipt(payments, order_id, 301, request_id="retry-1")) == grpc.StatusCode.ALREADY_EXISTS


# --- refunds and voids ----------------------------------------------------------------

def test_refunds_are_recorded_and_never_exceed_what_was_received(payments, new_order):
    order_id = new_order(1000)
    rid = receipt(payments, order_id, 600).receipt.id
    refund = lambda amount: payments.RefundReceipt(pb.RefundReceiptRequest(
        receipt_id=rid, amount=cny(amount), reason="returned goods"), metadata=FINANCE)
    with pytest.raises(grpc.RpcError) as err:
        refund(601)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "1 CNY minor units more than the receipt still holds" in err.value.details()
    done = refund(200)
    assert done.receipt.net.minor_units == 400 and done.plan.balance.minor_units == 600
    assert [f.amount.minor_units for f in done.receipt.refunds] == [200]
    voided = payments.VoidReceipt(pb.VoidReceiptRequest(receipt_id=rid, reason="recorded twice"), metadata=FINANCE)
    assert voided.refund.void and voided.refund.amount.minor_units == 400
    assert voided.plan.collected.minor_units == 0
    assert [r.id for r in voided.plan.receipts] == [rid]  # kept, with its history
    assert code_of(lambda: refund(1)) == grpc.StatusCode.FAILED_PRECONDITION


# --- races ---------------------------------------------------------------------------------

def test_two_concurrent_receipts_that_together_overpay_exactly_one_is_refused(payments, new_order):
    for _round in range(5):
        order_id = new_order(1000)
        outcomes = race(2, lambda i: receipt(payments, order_id, 600, reference=f"r{i}"))
        refused = [o for o in outcomes if o == grpc.StatusCode.FAILED_PRECONDITION]
        assert len(refused) == 1, outcomes
        plan = plan_of(payments, order_id)
        assert plan.collected.minor_units == 600 and len(plan.receipts) == 1


def test_racing_allocations_and_refunds_of_one_receipt_never_spend_it_twice(payments, new_order):
    today = business_today()
    for _round in range(3):
        order_id = new_order(1000)
        split(payments, order_id, (today, 500), (today + timedelta(days=30), 500))
        rid = receipt(payments, order_id, 600, allocations=[pb.AllocationRequest(instalment=1, minor_units=200)]
                      ).receipt.id
        allocations = race(2, lambda i: payments.AllocateReceipt(pb.AllocateReceiptRequest(
            receipt_id=rid, allocations=[pb.AllocationRequest(instalment=i + 1, minor_units=300)]), metadata=FINANCE))
        assert allocations.count(grpc.StatusCode.FAILED_PRECONDITION) == 1, allocations
        refunds = race(2, lambda i: payments.RefundReceipt(pb.RefundReceiptRequest(
            receipt_id=rid, amount=cny(400), reason=f"r{i}"), metadata=FINANCE))
        assert refunds.count(grpc.StatusCode.FAILED_PRECONDITION) == 1, refunds
        plan = plan_of(payments, order_id)
        (held,) = plan.receipts
        assert held.net.minor_units == 200 and held.unallocated.minor_units >= 0
        assert sum(i.paid.minor_units for i in plan.instalments) <= 200


def _events_for(events_url: str, order_id: str, wanted: int, kind: str = ev.PAYMENT_RECEIVED) -> dict[str, set]:
    """Event ids by type for the order on events:sales, once `wanted` of `kind` are there."""
    client = redis.Redis.from_url(events_url)
    deadline = time.monotonic() + 20
    while True:
        seen: dict[str, set] = {}
        for _id, fields in client.xrange("events:sales"):
            envelope = ev.decode(fields[b"data"])
            if envelope.subject_id == order_id:
                seen.setdefault(envelope.type, set()).add(envelope.event_id)
        if len(seen.get(kind, ())) >= wanted or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


def test_order_paid_goes_out_once_under_racing_receipts_and_a_refund_and_repayment(payments, new_order, stores):
    order_id = new_order(1000)
    def pay(i):  # as a client would: ABORTED (the plan's revision lost to the others too often) is asked again
        for _ in range(5):
            try:
                return receipt(payments, order_id, 100, reference=f"part {i}")
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.ABORTED:
                    raise
        return grpc.StatusCode.ABORTED

    outcomes = race(12, pay)
    assert sum(isinstance(o, pb.RecordReceiptResponse) for o in outcomes) == 10, outcomes
    assert outcomes.count(grpc.StatusCode.FAILED_PRECONDITION) == 2, outcomes
    assert plan_of(payments, order_id).paid
    rid = next(o for o in outcomes if not isinstance(o, grpc.StatusCode)).receipt.id
    payments.RefundReceipt(pb.RefundReceiptRequest(receipt_id=rid, amount=cny(100)), metadata=FINANCE)
    assert not plan_of(payments, order_id).paid
    receipt(payments, order_id, 100)
    seen = _events_for(stores.events_redis_url, order_id, 11)
    assert len(seen[ev.PAYMENT_RECEIVED]) == 11
    assert len(seen[ev.PAYMENT_REFUNDED]) == 1
    assert len(seen[ev.ORDER_PAID]) == 1


# --- ageing ---------------------------------------------------------------------------

def test_ageing_buckets_by_days_past_due_and_as_of_a_date(payments, plans, customer_id):
    today = business_today()
    rep = f"rep-age-{uuid.uuid4().hex[:6]}"
    order_id = f"ord_age{uuid.uuid4().hex[:16]}"
    start = today - timedelta(days=200)
    plans.ensure_plan(Debt("order", order_id, customer_id, rep, TEAM, Money(1500, "CNY"), start))
    split(payments, order_id, (today - timedelta(days=100), 100), (today - timedelta(days=70), 200),
          (today - timedelta(days=40), 300), (today - timedelta(days=10), 400), (today + timedelta(days=20), 500))
    receipt(payments, order_id, 150, received_date=d(today - timedelta(days=5)))  # pays #1, half of #2
    report = aged(payments, pb.GetAgeingRequest(rep_id=rep),
                  until=lambda r: bool(r.currencies) and r.currencies[0].outstanding.minor_units == 1350)
    (cur,) = report.currencies
    assert (cur.over_90.minor_units, cur.days_61_90.minor_units, cur.days_31_60.minor_units,
            cur.days_1_30.minor_units, cur.not_yet_due.minor_units) == (0, 150, 300, 400, 500)
    assert cur.outstanding.minor_units == 1350 and cur.overdue.minor_units == 850
    # As of 6 days ago the receipt had not come in.
    before = payments.GetAgeing(pb.GetAgeingRequest(rep_id=rep, as_of=d(today - timedelta(days=6))),
                                metadata=FINANCE).currencies[0]
    assert before.outstanding.minor_units == 1500
    # #1 was 94 days past due then, #2 64, #3 34, #4 4; #5 not yet due.
    assert (before.over_90.minor_units, before.days_61_90.minor_units, before.days_31_60.minor_units,
            before.days_1_30.minor_units, before.not_yet_due.minor_units) == (100, 200, 300, 400, 500)


def test_a_customers_receivables_for_the_360_card(new_order, payments, customer_id):
    today = business_today()
    order_id = new_order(800, today - timedelta(days=60))  # due 30 days ago
    receipt(payments, order_id, 300)
    card = payments.GetAgeing(pb.GetAgeingRequest(customer_id=customer_id), metadata=as_(REP, team=TEAM))
    (cur,) = card.currencies
    assert cur.outstanding.minor_units >= 500 and cur.overdue.minor_units >= 500
    assert code_of(lambda: payments.GetAgeing(pb.GetAgeingRequest(customer_id=customer_id),
                                              metadata=as_(OTHER_REP, team="team-other"))) == grpc.StatusCode.NOT_FOUND


# --- rights ---------------------------------------------------------------------------------

def test_a_rep_sees_their_own_book_only(payments, plans, new_order):
    order_id = new_order(1000)
    mine = aged(payments, pb.GetAgeingRequest(rep_id=REP), as_(REP, team=TEAM), as_its_plans(plans, f"rep:{REP}"))
    assert mine.currencies[0].outstanding.minor_units >= 1000
    assert payments.GetAgeing(pb.GetAgeingRequest(), metadata=as_(REP, team=TEAM)) == mine  # own book by default
    other = as_(OTHER_REP, team=TEAM)
    assert code_of(lambda: payments.GetAgeing(pb.GetAgeingRequest(rep_id=REP), metadata=other)) == \
        grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: payments.GetAgeing(pb.GetAgeingRequest(team_id=TEAM), metadata=other)) == \
        grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: plan_of(payments, order_id, who=other)) == grpc.StatusCode.NOT_FOUND
    assert plan_of(payments, order_id, who=as_(REP, team=TEAM)).order_id == order_id


def test_managers_see_their_team_and_not_another(payments, new_order):
    new_order(1000)
    assert aged(payments, pb.GetAgeingRequest(team_id=TEAM), MANAGER).currencies
    stranger = as_("mgr-elsewhere", "manager", team="team-elsewhere")
    assert code_of(lambda: payments.GetAgeing(pb.GetAgeingRequest(team_id=TEAM), metadata=stranger)) == \
        grpc.StatusCode.PERMISSION_DENIED
    assert payments.GetAgeing(pb.GetAgeingRequest(rep_id=REP), metadata=stranger).currencies == []


def test_only_finance_and_admins_record_money(payments, new_order):
    order_id = new_order(1000)
    for who in (as_("agent-1", "agent", team=TEAM), as_(REP, team=TEAM), MANAGER):
        assert code_of(lambda: receipt(payments, order_id, 100, who=who)) == grpc.StatusCode.PERMISSION_DENIED
    rid = receipt(payments, order_id, 100, who=ADMIN).receipt.id
    agent = as_("agent-1", "agent", team=TEAM)
    assert code_of(lambda: payments.RefundReceipt(pb.RefundReceiptRequest(receipt_id=rid, amount=cny(10)),
                                                  metadata=agent)) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: payments.VoidReceipt(pb.VoidReceiptRequest(receipt_id=rid), metadata=agent)) == \
        grpc.StatusCode.PERMISSION_DENIED
    assert plan_of(payments, order_id).collected.minor_units == 100


# --- plans follow their debts ------------------------------------------------------------

def test_an_amendment_moves_the_total_and_a_cancellation_frees_the_money_to_refund(payments, plans, new_order):
    order_id = new_order(1000)
    receipt(payments, order_id, 800)
    plans.adjust_total("order", order_id, Money(1200, "CNY"), amendment=1)
    assert plan_of(payments, order_id).balance.minor_units == 400
    plans.adjust_total("order", order_id, Money(900, "CNY"), amendment=1)  # a redelivery: already applied
    assert plan_of(payments, order_id).total.minor_units == 1200
    plans.adjust_total("order", order_id, Money(600, "CNY"), amendment=2)  # below what was collected
    cut = plan_of(payments, order_id)
    assert (cut.total.minor_units, cut.balance.minor_units, cut.credit.minor_units) == (600, 0, 200)
    assert sum(i.amount.minor_units for i in cut.instalments) == 600
    assert cut.receipts[0].unallocated.minor_units == 200
    plans.cancel_plan("order", order_id)
    cancelled = plan_of(payments, order_id)
    assert cancelled.cancelled and cancelled.credit.minor_units == 800
    assert code_of(lambda: receipt(payments, order_id, 1)) == grpc.StatusCode.FAILED_PRECONDITION
    refund = payments.RefundReceipt(pb.RefundReceiptRequest(receipt_id=cut.receipts[0].id, amount=cny(800)),
                                    metadata=FINANCE)
    assert refund.plan.credit.minor_units == 0


def test_the_overdue_gauge_and_the_receipts_counter(payments, plans, new_order):
    from prometheus_client import REGISTRY

    today = business_today()

    def sample(name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0

    before = sample("crm_sales_receipts_minor_units_total", currency="CNY")
    order_id = new_order(700, today - timedelta(days=40))  # due 10 days ago
    receipt(payments, order_id, 200, request_id=f"gauge-{order_id}")
    receipt(payments, order_id, 200, request_id=f"gauge-{order_id}")  # a retry counts once
    assert sample("crm_sales_receipts_minor_units_total", currency="CNY") - before == 200
    overdue = plans.refresh_overdue_metric()
    assert overdue["CNY"] >= 500
    assert sample("crm_sales_overdue_minor_units", currency="CNY") == overdue["CNY"]


def test_an_erased_customer_leaves_the_money_history_without_its_free_text(payments, plans, customers, phone):
    from crm.customer.v1 import customer_service_pb2 as cpb

    today = business_today()
    gone = create(customers, phone(), who=as_(REP, team=TEAM))
    order_id = f"ord_erase{uuid.uuid4().hex[:16]}"
    plans.ensure_plan(Debt("order", order_id, gone.id, REP, TEAM, Money(1000, "CNY"), today))
    rid = receipt(payments, order_id, 600, reference="张三 工商银行 6222").receipt.id
    payments.RefundReceipt(pb.RefundReceiptRequest(receipt_id=rid, amount=cny(100), reason="张三说多付了"),
                           metadata=FINANCE)
    customers.EraseCustomer(cpb.EraseCustomerRequest(id=gone.id, reason="asked"), metadata=ADMIN)

    def history_of(plan):
        return [plans.store.revisions.get(plan.id, r) for r in range(2, plan.revision)]

    def erased(plan) -> bool:  # the follower strips the plan first, then its history
        history = history_of(plan)
        return not plan.receipts[0].reference and bool(history) and all(c.state is None for c in history)

    deadline = time.monotonic() + 20
    while not erased(plan := plans.store.get(f"order:{order_id}")) and time.monotonic() < deadline:
        time.sleep(0.1)
    (kept,) = plan.receipts
    assert (kept.reference, kept.refunds[0].reason) == ("", "")
    assert (kept.amount, kept.net, plan.collected) == (600, 500, 500)  # the money history stays
    history = history_of(plan)
    assert history and all(claim.state is None for claim in history)


def test_a_retried_refund_is_recorded_once(payments, new_order):
    order_id = new_order(1000)
    rid = receipt(payments, order_id, 500).receipt.id
    ask = lambda amount: payments.RefundReceipt(pb.RefundReceiptRequest(
        receipt_id=rid, amount=cny(amount), request_id="refund-retry"), metadata=FINANCE)
    first, again = ask(100), ask(100)
    assert again.refund.id == first.refund.id and again.receipt.net.minor_units == 400
    assert code_of(lambda: ask(150)) == grpc.StatusCode.ALREADY_EXISTS
