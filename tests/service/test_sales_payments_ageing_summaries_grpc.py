"""Rep and team ageing over real gRPC comes from summaries that follow every
plan write (receivables.changed, group sales-ageing): after receipts,
refunds, an amendment, a cancellation, a plan changing hands and a bulk
creation, each report equals ageing the book's plans one by one, as of any
day; an event delivered twice counts once."""

from __future__ import annotations

import time
import uuid
from datetime import date, datetime, timedelta, timezone

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import payment_service_pb2 as pb
from crm.sales.v1 import payment_service_pb2_grpc
from crm_kit.events import envelope as ev
from crm_kit.events.bus import stream_for
from crm_kit.money import Money
from crm_sales.payments import events as payment_events
from crm_sales.payments import model
from crm_sales.payments.model import Debt
from crm_sales.payments.servicer import ageing_to_pb
from tests.service.support import as_, create
from tests.conftest import business_today

FINANCE = as_("fin-sum", "finance", team="finance")


def cny(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code="CNY")


def d(day: date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


@pytest.fixture(scope="module")
def payments(services):
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        yield payment_service_pb2_grpc.PaymentServiceStub(channel)


@pytest.fixture(scope="module")
def plans(services):
    return services.hosts["sales"].app.features["payments"]


@pytest.fixture
def book():
    """A fresh team with two reps and a customer of the first."""
    team = f"team-sum-{uuid.uuid4().hex[:6]}"
    return team, f"rep-sum-a-{uuid.uuid4().hex[:6]}", f"rep-sum-b-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def customer(services, book):
    team, rep, _other = book
    with grpc.insecure_channel(services.targets["customer"]) as channel:
        stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
        return create(stub, f"+86137{uuid.uuid4().int % 10**8:08d}", who=as_(rep, team=team)).id


def report(payments, as_of: date, **which) -> list:
    return list(payments.GetAgeing(pb.GetAgeingRequest(as_of=d(as_of), **which), metadata=FINANCE).currencies)


def by_plans(plans, book: str, as_of: date) -> list:
    """The report the slow way: every plan of the book read and aged."""
    return [ageing_to_pb(a) for a in model.ageing(plans.store.in_book(book), as_of)]


DAYS = (-400, -95, -40, -6, -5, 0, 30, 400)


def assert_summaries_follow(payments, plans, today: date, books: dict[str, dict], seconds: float = 20.0):
    """Each {book: request} report equals the plan-by-plan one, as of every
    day in DAYS from `today` (the test's business day), once the summaries
    caught up with the writes."""
    deadline = time.monotonic() + seconds
    while True:
        pairs = [(report(payments, today + timedelta(days=n), **which), by_plans(plans, book, today + timedelta(days=n)))
                 for book, which in books.items() for n in DAYS]
        if all(got == want for got, want in pairs) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for got, want in pairs:
        assert got == want


def test_rep_and_team_reports_follow_receipts_refunds_amendments_and_a_change_of_hands(payments, plans, book,
                                                                                        customer):
    team, rep, other = book
    today = business_today()
    orders = [f"ord_sum{uuid.uuid4().hex[:16]}" for _ in range(4)]
    for n, order_id in enumerate(orders):
        plans.ensure_plan(Debt("order", order_id, customer, rep, team, Money(1000 * (n + 1), "CNY"),
                               today - timedelta(days=150 - 30 * n)))
    payments.ReplaceInstalments(pb.ReplaceInstalmentsRequest(order_id=orders[0], instalments=[
        pb.Instalment(due_date=d(today - timedelta(days=100)), amount=cny(400)),
        pb.Instalment(due_date=d(today + timedelta(days=10)), amount=cny(600))]), metadata=FINANCE)
    first = payments.RecordReceipt(pb.RecordReceiptRequest(
        order_id=orders[0], method=pb.PAYMENT_METHOD_CASH, amount=cny(700),
        received_date=d(today - timedelta(days=5))), metadata=FINANCE).receipt
    payments.RefundReceipt(pb.RefundReceiptRequest(receipt_id=first.id, amount=cny(200),
                                                   refund_date=d(today - timedelta(days=2))), metadata=FINANCE)
    second = payments.RecordReceipt(pb.RecordReceiptRequest(
        order_id=orders[1], method=pb.PAYMENT_METHOD_ALIPAY, amount=cny(2000)), metadata=FINANCE).receipt
    payments.VoidReceipt(pb.VoidReceiptRequest(receipt_id=second.id), metadata=FINANCE)
    plans.adjust_total("order", orders[2], Money(2500, "CNY"), amendment=1)  # a cut
    plans.adjust_total("order", orders[3], Money(5000, "CNY"), amendment=1, owner_id=other,
                       team_id=f"{team}-x")  # changes hands, to another team too
    plans.cancel_plan("order", orders[1])
    assert_summaries_follow(payments, plans, today, {
        f"rep:{rep}": {"rep_id": rep}, f"rep:{other}": {"rep_id": other}, f"team:{team}": {"team_id": team},
        f"team:{team}-x": {"team_id": f"{team}-x"}})
    mine = report(payments, today, rep_id=rep)
    # #1: 700 paid 400 + 300 oldest first, the refund of 200 off the later instalment: 500 unpaid; #2 cancelled;
    # #3 cut to 2500; #4 moved away.
    assert mine[0].outstanding.minor_units == 500 + 2500 and mine[0].plans == 2
    moved = report(payments, today, rep_id=other)
    assert moved[0].outstanding.minor_units == 5000 and moved[0].plans == 1


def test_a_manager_sees_of_a_reps_book_what_is_their_teams(payments, plans, book, customer):
    team, rep, _other = book
    today = business_today()
    here, there = f"ord_sum{uuid.uuid4().hex[:16]}", f"ord_sum{uuid.uuid4().hex[:16]}"
    plans.ensure_plan(Debt("order", here, customer, rep, team, Money(300, "CNY"), today))
    plans.ensure_plan(Debt("order", there, customer, rep, f"{team}-y", Money(700, "CNY"), today))
    manager = as_("mgr-sum", "manager", team=team)
    deadline = time.monotonic() + 20
    while [c.outstanding.minor_units for c in report(payments, today, rep_id=rep)] != [1000] \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    seen = payments.GetAgeing(pb.GetAgeingRequest(rep_id=rep), metadata=manager).currencies
    assert [c.outstanding.minor_units for c in seen] == [300]
    assert [c.outstanding.minor_units for c in report(payments, today, rep_id=rep)] == [1000]


def test_an_event_delivered_twice_counts_once(services, payments, plans, book, customer):
    team, rep, _other = book
    today = business_today()
    order_id = f"ord_sum{uuid.uuid4().hex[:16]}"
    plans.ensure_plan(Debt("order", order_id, customer, rep, team, Money(900, "CNY"), today - timedelta(days=40)))
    payments.RecordReceipt(pb.RecordReceiptRequest(order_id=order_id, method=pb.PAYMENT_METHOD_CASH,
                                                   amount=cny(250)), metadata=FINANCE)
    assert_summaries_follow(payments, plans, today, {f"rep:{rep}": {"rep_id": rep}, f"team:{team}": {"team_id": team}})
    before = report(payments, today, team_id=team)
    # The receipt's claim holds its events: publish them again (what an outbox sweep racing its relay does).
    db = services.hosts["sales"].app.db
    claim = db["payment_plan_claims"].find_one({"_id": f"order:{order_id}#2"})
    again = [e for e in claim["events"] if e["type"] == ev.RECEIVABLES_CHANGED]
    assert len(again) == 1
    redis = services.hosts["sales"].app.outbox.redis  # the event Redis
    stream = stream_for("sales")
    entry = redis.xadd(stream, {"id": again[0]["id"], "type": again[0]["type"], "data": bytes(again[0]["data"])})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _done(redis, stream, entry):
        time.sleep(0.1)
    assert _done(redis, stream, entry)
    assert report(payments, today, team_id=team) == before
    assert report(payments, today, rep_id=rep)[0].outstanding.minor_units == 650


def _done(redis, stream: str, entry) -> bool:
    """Whether group sales-ageing has read and acked the stream up to `entry`."""
    for group in redis.xinfo_groups(stream):
        if group["name"] in (payment_events.AGEING_GROUP, payment_events.AGEING_GROUP.encode()):
            last = group["last-delivered-id"]
            last = last.decode() if isinstance(last, bytes) else last
            entry_id = entry.decode() if isinstance(entry, bytes) else entry
            return _key(last) >= _key(entry_id) and group["pending"] == 0
    return False


def _key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)


