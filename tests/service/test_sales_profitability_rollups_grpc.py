"""Profit roll-ups follow real sales over real gRPC: after a seeded random
history of orders (created and confirmed, imported months back, amended,
cancelled), receipts, refunds and voids, approved and rejected expenses, the roll-ups kept from events
(group sales-profitability) equal the rebuild from the stores exactly, for
every customer, product and rep of the history; an event applied twice
counts once; the rebuild writes them back when they were lost."""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as opb
from crm.sales.v1 import order_service_pb2_grpc, payment_service_pb2 as pb, payment_service_pb2_grpc
from crm.sales.v1 import expense_service_pb2 as xpb, expense_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm_kit.events import envelope as ev
from crm_kit.clock import local_date
from crm_sales.profitability.months import DEFAULT_ZONE, Month
from crm_sales.profitability.rollups import events as rollup_events
from crm_sales.profitability.rollups.changes import OrderFacts, LineFacts
from crm_sales.profitability.rollups.model import Figures
from crm_sales.profitability.rollups.store import Row
from crm_cli.profitability import cmd_rebuild
from tests.conftest import token
from tests.service.support import as_in, create, ts

TEAM = f"team-roll-{uuid.uuid4().hex[:6]}"
as_ = as_in(TEAM)
REPS = [f"rep-roll-{uuid.uuid4().hex[:6]}" for _ in range(2)]
MANAGER = as_("boss-roll", "manager")
ADMIN = as_("admin-roll", "admin")
FINANCE = as_("fin-roll", "finance", team="finance")
NOW = datetime.now(timezone.utc)


def cny(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code="CNY")


def d(day) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


@pytest.fixture(scope="module")
def stubs(services):
    sales = grpc.insecure_channel(services.targets["sales"])
    customer = grpc.insecure_channel(services.targets["customer"])
    yield (order_service_pb2_grpc.OrderServiceStub(sales), payment_service_pb2_grpc.PaymentServiceStub(sales),
           product_service_pb2_grpc.ProductServiceStub(sales), customer_service_pb2_grpc.CustomerServiceStub(customer))
    sales.close()
    customer.close()


@pytest.fixture(scope="module")
def rollups(services):
    return services.hosts["sales"].app.features["rollups"]


def ours(docs: dict[str, dict[str, Row]], members: set[str]) -> dict[str, dict[str, Figures]]:
    """The figures of our members only (the store is shared with other tests):
    buckets' rows of our customers, products and reps, and our customers' series rows ("<customer>|<month>")."""
    out: dict[str, dict[str, Figures]] = {}
    for doc_id, rows in docs.items():
        kept = {k: r.figures for k, r in rows.items()
                if (k.split("|", 1)[0] if doc_id.startswith("s|") else k) in members and not r.figures.is_zero}
        if kept:
            out[doc_id] = kept
    return out


def received_on(order, rng):
    """A day from the order's confirmation to today (a plan takes no money dated before it)."""
    start = local_date(order.confirm_time.ToDatetime(tzinfo=timezone.utc), DEFAULT_ZONE)  # the business's day
    return start + timedelta(days=rng.randint(0, (local_date(NOW, DEFAULT_ZONE) - start).days))


def incremental(rollups, doc_ids) -> dict[str, dict[str, Row]]:
    return {doc_id: rollups.store.rows(doc_id) for doc_id in doc_ids}


