"""Sales expenses over real gRPC: recorded by a rep on their customer or
opportunity, edited while pending, approved by the team's manager
(expense.approved on events:sales, once) or rejected with a reason, listed,
and who may see or decide what."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

import grpc
import pytest
import redis
from prometheus_client import REGISTRY

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import expense_service_pb2 as pb
from crm.sales.v1 import expense_service_pb2_grpc
from crm.sales.v1 import opportunity_service_pb2 as opb, opportunity_service_pb2_grpc
from crm_kit.events import envelope as ev
from tests.service.support import all_pages, as_in, code_of, create
from tests.conftest import business_today

TAG = uuid.uuid4().hex[:6]
TEAM = f"team-exp-{TAG}"
as_ = as_in(TEAM)
REP, OTHER_REP = as_(f"rep-exp-{TAG}"), as_(f"rep-exp-o-{TAG}")
MANAGER = as_(f"boss-exp-{TAG}", "manager")
OTHER_MANAGER = as_(f"boss-exp-x-{TAG}", "manager", team=f"team-x-{TAG}")
FINANCE = as_("fin-exp", "finance", team="finance")


def cny(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code="CNY")


def day(d: date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


@pytest.fixture(scope="module")
def stubs(services):
    sales = grpc.insecure_channel(services.targets["sales"])
    customer = grpc.insecure_channel(services.targets["customer"])
    yield (expense_service_pb2_grpc.ExpenseServiceStub(sales),
           opportunity_service_pb2_grpc.OpportunityServiceStub(sales),
           customer_service_pb2_grpc.CustomerServiceStub(customer))
    sales.close()
    customer.close()


@pytest.fixture
def customer_of(stubs, phone):
    return lambda who=REP: create(stubs[2], phone(), who=who).id


def details(customer_id: str = "", **kw) -> pb.ExpenseDetails:
    return pb.ExpenseDetails(category=kw.pop("category", "entertainment"), amount=kw.pop("amount", cny(38_800)),
                             spent_on=kw.pop("spent_on", day(business_today() - timedelta(days=1))),
                             customer_id=customer_id,
                             receipt_reference=kw.pop("receipt_reference", "发票 No.0012345"), **kw)


def record(stub, who=REP, **kw) -> pb.Expense:
    return stub.RecordExpense(pb.RecordExpenseRequest(expense=details(**kw)), metadata=who)


def approvals(events_redis_url: str, expense_id: str, seconds: float = 15.0) -> list:
    client = redis.Redis.from_url(events_redis_url)
    deadline = time.monotonic() + seconds
    while True:
        found = [ev.decode(f[b"data"]) for _i, f in client.xrange("events:sales")]
        about = [e for e in found if e.subject_id == expense_id and e.type == ev.EXPENSE_APPROVED]
        if about or time.monotonic() > deadline:
            return about
        time.sleep(0.05)


def test_a_rep_records_an_expense_on_their_customer_and_the_manager_approves_it(stubs, customer_of,
                                                                                  events_redis_url):
    expenses = stubs[0]
    customer_id = customer_of()
    made = record(expenses, customer_id=customer_id)
    assert (made.state, made.owner_id, made.team_id, made.customer_id, made.amount) == (
        pb.EXPENSE_STATE_PENDING, f"rep-exp-{TAG}", TEAM, customer_id, cny(38_800))
    assert expenses.GetExpense(pb.GetExpenseRequest(id=made.id), metadata=MANAGER) == made
    counted = REGISTRY.get_sample_value("crm_sales_expenses_approved_minor_units_total", {"currency": "CNY"}) or 0
    approved = expenses.ApproveExpense(pb.ApproveExpenseRequest(id=made.id), metadata=MANAGER)
    assert approved.state == pb.EXPENSE_STATE_APPROVED and approved.decided_by == f"boss-exp-{TAG}"
    assert REGISTRY.get_sample_value("crm_sales_expenses_approved_minor_units_total",
                                     {"currency": "CNY"}) - counted == 38_800
    [event] = approvals(events_redis_url, made.id)
    payload = ev.payload_of(event)
    assert (payload.customer_id, payload.owner_id, payload.team_id, payload.category, payload.amount,
            payload.spent_on) == (customer_id, made.owner_id, TEAM, "entertainment", cny(38_800), made.spent_on)
    assert code_of(lambda: expenses.ApproveExpense(pb.ApproveExpenseRequest(id=made.id), metadata=FINANCE)) == \
        grpc.StatusCode.FAILED_PRECONDITION  # decided once
    time.sleep(0.5)
    assert len(approvals(events_redis_url, made.id)) == 1


def test_the_rollup_rebuild_counts_approved_expenses_only(services, stubs):
    expenses = stubs[0]
    approved, pending = record(expenses), record(expenses)
    expenses.ApproveExpense(pb.ApproveExpenseRequest(id=approved.id), metadata=MANAGER)
    source = services.hosts["sales"].app.features["rollups"].expenses_source
    counted = {e.expense_id: e for e in source()}
    assert pending.id not in counted
    e = counted[approved.id]
    assert (e.owner_id, e.customer_id, e.currency, e.amount, e.spent_on) == (
        approved.owner_id, "", "CNY", 38_800, date(approved.spent_on.year, approved.spent_on.month,
                                                  approved.spent_on.day))


def test_an_expense_on_an_opportunity_is_its_customers(stubs, customer_of):
    expenses, opportunities, _customers = stubs
    today = business_today()
    customer_id = customer_of()
    opp = opportunities.CreateOpportunity(opb.CreateOpportunityRequest(opportunity=opb.Opportunity(
        customer_id=customer_id, title="年度采购", amount=cny(1_000_000), expected_close=day(today + timedelta(days=30)),
        stage="qualify")), metadata=REP)
    made = expenses.RecordExpense(pb.RecordExpenseRequest(expense=pb.ExpenseDetails(
        category="travel", amount=cny(120_000), spent_on=day(today), opportunity_id=opp.id)), metadata=REP)
    assert (made.customer_id, made.opportunity_id) == (customer_id, opp.id)


def test_the_rep_edits_while_pending_and_a_rejection_needs_a_reason(stubs):
    expenses = stubs[0]
    made = record(expenses)
    edited = expenses.UpdateExpense(pb.UpdateExpenseRequest(id=made.id, revision=made.revision, expense=details(
        category="gift", amount=cny(5_000))), metadata=REP)
    assert (edited.category, edited.amount, edited.revision) == ("gift", cny(5_000), made.revision + 1)
    assert code_of(lambda: expenses.UpdateExpense(pb.UpdateExpenseRequest(
        id=made.id, revision=made.revision, expense=details()), metadata=REP)) == grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(lambda: expenses.UpdateExpense(pb.UpdateExpenseRequest(id=made.id, expense=details()),
                                                  metadata=MANAGER)) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: expenses.RejectExpense(pb.RejectExpenseRequest(id=made.id), metadata=MANAGER)) == \
        grpc.StatusCode.INVALID_ARGUMENT
    rejected = expenses.RejectExpense(pb.RejectExpenseRequest(id=made.id, reason="无发票"), metadata=MANAGER)
    assert (rejected.state, rejected.reason) == (pb.EXPENSE_STATE_REJECTED, "无发票")
    assert code_of(lambda: expenses.UpdateExpense(pb.UpdateExpenseRequest(id=made.id, expense=details()),
                                                  metadata=REP)) == grpc.StatusCode.FAILED_PRECONDITION


def test_who_may_see_and_decide(stubs, customer_of):
    expenses = stubs[0]
    made = record(expenses)
    for who in (OTHER_REP, OTHER_MANAGER):
        assert code_of(lambda: expenses.GetExpense(pb.GetExpenseRequest(id=made.id), metadata=who)) == \
            grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: expenses.ApproveExpense(pb.ApproveExpenseRequest(id=made.id), metadata=REP)) == \
        grpc.StatusCode.PERMISSION_DENIED  # a rep never approves, their own least of all
    own = record(expenses, who=MANAGER)
    assert code_of(lambda: expenses.ApproveExpense(pb.ApproveExpenseRequest(id=own.id), metadata=MANAGER)) == \
        grpc.StatusCode.PERMISSION_DENIED  # nor a manager their own
    assert expenses.ApproveExpense(pb.ApproveExpenseRequest(id=own.id), metadata=FINANCE).state == \
        pb.EXPENSE_STATE_APPROVED
    # an expense on someone else's customer cannot be recorded
    theirs = customer_of(OTHER_REP)
    assert code_of(lambda: record(expenses, customer_id=theirs)) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: record(expenses, who=FINANCE)) == grpc.StatusCode.PERMISSION_DENIED


def test_lists_show_the_reps_own_and_the_managers_team_by_state(stubs):
    expenses = stubs[0]
    mine = [record(expenses).id for _ in range(3)]
    theirs = record(expenses, who=OTHER_REP).id
    expenses.ApproveExpense(pb.ApproveExpenseRequest(id=mine[0]), metadata=MANAGER)

    def listed(who, **kw) -> list[str]:
        return [e.id for e in all_pages(lambda token: expenses.ListExpenses(pb.ListExpensesRequest(
            page_size=2, page_token=token, **kw), metadata=who), "expenses")]

    own = listed(REP)
    assert set(mine) <= set(own) and theirs not in own
    team = listed(MANAGER, state=pb.EXPENSE_STATE_PENDING)
    assert set(mine[1:]) | {theirs} <= set(team) and mine[0] not in team
    assert code_of(lambda: listed(REP, rep_id=f"rep-exp-o-{TAG}")) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: listed(OTHER_MANAGER, team_id=TEAM)) == grpc.StatusCode.PERMISSION_DENIED
    assert theirs in listed(FINANCE, rep_id=f"rep-exp-o-{TAG}")


def test_bad_input_names_the_field(stubs):
    expenses = stubs[0]
    today = business_today()
    cases = {
        "category": dict(category="yacht"),
        "amount.minor_units": dict(amount=cny(0)),
        "spent_on": dict(spent_on=day(today + timedelta(days=2))),
        "receipt_reference": dict(receipt_reference="x" * 121),
    }
    for field, kw in cases.items():
        with pytest.raises(grpc.RpcError) as err:
            record(expenses, **kw)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in err.value.details(), field
    assert code_of(lambda: record(expenses, customer_id={"$ne": 1}.__repr__())) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: expenses.GetExpense(pb.GetExpenseRequest(id="exp_" + "a" * 200),
                                               metadata=REP)) == grpc.StatusCode.NOT_FOUND


def test_an_erased_customers_expenses_lose_their_free_text_and_keep_their_figures(services, stubs, customer_of):
    from crm.customer.v1 import customer_service_pb2 as cpb

    expenses = stubs[0]
    customer_id = customer_of()
    made = record(expenses, customer_id=customer_id, description="和李总吃饭", receipt_reference="发票 8812")
    expenses.RejectExpense(pb.RejectExpenseRequest(id=made.id, reason="李总不是客户"), metadata=MANAGER)
    stubs[2].EraseCustomer(cpb.EraseCustomerRequest(id=customer_id, reason="customer asked"),
                           metadata=as_("adm-exp", "admin", team="ops"))
    feature = services.hosts["sales"].app.features["expenses"]
    deadline = time.monotonic() + 20
    while True:  # customer.erased (group sales-expenses)
        stored = feature.store.get(made.id)
        if not stored.description or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (stored.description, stored.receipt_reference, stored.reason) == ("", "", "")
    assert (stored.amount.minor_units, stored.customer_id, stored.state) == (38_800, customer_id, "rejected")
    history = feature.store.revisions.history(made.id, stored.revision - 1)
    assert all(claim.state is None for claim in history)
    assert feature.erase_customer(customer_id) == 0  # a redelivery finds nothing left


def test_an_approved_expense_lowers_its_customers_net_contribution_in_the_roll_ups(services, stubs, customer_of):
    """Through expense.approved and the roll-up consumer (group sales-profitability)."""
    from crm_sales.profitability.months import Month

    expenses = stubs[0]
    customer_id = customer_of()
    spent = business_today() - timedelta(days=1)
    made = record(expenses, customer_id=customer_id, amount=cny(12_345), spent_on=day(spent))
    rollups = services.hosts["sales"].app.features["rollups"]
    month = Month.of_date(spent)

    def figures():
        [(_month, found)] = rollups.customer_series(customer_id, month, month, "CNY")
        return found

    assert figures().expenses == 0
    expenses.ApproveExpense(pb.ApproveExpenseRequest(id=made.id), metadata=MANAGER)
    deadline = time.monotonic() + 20
    while figures().expenses == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (figures().expenses, figures().net) == (12_345, -12_345)
