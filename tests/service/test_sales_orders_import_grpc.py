"""Importing a year of order history over real gRPC, backed by real
FerretDB, the real customer service and real events: what a migration from
a previous system (and the demo seeding) relies on. Each item succeeds or
fails on its own, imported orders are confirmed as of their order date,
numbered in that year's sequence beside live orders, owe their payment
plan from that date, and a re-sent batch imports nothing twice."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import redis

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as pb
from crm.sales.v1 import order_service_pb2_grpc, payment_service_pb2 as paypb, payment_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm_kit.events import envelope as ev
from crm_kit.mongo import connect
from tests.service.support import as_in, code_of, create, race, ts
from crm_kit.clock import local_date
from crm_sales.profitability.months import DEFAULT_ZONE

TEAM = f"team-import-{uuid.uuid4().hex[:6]}"
as_ = as_in(TEAM)
REP, MANAGER = as_("rep-imp"), as_("boss-imp", "manager")
ADMIN = as_("root-imp", "admin", team="")
FINANCE = as_("fin-imp", "finance", team="finance")
MIGRATION = as_("erp-imp", "integration", team="", scopes="sales:read sales:write customers:read")
READ_ONLY = as_("bi-imp", "integration", team="", scopes="sales:read customers:read")
TERMS_DAYS = 30  # SalesSettings.payment_terms_days in the test session


@pytest.fixture(scope="module")
def stubs(services):
    sales = grpc.insecure_channel(services.targets["sales"])
    customer = grpc.insecure_channel(services.targets["customer"])
    yield (order_service_pb2_grpc.OrderServiceStub(sales), payment_service_pb2_grpc.PaymentServiceStub(sales),
           product_service_pb2_grpc.ProductServiceStub(sales), customer_service_pb2_grpc.CustomerServiceStub(customer))
    sales.close()
    customer.close()


@pytest.fixture(scope="module")
def sales_db(services):
    client = connect(services.mongodb_uri, "tests")
    yield client[services.sales_db_name]
    client.close()


def money(minor: int, code: str = "CNY") -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code=code)


def product(products, price=10000, cost=6000, code="CNY"):
    return products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
        sku=f"IMP-{uuid.uuid4().hex[:10].upper()}", name="净水器 X1", unit="台", list_price=money(price, code),
        unit_cost=money(cost, code), active=True)), metadata=MANAGER)


def item(customer_id, lines, ordered_at, request_id=None, **kw) -> pb.ImportOrderItem:
    return pb.ImportOrderItem(request_id=request_id or uuid.uuid4().hex, customer_id=customer_id, lines=lines,
                              ordered_at=ts(ordered_at), **kw)


def line(p, quantity=1, **kw) -> pb.OrderLineInput:
    return pb.OrderLineInput(product=p.id if hasattr(p, "id") else p, quantity=quantity, **kw)


def days_ago(n: int) -> datetime:
    return (datetime.now(timezone.utc) - timedelta(days=n)).replace(microsecond=0)


def imported(orders, items, who=ADMIN) -> list[pb.ImportOrderResult]:
    return list(orders.ImportOrders(pb.ImportOrdersRequest(orders=items), metadata=who).results)


def stored(sales_db) -> tuple[int, ...]:
    """What an import writes per order: the order, its key, its customer-book entry; and the orders'
    distinct numbers (a run of numbers is one block of the year's sequence, not a link a number)."""
    numbers = {d["number"] for d in sales_db["orders"].find({}, {"number": 1})}
    return (*(sales_db[name].count_documents({}) for name in ("orders", "order_imports", "order_book_links")),
            len(numbers))


@pytest.fixture
def customer(stubs, phone):
    return create(stubs[3], phone(), who=REP, display_name="老客户")


@pytest.fixture
def goods(stubs):
    return product(stubs[2], price=10000, cost=6000)


# --- what gets imported -------------------------------------------------------------------

def test_a_batch_imports_exactly_its_good_items_each_confirmed_as_of_its_date(stubs, sales_db, customer, goods):
    orders, _payments, products, _customers = stubs
    dollars = product(products, price=500, cost=200, code="USD")
    last_year, recent = days_ago(400), days_ago(100)
    items = [
        item(customer.id, [line(goods, 2), line(goods.sku, 1, discount=money(500))], last_year,
             delivery=pb.DeliveryDetails(contact_name="王小明", address="上海市浦东新区")),
        item(customer.id, [line("NO-SUCH-SKU", 1)], recent),
        item(customer.id, [line(goods, 0)], recent),
        item(customer.id, [line(goods, 1), line(dollars, 1)], recent),
        item(customer.id, [line(goods, 1)], datetime.now(timezone.utc) + timedelta(days=1)),
        item(customer.id, [line(goods, 1)], datetime(1999, 12, 31, tzinfo=timezone.utc)),
        item(f"cus_{uuid.uuid4().hex}", [line(goods, 1)], recent),
        item(customer.id, [], recent),
        pb.ImportOrderItem(request_id="no-date", customer_id=customer.id, lines=[line(goods, 1)]),
        item(customer.id, [line(goods, 3)], recent),
    ]
    before = stored(sales_db)

    results = imported(orders, items)

    assert [r.error_code for r in results] == ["", "INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                                               "INVALID_ARGUMENT", "INVALID_ARGUMENT", "NOT_FOUND",
                                               "INVALID_ARGUMENT", "INVALID_ARGUMENT", ""]
    assert "lines[0].product" in results[1].error_message
    assert "lines[0].quantity" in results[2].error_message
    assert "mixes currencies" in results[3].error_message
    assert "ordered_at" in results[4].error_message and "future" in results[4].error_message
    assert "ordered_at" in results[5].error_message and "2000" in results[5].error_message
    assert "lines" in results[7].error_message
    assert "ordered_at: is required" in results[8].error_message
    good = [results[0], results[9]]
    assert all(r.order_id.startswith("ord_") and not r.already_imported for r in good)
    assert re.fullmatch(rf"SO-{last_year.year}-\d{{6}}", results[0].number)
    assert results[0].total.minor_units == 3 * 10000 - 500  # priced here, to reconcile with the old system
    assert re.fullmatch(rf"SO-{recent.year}-\d{{6}}", results[9].number)
    # Refused items wrote nothing: two orders, their two keys, numbers and book entries.
    assert stored(sales_db) == tuple(n + 2 for n in before)

    old = orders.GetOrder(pb.GetOrderRequest(id=results[0].order_id), metadata=MANAGER)
    assert old.state == pb.ORDER_STATE_CONFIRMED and old.number == results[0].number
    assert old.confirm_time.ToDatetime(tzinfo=timezone.utc) == last_year
    assert old.create_time.ToDatetime(tzinfo=timezone.utc) == last_year
    assert (old.owner_id, old.team_id) == ("rep-imp", TEAM)  # the customer's owner sells it
    assert old.total.minor_units == 3 * 10000 - 500 and old.cost_total.minor_units == 3 * 6000
    assert old.delivery.address == "上海市浦东新区"
    # The customer's own rep finds them in the customer's orders.
    listed = orders.ListCustomerOrders(pb.ListCustomerOrdersRequest(customer_id=customer.id), metadata=REP)
    assert {o.id for o in listed.orders} == {results[0].order_id, results[9].order_id}


def test_only_admins_and_integrations_with_sales_write_import(stubs, sales_db, customer, goods):
    orders = stubs[0]
    before = stored(sales_db)
    for who in (REP, MANAGER, FINANCE, READ_ONLY):
        assert code_of(lambda who=who: imported(orders, [item(customer.id, [line(goods)], days_ago(5))], who)) \
            == grpc.StatusCode.PERMISSION_DENIED
    assert stored(sales_db) == before

    [result] = imported(orders, [item(customer.id, [line(goods)], days_ago(5))], MIGRATION)
    assert result.order_id and not result.error_code


def test_a_batch_holds_at_most_500_orders(stubs, customer, goods):
    items = [item(customer.id, [line(goods)], days_ago(1)) for _ in range(501)]
    assert code_of(lambda: imported(stubs[0], items)) == grpc.StatusCode.INVALID_ARGUMENT


# --- numbering beside live orders -------------------------------------------------------

def test_numbers_are_taken_per_year_of_the_order_date_without_duplicates_beside_concurrent_creates(
        stubs, customer, goods):
    orders = stubs[0]
    this_year = datetime.now(timezone.utc).replace(month=1, day=1, hour=12, minute=0, second=0, microsecond=0)
    if this_year > days_ago(0):
        this_year = days_ago(0)

    def batch_or_create(i: int) -> list[tuple[str, str]]:
        if i % 2:  # a rep taking a live order: a number of this year, taken at creation
            made = orders.CreateOrder(pb.CreateOrderRequest(customer_id=customer.id, lines=[line(goods)]),
                                      metadata=REP)
            return [(made.id, made.number)]
        results = imported(orders, [item(customer.id, [line(goods)], at)
                                    for at in [this_year, days_ago(370)] * 10])
        assert not [r.error_code for r in results if r.error_code]
        return [(r.order_id, r.number) for r in results]

    outcomes = race(8, batch_or_create)

    numbered = [pair for outcome in outcomes for pair in outcome]
    assert len(numbered) == 4 * 20 + 4
    numbers = [number for _id, number in numbered]
    assert len(set(numbers)) == len(numbers)  # no number twice
    years = Counter(number.split("-")[1] for number in numbers)
    assert years[str(days_ago(370).year)] >= 40
    for order_id, number in numbered:
        assert orders.GetOrder(pb.GetOrderRequest(id=order_id), metadata=ADMIN).number == number


# --- money owed, events, re-sending -----------------------------------------------------

def test_an_imported_order_owes_its_plan_from_the_order_date_and_is_overdue_in_the_ageing(stubs, customer, goods):
    orders, payments = stubs[0], stubs[1]
    ordered = days_ago(100)
    [result] = imported(orders, [item(customer.id, [line(goods, 2)], ordered)])

    plan = payments.GetPaymentPlan(paypb.GetPaymentPlanRequest(order_id=result.order_id), metadata=FINANCE)
    ordered_on = local_date(ordered, DEFAULT_ZONE)  # the business's day of the order, not UTC's
    assert (plan.start_date.year, plan.start_date.month, plan.start_date.day) == \
        (ordered_on.year, ordered_on.month, ordered_on.day)
    [due] = plan.instalments
    due_on = ordered_on + timedelta(days=TERMS_DAYS)
    assert (due.due_date.year, due.due_date.month, due.due_date.day) == (due_on.year, due_on.month, due_on.day)
    assert due.amount.minor_units == 20000

    [cny] = payments.GetAgeing(paypb.GetAgeingRequest(customer_id=customer.id), metadata=FINANCE).currencies
    assert cny.overdue.minor_units == 20000 and cny.days_61_90.minor_units == 20000  # 70 days past due

    # A receipt today against it is taken (the debt started 100 days ago).
    paid = payments.RecordReceipt(paypb.RecordReceiptRequest(
        order_id=result.order_id, method=paypb.PAYMENT_METHOD_BANK_TRANSFER, amount=money(20000)),
        metadata=FINANCE)
    assert paid.plan.paid


def confirmed_events(events_redis_url: str, order_ids: set[str], seconds: float = 20.0) -> Counter:
    client = redis.Redis.from_url(events_redis_url)
    deadline = time.monotonic() + seconds
    while True:
        seen = Counter(e.subject_id for e in (ev.decode(f[b"data"]) for _i, f in client.xrange("events:sales"))
                       if e.type == ev.ORDER_CONFIRMED and e.subject_id in order_ids)
        if set(seen) == order_ids or time.monotonic() > deadline:
            return seen


def test_each_imported_order_publishes_one_order_confirmed_as_of_its_date(stubs, events_redis_url, customer,
                                                                          goods):
    orders = stubs[0]
    dates = [days_ago(n) for n in (3, 40, 200)]
    results = imported(orders, [item(customer.id, [line(goods, 1)], at) for at in dates])
    ids = {r.order_id for r in results}

    assert confirmed_events(events_redis_url, ids) == Counter({order_id: 1 for order_id in ids})
    client = redis.Redis.from_url(events_redis_url)
    payloads = {p.order_id: p for p in (ev.payload_of(e) for e in (ev.decode(f[b"data"]) for _i, f in
                                                                   client.xrange("events:sales"))
                                        if e.type == ev.ORDER_CONFIRMED and e.subject_id in ids)}
    for result, at in zip(results, dates):
        event = payloads[result.order_id]
        assert event.confirmed_at.ToDatetime(tzinfo=timezone.utc) == at
        assert event.order_number == result.number and event.total.minor_units == 10000
        assert event.customer_id == customer.id


def test_resending_a_batch_imports_nothing_new_and_answers_the_same_orders(stubs, sales_db, events_redis_url,
                                                                           customer, goods):
    orders, payments = stubs[0], stubs[1]
    batch = [item(customer.id, [line(goods, n)], days_ago(10 * n)) for n in range(1, 6)]
    first = imported(orders, batch)
    after_first = stored(sales_db)

    again = imported(orders, batch)

    assert [(r.order_id, r.number) for r in again] == [(r.order_id, r.number) for r in first]
    assert all(r.already_imported for r in again) and not any(r.already_imported for r in first)
    assert stored(sales_db) == after_first
    ids = {r.order_id for r in first}
    assert confirmed_events(events_redis_url, ids, seconds=5.0) == Counter({order_id: 1 for order_id in ids})
    # The order.confirmed consumer found each plan made by the import and left it as it was.
    for r in first:
        plan = payments.GetPaymentPlan(paypb.GetPaymentPlanRequest(order_id=r.order_id), metadata=FINANCE)
        assert plan.revision == 1

    # The same request id with other content is refused, writing nothing.
    changed = pb.ImportOrderItem()
    changed.CopyFrom(batch[0])
    changed.lines[0].quantity = 9
    [refused] = imported(orders, [changed])
    assert refused.error_code == "FAILED_PRECONDITION" and not refused.order_id
    assert stored(sales_db) == after_first


def test_a_request_id_twice_in_one_batch_imports_the_first_only(stubs, customer, goods):
    twice = f"twice-{uuid.uuid4().hex}"
    first, second = imported(stubs[0], [item(customer.id, [line(goods)], days_ago(2), twice),
                                        item(customer.id, [line(goods)], days_ago(2), twice)], MIGRATION)
    assert first.order_id and second.error_code == "INVALID_ARGUMENT" and "request_id" in second.error_message


def test_a_batch_sent_again_while_the_first_is_still_running_imports_each_order_once(stubs, sales_db, customer,
                                                                                    goods):
    orders = stubs[0]
    batch = [item(customer.id, [line(goods, 1)], days_ago(n)) for n in range(1, 21)]
    before = stored(sales_db)

    # Four "timed out" clients re-sending the same batch at once.
    answers = race(4, lambda _i: imported(orders, batch, MIGRATION))

    by_item: list[set[str]] = [set() for _ in batch]
    for answer in answers:
        for i, r in enumerate(answer):
            assert r.error_code in ("", "ABORTED"), r.error_message  # ABORTED: still being imported, retry
            if r.order_id:
                by_item[i].add(r.order_id)
    assert all(len(ids) == 1 for ids in by_item)  # every item answered, always with one and the same order
    assert stored(sales_db) == tuple(n + len(batch) for n in before)
    again = imported(orders, batch, MIGRATION)
    assert [{r.order_id} for r in again] == by_item and all(r.already_imported for r in again)