def test_a_random_history_rolls_up_exactly_as_the_rebuild(services, stubs, rollups, phone, capsys):
    orders, payments, products, customers = stubs
    expenses = expense_service_pb2_grpc.ExpenseServiceStub(grpc.insecure_channel(services.targets["sales"]))
    rng = random.Random(20260309)
    goods = [products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
        sku=f"R-{uuid.uuid4().hex[:10].upper()}", name=f"货品{n}", unit="件", list_price=cny(price),
        unit_cost=cny(cost), active=True)), metadata=MANAGER)
        for n, (price, cost) in enumerate([(10000, 3000), (5000, 4500), (777, 700)])]
    buyers = [(create(customers, phone(), who=as_(REPS[n % 2])).id, REPS[n % 2]) for n in range(4)]
    members = {c for c, _ in buyers} | {g.id for g in goods} | set(REPS)

    def lines(k: int = 0):
        picked = rng.sample(goods, rng.randint(1, 3))
        return [opb.OrderLineInput(product=g.id, quantity=rng.randint(1, 5),
                                   discount=cny(rng.choice([0, 0, 99]))) for g in picked]

    made = []
    for n in range(10):
        customer_id, rep = rng.choice(buyers)
        draft = orders.CreateOrder(opb.CreateOrderRequest(customer_id=customer_id, lines=lines()),
                                   metadata=as_(rep))
        if n == 9:  # a draft cancelled: never counted
            orders.CancelOrder(opb.CancelOrderRequest(id=draft.id, reason="不要了"), metadata=as_(rep))
            continue
        made.append((orders.ConfirmOrder(opb.ConfirmOrderRequest(id=draft.id), metadata=as_(rep)), rep))
    items = [opb.ImportOrderItem(request_id=f"roll-{uuid.uuid4().hex}", customer_id=rng.choice(buyers)[0],
                                 lines=lines(), ordered_at=ts(NOW - timedelta(days=rng.randint(20, 400))))
             for _ in range(6)]
    for result in orders.ImportOrders(opb.ImportOrdersRequest(orders=items), metadata=ADMIN).results:
        assert result.order_id, result
        made.append((orders.GetOrder(opb.GetOrderRequest(id=result.order_id), metadata=ADMIN), None))
    receipts = []
    for order, rep in made:
        who = as_(rep) if rep else ADMIN
        first_total = order.total.minor_units  # the plan may not have followed an amendment yet
        roll = rng.random()
        if roll < 0.3:  # amended: a quantity changed, a line added or one removed
            kept = [opb.OrderLineInput(line_id=line.line_id, quantity=line.quantity + rng.randint(1, 3))
                    for line in order.lines]
            if len(kept) > 1 and rng.random() < 0.5:
                kept.pop()
            elif rng.random() < 0.5:
                kept.append(opb.OrderLineInput(product=goods[2].id, quantity=2))
            order = orders.AmendOrder(opb.AmendOrderRequest(id=order.id, lines=kept, reason="改量"), metadata=who)
        elif roll < 0.45:
            orders.CancelOrder(opb.CancelOrderRequest(id=order.id, reason="取消"), metadata=who)
            continue
        if rng.random() < 0.7:
            amount = rng.randint(1, min(first_total, order.total.minor_units))
            got = payments.RecordReceipt(pb.RecordReceiptRequest(
                order_id=order.id, method=pb.PAYMENT_METHOD_BANK_TRANSFER, amount=cny(amount),
                received_date=d(received_on(order, rng))), metadata=FINANCE)
            receipts.append((got.receipt.id, amount))
    for receipt_id, amount in receipts:
        roll = rng.random()
        if roll < 0.3:
            payments.RefundReceipt(pb.RefundReceiptRequest(receipt_id=receipt_id, amount=cny(rng.randint(1, amount))),
                                   metadata=FINANCE)
        elif roll < 0.45:
            payments.VoidReceipt(pb.VoidReceiptRequest(receipt_id=receipt_id), metadata=FINANCE)

    # Expenses: approved ones count (for the rep, and the customer when named), rejected ones do not.
    for n in range(6):
        customer_id, rep = rng.choice(buyers)
        spent = expenses.RecordExpense(xpb.RecordExpenseRequest(expense=xpb.ExpenseDetails(
            category="travel", amount=cny(rng.randint(100, 5000)),
            spent_on=d((NOW - timedelta(days=rng.randint(0, 60))).date()),
            customer_id=customer_id if n % 3 else "", receipt_reference=f"INV-{n}")), metadata=as_(rep))
        if n == 4:
            expenses.RejectExpense(xpb.RejectExpenseRequest(id=spent.id, reason="无发票"), metadata=MANAGER)
        else:
            expenses.ApproveExpense(xpb.ApproveExpenseRequest(id=spent.id), metadata=MANAGER)

    want = ours(rollups.recomputed(), members)
    assert any(f.expenses for rows in want.values() for f in rows.values())  # expenses were counted
    assert want  # the history counted something
    deadline = time.monotonic() + 30
    while True:
        got = ours(incremental(rollups, want), members)
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert got == want
    # And no document outside the rebuild holds figures of ours.
    stray = ours({i: rollups.store.rows(i) for i in rollups.store.all_ids() if i not in want}, members)
    assert stray == {}

    # Lost roll-ups (the documents emptied) come back from the rebuild, exactly.
    for doc_id in want:
        rollups.store.replace(doc_id, {k: r for k, r in rollups.store.rows(doc_id).items()
                                       if k.split("|", 1)[0] not in members})
    assert ours(incremental(rollups, want), members) == {}
    # `crm profitability rebuild` (the admin gRPC call) writes them back.
    cmd_rebuild(argparse.Namespace(target=services.targets["sales"], token=token("admin-roll", "admin"),
                                   timeout=120.0))
    assert "recomputed" in capsys.readouterr().out
    assert ours(incremental(rollups, want), members) == want


