"""Targets, attainment and rankings over real gRPC: actual figures come from
the roll-ups of real imported orders; managers set their team's targets and
nobody else's; reps read their own without margin; rankings rank a team's
reps with ties sharing a rank, and a rep sees every rank but only their own
figure."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as opb, order_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm.sales.v1 import target_service_pb2 as pb, target_service_pb2_grpc
from crm_sales.profitability.months import Month, business_zone
from tests.service.support import as_in, code_of, create, ts

TEAM = f"team-tg-{uuid.uuid4().hex[:6]}"
OTHER_TEAM = f"team-tg-other-{uuid.uuid4().hex[:6]}"
as_ = as_in(TEAM)
REPS = [f"rep-tg-{i}-{uuid.uuid4().hex[:4]}" for i in range(3)]
MANAGER, OTHER_MANAGER = as_("boss-tg", "manager"), as_("boss-tg-other", "manager", team=OTHER_TEAM)
ADMIN, FINANCE = as_("root-tg", "admin", team=""), as_("fin-tg", "finance", team="finance")
CURRENCY = "SGD"  # no other test sells in it
YEAR = datetime.now(business_zone()).year - 1
MONTH = f"{YEAR}-03"


def money(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code=CURRENCY)


@pytest.fixture(scope="module")
def targets(services):
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        yield target_service_pb2_grpc.TargetServiceStub(channel)


@pytest.fixture(scope="module")
def sold(services):
    """Rep 0 sells revenue 30,000 (margin 12,000), rep 1 and rep 2 each 10,000 (margin 4,000), in March."""
    sales = grpc.insecure_channel(services.targets["sales"])
    customer = grpc.insecure_channel(services.targets["customer"])
    products, orders = product_service_pb2_grpc.ProductServiceStub(sales), order_service_pb2_grpc.OrderServiceStub(sales)
    customers = customer_service_pb2_grpc.CustomerServiceStub(customer)
    goods = products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
        sku=f"TG-{uuid.uuid4().hex[:10].upper()}", name="净水器", unit="台", list_price=money(10_000),
        unit_cost=money(6_000), active=True)), metadata=MANAGER)
    at = datetime(YEAR, 3, 10, 4, tzinfo=timezone.utc)
    for rep, quantity in zip(REPS, (3, 1, 1)):
        cid = create(customers, f"+86135{uuid.uuid4().int % 10**8:08d}", who=as_(rep), display_name="客户").id
        results = orders.ImportOrders(opb.ImportOrdersRequest(orders=[opb.ImportOrderItem(
            request_id=uuid.uuid4().hex, customer_id=cid, ordered_at=ts(at),
            lines=[opb.OrderLineInput(product=goods.id, quantity=quantity)])]), metadata=ADMIN).results
        assert results[0].order_id, results[0].error_message
    rollups = services.hosts["sales"].app.features["rollups"]
    deadline = time.monotonic() + 30
    while len({r for r, a in rollups.reps(Month(YEAR, 3), Month(YEAR, 3), CURRENCY).items()
               if r in REPS and a.team_id == TEAM}) < 3:
        assert time.monotonic() < deadline, "the orders never reached the roll-ups"
        time.sleep(0.2)
    sales.close()
    customer.close()
    return REPS


def set_target(stub, who, scope="rep", subject=REPS[0], month=MONTH, revenue=20_000, margin=10_000, cash=0, **kw):
    return stub.SetTarget(pb.SetTargetRequest(scope=scope, subject_id=subject, month=month, currency_code=CURRENCY,
                                              revenue_minor_units=revenue, margin_minor_units=margin,
                                              cash_minor_units=cash, **kw), metadata=who)


def attainment(stub, who, scope="rep", subject=REPS[0], start=MONTH, end=""):
    return stub.GetAttainment(pb.GetAttainmentRequest(scope=scope, subject_id=subject, start_month=start,
                                                      end_month=end, currency_code=CURRENCY), metadata=who)


def test_a_managers_target_for_a_rep_is_met_by_the_reps_sales(targets, sold):
    stored = set_target(targets, MANAGER, cash=5_000)
    assert (stored.team_id, stored.revenue_minor_units, stored.margin_minor_units) == (TEAM, 20_000, 10_000)
    got = attainment(targets, MANAGER)
    march = got.months[0]
    assert (march.actual_revenue_minor_units, march.actual_margin_minor_units) == (30_000, 12_000)
    assert (march.revenue_attainment_bp, march.margin_attainment_bp) == (15_000, 12_000)
    assert march.cash_attainment_bp == 0  # nothing collected yet
    # a later write replaces the target; the revision counts
    again = set_target(targets, MANAGER, revenue=60_000)
    assert again.revision == stored.revision + 1
    assert attainment(targets, MANAGER).months[0].revenue_attainment_bp == 5_000


def test_a_teams_attainment_sums_its_reps_and_months_without_a_target_have_none(targets, sold):
    set_target(targets, MANAGER, scope="team", subject=TEAM, revenue=100_000, margin=0)
    got = attainment(targets, FINANCE, scope="team", subject=TEAM, start=f"{YEAR}-02", end=f"{YEAR}-04")
    assert [m.month for m in got.months] == [f"{YEAR}-02", MONTH, f"{YEAR}-04"]
    feb, march, _april = got.months
    assert not feb.HasField("revenue_attainment_bp")
    assert (march.actual_revenue_minor_units, march.revenue_attainment_bp) == (50_000, 5_000)
    assert not march.HasField("margin_attainment_bp")  # a 0 margin target sets no goal
    assert got.total.month == f"{YEAR}-02..{YEAR}-04" and got.total.actual_revenue_minor_units == 50_000


def test_managers_set_only_their_teams_targets_and_reps_none(targets, sold):
    set_target(targets, MANAGER, subject=REPS[1])
    assert code_of(lambda: set_target(targets, OTHER_MANAGER, subject=REPS[1])) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: set_target(targets, OTHER_MANAGER, scope="team", subject=TEAM)) == \
        grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: set_target(targets, MANAGER, subject=REPS[2], team_id=OTHER_TEAM)) == \
        grpc.StatusCode.PERMISSION_DENIED
    for who in (as_(REPS[0]), FINANCE, as_("agent-tg", "agent")):
        assert code_of(lambda: set_target(targets, who, subject=REPS[0])) == grpc.StatusCode.PERMISSION_DENIED
    # admins may set any, naming the team
    assert set_target(targets, ADMIN, subject=REPS[2], team_id=TEAM).team_id == TEAM


@pytest.mark.parametrize("bad", [dict(scope="org"), dict(subject="$ne"), dict(month="2026-13"),
                                 dict(revenue=0, margin=0, cash=0), dict(revenue=-5), dict(revenue=10**15 + 1)])
def test_bad_targets_are_refused_naming_the_field(targets, bad):
    assert code_of(lambda: set_target(targets, MANAGER, **bad)) == grpc.StatusCode.INVALID_ARGUMENT


def test_a_rep_reads_their_own_targets_without_margin_and_nobody_elses(targets, sold):
    set_target(targets, MANAGER)
    me = as_(REPS[0])
    listed = targets.ListTargets(pb.ListTargetsRequest(scope="rep", subject_id=REPS[0], start_month=MONTH,
                                                       currency_code=CURRENCY), metadata=me).targets
    assert len(listed) == 1 and listed[0].margin_hidden and listed[0].margin_minor_units == 0
    mine = attainment(targets, me)
    assert mine.margin_hidden and mine.months[0].actual_margin_minor_units == 0
    assert mine.months[0].actual_revenue_minor_units == 30_000
    assert code_of(lambda: attainment(targets, me, subject=REPS[1])) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: attainment(targets, OTHER_MANAGER)) == grpc.StatusCode.PERMISSION_DENIED
    assert attainment(targets, MANAGER).months[0].actual_margin_minor_units == 12_000


def rank(stub, who, metric="revenue", **kw):
    return stub.RankReps(pb.RankRepsRequest(metric=metric, start_month=MONTH, currency_code=CURRENCY, **kw),
                         metadata=who)


def test_rankings_rank_the_teams_reps_with_ties_sharing_a_rank(targets, sold):
    got = rank(targets, MANAGER)
    assert [(e.rank, e.value) for e in got.entries] == [(1, 30_000), (2, 10_000), (2, 10_000)]
    assert got.entries[0].rep_id == REPS[0] and got.ranked == 3
    assert [e.value for e in rank(targets, FINANCE, metric="orders", team_id=TEAM).entries] == [1, 1, 1]
    assert [e.rank for e in rank(targets, ADMIN, metric="orders", team_id=TEAM).entries] == [1, 1, 1]
    assert [e.value for e in rank(targets, MANAGER, metric="new_customers").entries] == [1, 1, 1]
    assert [e.value for e in rank(targets, MANAGER, metric="margin").entries] == [12_000, 4_000, 4_000]
    assert code_of(lambda: rank(targets, MANAGER, team_id=OTHER_TEAM)) == grpc.StatusCode.PERMISSION_DENIED
    assert rank(targets, OTHER_MANAGER).ranked == 0


def test_a_rep_sees_every_rank_of_the_team_but_only_their_own_figure(targets, sold):
    got = rank(targets, as_(REPS[1]))
    assert [e.rank for e in got.entries] == [1, 2, 2]
    assert got.own.rep_id == REPS[1] and (got.own.rank, got.own.value) == (2, 10_000)
    assert all(e.value_hidden and e.value == 0 for e in got.entries if e.rep_id != REPS[1])
    by_margin = rank(targets, as_(REPS[1]), metric="margin")
    assert all(e.value_hidden for e in by_margin.entries)


@pytest.mark.parametrize("bad", [dict(metric="profit"), dict(start_month="nope"), dict(currency_code="XXX"),
                                 dict(limit=501), dict(team_id="$where")])
def test_bad_ranking_requests_are_refused(targets, bad):
    request = dict(metric="revenue", start_month=MONTH, currency_code=CURRENCY)
    request.update(bad)
    assert code_of(lambda: targets.RankReps(pb.RankRepsRequest(**request), metadata=ADMIN)) == \
        grpc.StatusCode.INVALID_ARGUMENT