def test_a_bulk_creation_counts_each_plan_once_even_one_made_meanwhile(payments, plans, book, customer):
    team, rep, other = book
    today = business_today()
    debts = [Debt("order", f"ord_sum{uuid.uuid4().hex[:16]}", customer, rep if n % 2 else other, team,
                  Money(100 + n, "CNY"), today - timedelta(days=n * 7)) for n in range(40)]
    plans.ensure_plan(debts[3])  # made by order.confirmed before the bulk insert
    plans.ensure_plans(debts)
    assert_summaries_follow(payments, plans, today, {f"rep:{rep}": {"rep_id": rep}, f"rep:{other}": {"rep_id": other},
                                                     f"team:{team}": {"team_id": team}})
    (total,) = report(payments, today, team_id=team)
    assert total.outstanding.minor_units == sum(100 + n for n in range(40)) and total.plans == 40


def test_a_bulk_creation_whose_writer_died_midway_is_settled_by_the_outbox_sweep(services, payments, plans, book,
                                                                                  customer):
    """The writer noted its batch, inserted some of the plans and died: the
    sweep settles the batch from the plans that carry its id (not the one
    that existed already, nor the one never inserted)."""
    from crm_sales.payments.store import BATCHES, book_names, to_doc

    team, rep, _other = book
    today = business_today()
    debts = [Debt("order", f"ord_sum{uuid.uuid4().hex[:16]}", customer, rep, team, Money(1000 + n, "CNY"),
                  today - timedelta(days=n * 20)) for n in range(5)]
    made = [model.default_plan(debt, 30, datetime.now(timezone.utc)) for debt in debts]
    plans.ensure_plan(debts[0])  # existed already
    store = plans.store
    store.books.add([(name, p.id, datetime.now(timezone.utc)) for p in made for name in book_names(p)])
    batch = store._open_batch(made)
    store.revisions.create_many([{**to_doc(p), "revision": 1, "created_by": "system", "batch": batch["_id"]}
                                 for p in made[1:4]])  # the last one never inserted: the writer died here
    app = services.hosts["sales"].app
    long_ago = datetime.now(timezone.utc) - timedelta(minutes=4)  # past the writer's deadline (abandoned_after)
    app.db[BATCHES].update_one({"_id": batch["_id"]}, {"$set": {"at": long_ago}})
    app.db["outbox"].update_one({"_id": f"{BATCHES}:{batch['_id']}"}, {"$set": {"at": long_ago}})
    app.outbox.sweep()
    assert app.db[BATCHES].find_one({"_id": batch["_id"]})["settled"]
    assert_summaries_follow(payments, plans, today, {f"rep:{rep}": {"rep_id": rep}, f"team:{team}": {"team_id": team}})
    (mine,) = report(payments, today, rep_id=rep)
    assert mine.outstanding.minor_units == sum(1000 + n for n in range(4)) and mine.plans == 4
    assert store.get(made[4].id) is None


def test_a_rebuild_repairs_a_summary_from_the_plans(payments, plans, book, customer):
    team, rep, _other = book
    today = business_today()
    for n in range(3):
        plans.ensure_plan(Debt("order", f"ord_sum{uuid.uuid4().hex[:16]}", customer, rep, team,
                               Money(500 + n, "CNY"), today - timedelta(days=45 * n)))
    assert_summaries_follow(payments, plans, today, {f"team:{team}": {"team_id": team}})
    plans.store.summaries.replace(f"team:{team}", model.AgeingCells())  # damaged
    assert report(payments, today, team_id=team) == []
    plans.rebuild_ageing_summaries()
    assert_summaries_follow(payments, plans, today, {f"rep:{rep}": {"rep_id": rep}, f"team:{team}": {"team_id": team}},
                            seconds=0)