def test_an_event_applied_twice_counts_once(rollups):
    customer_id = f"cus_{uuid.uuid4().hex[:26]}"
    facts = OrderFacts(customer_id, "rep-twice", TEAM, "浙江", "CNY", datetime(2025, 3, 31, 20, tzinfo=timezone.utc),
                       (LineFacts("prd_twice", "A", 1000, 400),))
    from crm.events.v1 import events_pb2
    payload = events_pb2.OrderConfirmed(order_id="ord_twice", customer_id=customer_id, owner_id="rep-twice",
                                        team_id=TEAM, total=cny(1000), region="浙江",
                                        lines=[events_pb2.LineFigures(line_id="ln1", product_id="prd_twice",
                                                                      margin_grade="A", quantity=1,
                                                                      revenue_minor_units=1000,
                                                                      cost_minor_units=400)])
    payload.confirmed_at.FromDatetime(facts.confirmed_at)
    event = ev.new_event(ev.ORDER_CONFIRMED, "ord_twice", payload, "sales")
    rollup_events.apply_batch(rollups.store, [event, event], rollups.tz)
    rollup_events.apply_batch(rollups.store, [event], rollups.tz)
    # 20:00 UTC on 31 March is 1 April in Shanghai: the order counts in April.
    series = rollups.customer_series(customer_id, Month(2025, 3), Month(2025, 4), "CNY")
    assert series == [(Month(2025, 3), Figures()), (Month(2025, 4), Figures(revenue=1000, cost=400, orders=1))]
    april = rollups.customers(Month(2025, 4), Month(2025, 4), "CNY")[customer_id]
    assert (april.figures.margin, april.owner_id, april.team_id, april.region) == (600, "rep-twice", TEAM, "浙江")


def test_two_replicas_writing_the_same_documents_lose_nothing(rollups):
    """Each store writes from the documents it wrote last without reading
    first; a replica's copy goes stale as soon as the other writes, and the
    write must then start again from the store, never from the stale copy."""
    from crm_sales.profitability.rollups.store import RollupStore

    customer_id = f"cus_{uuid.uuid4().hex[:26]}"
    other = RollupStore(rollups.store.documents.database, timedelta(seconds=30))

    def confirmed(n: int):
        from crm.events.v1 import events_pb2
        payload = events_pb2.OrderConfirmed(
            order_id=f"ord_rep{n}", customer_id=customer_id, owner_id="rep-replicas", team_id=TEAM, total=cny(100),
            region="浙江", lines=[events_pb2.LineFigures(line_id="ln1", product_id="prd_replicas", margin_grade="B",
                                                        quantity=1, revenue_minor_units=100, cost_minor_units=30)])
        payload.confirmed_at.FromDatetime(datetime(2025, 6, 10, 4, tzinfo=timezone.utc))
        return ev.new_event(ev.ORDER_CONFIRMED, f"ord_rep{n}", payload, "sales")

    events = [confirmed(n) for n in range(6)]
    for n, event in enumerate(events):  # the replicas take turns: each time the writer's copy is one behind
        rollup_events.apply_batch((rollups.store, other)[n % 2], [event], rollups.tz)
    rollup_events.apply_batch(other, events[:2], rollups.tz)  # redelivered to the other replica: no effect
    june = rollups.customer_series(customer_id, Month(2025, 6), Month(2025, 6), "CNY")
    assert june == [(Month(2025, 6), Figures(revenue=600, cost=180, orders=6))]
