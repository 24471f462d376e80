"""Value grades, targets and rankings through the gateway over the real
sales and customer services: an admin grades the year that ended and
follows the run; the customer JSON and the 360 card show the grade; a
manager sets a rep's target and reads the attainment; a rep sees the
team's ranking with only their own figure; others are refused; every
answer matches the OpenAPI document."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.sales.v1 import order_service_pb2 as opb, order_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm_sales.profitability.months import Month, business_zone
from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check
from tests.service.support import as_, ts

TAG = uuid.uuid4().hex[:6]
TEAM, REP, OTHER = f"team-vgh-{TAG}", f"rep-vgh-{TAG}", f"rep-vgh-b-{TAG}"
ME, COLLEAGUE = auth(REP, "rep", team=TEAM), auth(OTHER, "rep", team=TEAM)
MANAGER, ADMIN = auth(f"boss-vgh-{TAG}", "manager", team=TEAM), auth("root-vgh", "admin", team="")
YEAR = datetime.now(business_zone()).year - 1
MONTH = f"{YEAR}-05"


def cny(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code="CNY")


@pytest.fixture(scope="module")
def sold(services, app):
    """Y (REP's): a few orders of a high-margin product; X (OTHER's): many of a low-margin one; last May, CNY."""
    client = app.test_client()
    ids = {}
    for name, who in (("X", COLLEAGUE), ("Y", ME)):
        made = client.post("/api/v1/customers", headers=who, json={
            "display_name": f"客户{name}{TAG}", "phones": [f"+86134{uuid.uuid4().int % 10**8:08d}"]})
        assert made.status_code == 201, made.get_json()
        ids[name] = made.get_json()["id"]
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        products, orders = product_service_pb2_grpc.ProductServiceStub(channel), order_service_pb2_grpc.OrderServiceStub(channel)
        boss = as_("boss-vgh", "manager", team=TEAM)
        high, low = (products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
            sku=f"VGH-{uuid.uuid4().hex[:10].upper()}", name="空气净化器", unit="台", list_price=cny(price),
            unit_cost=cny(cost), active=True)), metadata=boss) for price, cost in ((500_000, 100_000), (50_000, 49_000)))
        at = ts(datetime(YEAR, 5, 20, 4, tzinfo=timezone.utc))
        for cid, goods, count in ((ids["Y"], high, 2), (ids["X"], low, 30)):
            items = [opb.ImportOrderItem(request_id=uuid.uuid4().hex, customer_id=cid, ordered_at=at,
                                         lines=[opb.OrderLineInput(product=goods.id, quantity=1)]) for _ in range(count)]
            results = orders.ImportOrders(opb.ImportOrdersRequest(orders=items),
                                          metadata=as_("root-vgh", "admin", team="")).results
            assert all(r.order_id for r in results)
    rollups = services.hosts["sales"].app.features["rollups"]
    deadline = time.monotonic() + 30
    while not {ids["X"], ids["Y"]} <= set(rollups.customers(Month(YEAR, 5), Month(YEAR, 5), "CNY")):
        assert time.monotonic() < deadline, "the orders never reached the roll-ups"
        time.sleep(0.2)
    return ids


def test_an_admin_grades_the_year_and_the_customer_and_card_show_the_grade(client, spec, sold):
    runs = "/api/v1/value-grade-runs"
    refused = client.post(runs, headers=MANAGER, json={})
    _check(spec, refused, runs, "post")
    assert refused.status_code == 403
    bad = client.post(runs, headers=ADMIN, json={"year": YEAR + 1})
    _check(spec, bad, runs, "post")
    assert bad.status_code == 422
    started = client.post(runs, headers=ADMIN, json={"year": YEAR})
    _check(spec, started, runs, "post")
    assert started.status_code == 202 and started.get_json()["graded_year"] == YEAR
    run_url = f"{runs}/{started.get_json()['run_id']}"
    deadline = time.monotonic() + 60
    while (run := client.get(run_url, headers=ADMIN)).get_json()["finished_at"] is None:
        assert time.monotonic() < deadline, "the run never finished"
        time.sleep(0.3)
    _check(spec, run, "/api/v1/value-grade-runs/{run_id}", "get")
    assert sum(c["customers"] for c in run.get_json()["counts"]) == run.get_json()["graded"]

    grades = {}
    for name, who in (("X", COLLEAGUE), ("Y", ME)):
        url = f"/api/v1/customers/{sold[name]}/value-grade"
        got = client.get(url, headers=who)
        _check(spec, got, "/api/v1/customers/{customer_id}/value-grade", "get")
        grades[name] = got.get_json()["grade"]
        assert got.get_json()["graded_year"] == YEAR and got.get_json()["history"][-1]["grade"] == grades[name]
    order = "ABCD"
    assert order.index(grades["Y"]) <= order.index(grades["X"])  # a few high-margin orders beat many low ones
    assert client.get(f"/api/v1/customers/{sold['Y']}/value-grade", headers=COLLEAGUE).status_code == 404

    deadline = time.monotonic() + 30
    while (shown := client.get(f"/api/v1/customers/{sold['Y']}", headers=ME)).get_json()["value_grade"] != grades["Y"]:
        assert time.monotonic() < deadline, "the customer record never showed the grade"
        time.sleep(0.2)
    _check(spec, shown, "/api/v1/customers/{customer_id}", "get")
    assert shown.get_json()["value_grade_year"] == YEAR
    card = client.get(f"/api/v1/customers/360?id={sold['Y']}", headers=ME)
    assert card.status_code == 200 and card.get_json()["profile"]["value_grade"] == grades["Y"]
    # read-only: a client cannot set it
    etag = shown.headers["ETag"]
    patched = client.patch(f"/api/v1/customers/{sold['Y']}", headers={**ME, "If-Match": etag},
                           json={"value_grade": "A"})
    assert patched.status_code == 422


def test_a_manager_sets_a_target_and_reads_the_reps_attainment(client, spec, sold):
    url = f"/api/v1/targets/rep/{REP}/{MONTH}/CNY"
    template = "/api/v1/targets/{scope}/{subject_id}/{month}/{currency_code}"
    for who, body, status in ((ME, {"revenue_minor_units": 1}, 403),
                              (MANAGER, {"revenue_minor_units": "5"}, 422),
                              (MANAGER, {"revenue_minor_units": 0}, 422),
                              (MANAGER, {"revenue_minor_units": 1, "$set": 1}, 400)):
        refused = client.put(url, headers=who, json=body)
        assert refused.status_code in (status, 422), (body, refused.get_json())
        _check(spec, refused, template, "put")
    stored = client.put(url, headers=MANAGER, json={"revenue_minor_units": 2_000_000, "margin_minor_units": 400_000})
    _check(spec, stored, template, "put")
    assert stored.status_code == 200 and stored.get_json()["team_id"] == TEAM
    query = f"start_month={MONTH}&currency_code=CNY"
    got = client.get(f"/api/v1/targets/rep/{REP}/attainment?{query}", headers=MANAGER)
    _check(spec, got, "/api/v1/targets/{scope}/{subject_id}/attainment", "get")
    may = got.get_json()["months"][0]
    assert (may["actual_revenue_minor_units"], may["actual_margin_minor_units"]) == (1_000_000, 800_000)
    assert (may["revenue_attainment_bp"], may["margin_attainment_bp"], may["cash_attainment_bp"]) == (5_000, 20_000,
                                                                                                      None)
    mine = client.get(f"/api/v1/targets/rep/{REP}/attainment?{query}", headers=ME).get_json()
    assert mine["margin_hidden"] and mine["months"][0]["actual_margin_minor_units"] == 0
    listed = client.get(f"/api/v1/targets/rep/{REP}?{query}", headers=ME)
    _check(spec, listed, "/api/v1/targets/{scope}/{subject_id}", "get")
    assert [t["revenue_minor_units"] for t in listed.get_json()["targets"]] == [2_000_000]
    assert client.get(f"/api/v1/targets/rep/{REP}?{query}", headers=COLLEAGUE).status_code == 403
    bad = client.get(f"/api/v1/targets/rep/{REP}?start_month=2026-13&currency_code=CNY", headers=MANAGER)
    _check(spec, bad, "/api/v1/targets/{scope}/{subject_id}", "get")
    assert bad.status_code in (400, 422)


def test_a_rep_sees_the_teams_ranking_with_only_their_own_figure(client, spec, sold):
    url = f"/api/v1/rankings/reps?metric=revenue&start_month={MONTH}&currency_code=CNY"
    boss = client.get(url, headers=MANAGER)
    _check(spec, boss, "/api/v1/rankings/reps", "get")
    assert [(e["rep_id"], e["value"]) for e in boss.get_json()["entries"]] == [(OTHER, 1_500_000), (REP, 1_000_000)]
    mine = client.get(url, headers=ME)
    _check(spec, mine, "/api/v1/rankings/reps", "get")
    body = mine.get_json()
    assert body["own"] == {"rank": 2, "rep_id": REP, "team_id": TEAM, "value": 1_000_000, "value_hidden": False}
    assert body["entries"][0] == {"rank": 1, "rep_id": OTHER, "team_id": TEAM, "value": 0, "value_hidden": True}
    unknown = client.get(url.replace("revenue", "profit"), headers=ME)
    _check(spec, unknown, "/api/v1/rankings/reps", "get")
    assert unknown.status_code in (400, 422)
