"""The seeds' story end to end through the gateway, over the real sales and
customer services as the gateway fixtures run them (real FerretDB, Redis and
events):

- customer X buys many low-margin orders (grade D products), customer Y a
  few high-margin ones (grade A): X brings more revenue and more orders, Y
  more margin, so Y has the higher contribution rate and the better value
  grade;
- a rep selling grade-A products earns more commission than one selling the
  same revenue in grade D.

Last year's orders are history (a value grade grades a finished year), so
they come in as an import, over gRPC: the gateway has no import route
(imports are the integrations' and the CLI's, `crm import`). Everything the
story asserts is read through the gateway."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import grpc
import pytest

from crm.sales.v1 import order_service_pb2 as opb
from crm.sales.v1 import order_service_pb2_grpc
from crm_gateway.app import create_app
from crm_sales.profitability.months import Month, business_zone
from tests.conftest import token
from tests.gateway.conftest import auth, gateway_settings
from tests.gateway.test_openapi import _check
from tests.service.support import ts
from tests import polling

TAG = uuid.uuid4().hex[:6]
TEAM = f"team-story-{TAG}"
REP, REP_A, REP_D = f"rep-story-{TAG}", f"rep-story-a-{TAG}", f"rep-story-d-{TAG}"
MANAGER = auth(f"boss-story-{TAG}", "manager", team=TEAM)
ADMIN = auth(f"root-story-{TAG}", "admin", team="")
FINANCE = auth("fin-story", "finance", team="finance")
ZONE = business_zone()
LAST_YEAR = datetime.now(ZONE).year - 1
PRICE = 100_000_000  # 1,000,000.00 CNY
LOW_COST, HIGH_COST = 95_000_000, 20_000_000  # margin rates 5 % (grade D) and 80 % (grade A)


# The story runs on a platform of its own (the customer and sales services on fresh databases, a gateway over
# them): a value grading run grades every customer's CNY sales of the year, and the session's other sales
# would decide X's and Y's grades. These fixtures stand in for the session's in this module.
@pytest.fixture(scope="module")
def services(empty_platform):
    return empty_platform


@pytest.fixture(scope="module")
def app(services, stores):
    return create_app(gateway_settings(services.targets, stores.redis_url))


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/openapi.json").get_json()


def cny(minor: int) -> dict:
    return {"minor_units": minor, "currency_code": "CNY"}


def wait_for(fetch, done, seconds: float = 30.0):
    return polling.wait_for(fetch, done, seconds, every=0.2)


@pytest.fixture(scope="module")
def products(app):
    client = app.test_client()

    def product(cost: int) -> dict:
        made = client.post("/api/v1/products", headers=MANAGER, json={
            "sku": f"STORY-{uuid.uuid4().hex[:10].upper()}", "name": "工业净水设备", "unit": "台",
            "list_price": cny(PRICE), "unit_cost": cny(cost)})
        assert made.status_code == 201, made.get_json()
        return made.get_json()

    low, high = product(LOW_COST), product(HIGH_COST)
    assert (low["grade"], high["grade"]) == ("D", "A")
    return {"low": low["id"], "high": high["id"]}


def new_customer(client, phone, rep: str, name: str) -> str:
    made = client.post("/api/v1/customers", json={"display_name": name, "phones": [phone()]},
                       headers=auth(rep, team=TEAM))
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def import_last_year(services, customer_id: str, product_id: str, count: int) -> None:
    """`count` one-line orders of last June (confirmed as they are imported), by an admin over gRPC."""
    at = datetime(LAST_YEAR, 6, 15, 4, tzinfo=timezone.utc)
    items = [opb.ImportOrderItem(request_id=uuid.uuid4().hex, customer_id=customer_id, ordered_at=ts(at),
                                 lines=[opb.OrderLineInput(product=product_id, quantity=1)]) for _ in range(count)]
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        results = order_service_pb2_grpc.OrderServiceStub(channel).ImportOrders(
            opb.ImportOrdersRequest(orders=items),
            metadata=[("authorization", f"Bearer {token('root-story', 'admin')}")]).results
    assert all(r.order_id for r in results), [r.error_message for r in results if not r.order_id]


@pytest.fixture(scope="module")
def story(app, services, products):
    """X: twenty grade-D orders of last year; Y: three grade-A ones (same price each)."""
    import random

    client = app.test_client()
    phones = iter(f"+86135{n:08d}" for n in random.sample(range(10**8), 4))
    x = new_customer(client, lambda: next(phones), REP, "客户X")
    y = new_customer(client, lambda: next(phones), REP, "客户Y")
    import_last_year(services, x, products["low"], 20)
    import_last_year(services, y, products["high"], 3)
    return {"X": x, "Y": y}


# --- contribution and value grade -------------------------------------------------------------

def row_of(report: dict, customer_id: str) -> dict | None:
    return next((r for r in report["rows"] if r["id"] == customer_id), None)


@pytest.fixture(scope="module")
def last_years_report(app, story):
    """The contribution report of last year for REP's customers (X and Y), once the roll-ups have the imports."""
    client = app.test_client()
    url = f"/api/v1/profitability/contribution?start_month={LAST_YEAR}-01&end_month={LAST_YEAR}-12&rep_id={REP}"

    def arrived(resp) -> bool:
        if resp.status_code != 200:
            return False
        x, y = row_of(resp.get_json(), story["X"]), row_of(resp.get_json(), story["Y"])
        return x is not None and y is not None and x["figures"]["order_count"] == 20 and \
            y["figures"]["order_count"] == 3
    report = wait_for(lambda: client.get(url, headers=MANAGER), arrived)
    assert arrived(report), report.get_json()
    return report


def test_x_brings_more_revenue_and_orders_but_y_the_higher_contribution_rate(spec, story, last_years_report):
    _check(spec, last_years_report, "/api/v1/profitability/contribution", "get")
    report = last_years_report.get_json()
    x, y = row_of(report, story["X"])["figures"], row_of(report, story["Y"])["figures"]
    assert (x["revenue_minor_units"], x["margin_minor_units"], x["order_count"]) == \
        (20 * PRICE, 20 * (PRICE - LOW_COST), 20)
    assert (y["revenue_minor_units"], y["margin_minor_units"], y["order_count"]) == \
        (3 * PRICE, 3 * (PRICE - HIGH_COST), 3)
    assert x["revenue_minor_units"] > y["revenue_minor_units"] and x["order_count"] > y["order_count"]
    rate_x = row_of(report, story["X"])["contribution_rate_ppm"]
    rate_y = row_of(report, story["Y"])["contribution_rate_ppm"]
    assert rate_y > rate_x > 0
    # ranked by margin: Y above X
    assert row_of(report, story["Y"])["rank"] < row_of(report, story["X"])["rank"]


def test_the_story_month_by_month_year_over_year_and_in_the_csv(client, spec, story, last_years_report):
    # This year's series beside last year's: all of Y's margin was last June.
    url = f"/api/v1/profitability/series/customer/{story['Y']}?start_month={LAST_YEAR + 1}-01&end_month={LAST_YEAR + 1}-12"
    series = client.get(url, headers=MANAGER)
    _check(spec, series, "/api/v1/profitability/series/{dimension}/{member_id}", "get")
    body = series.get_json()
    assert body["total_year_earlier"]["margin_minor_units"] == 3 * (PRICE - HIGH_COST)
    june = next(m for m in body["months"] if m["month"] == f"{LAST_YEAR + 1}-06")
    assert (june["year_earlier"]["order_count"], june["year_earlier"]["margin_minor_units"]) == \
        (3, 3 * (PRICE - HIGH_COST))
    assert [m["month"] for m in body["months"]] == [f"{LAST_YEAR + 1}-{n:02d}" for n in range(1, 13)]
    csv = client.get(f"/api/v1/profitability/contribution.csv?start_month={LAST_YEAR}-01&end_month={LAST_YEAR}-12"
                     f"&rep_id={REP}", headers=MANAGER)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    ids = [line.split(",")[1] for line in csv.get_data(as_text=True).lstrip("\ufeff").splitlines()[1:]]
    assert ids.index(story["Y"]) < ids.index(story["X"])


def test_y_gets_the_better_value_grade(client, spec, story, last_years_report):
    started = client.post("/api/v1/value-grade-runs", headers=ADMIN, json={"year": LAST_YEAR})
    assert started.status_code == 202, started.get_json()
    _check(spec, started, "/api/v1/value-grade-runs", "post")
    run_url = f"/api/v1/value-grade-runs/{started.get_json()['run_id']}"
    run = wait_for(lambda: client.get(run_url, headers=ADMIN), lambda r: r.get_json()["finished_at"] is not None,
                   seconds=60)
    assert run.get_json()["finished_at"] is not None and run.get_json()["graded_year"] == LAST_YEAR
    grades = {}
    for name in "XY":
        got = client.get(f"/api/v1/customers/{story[name]}/value-grade", headers=auth(REP, team=TEAM))
        _check(spec, got, "/api/v1/customers/{customer_id}/value-grade", "get")
        assert got.get_json()["graded_year"] == LAST_YEAR
        grades[name] = got.get_json()["grade"]
    # Y's margin alone is more than half of the year's: A; X, with less margin from more orders, below it.
    assert grades["Y"] == "A" and grades["X"] in ("B", "C"), grades
    assert grades["Y"] < grades["X"]  # A is the best grade, then B, C, D
    # and the contribution report filters by it
    graded_a = wait_for(lambda: client.get(
        f"/api/v1/profitability/contribution?start_month={LAST_YEAR}-01&end_month={LAST_YEAR}-12&rep_id={REP}"
        "&value_grade=A", headers=MANAGER), lambda r: r.status_code == 200 and r.get_json()["rows"])
    assert [r["id"] for r in graded_a.get_json()["rows"]] == [story["Y"]]
    assert graded_a.get_json()["rows"][0]["value_grade"] == "A"


# --- commission by margin grade -------------------------------------------------------------

def confirmed_order(client, rep: str, customer_id: str, product_id: str) -> str:
    who = auth(rep, team=TEAM)
    made = client.post("/api/v1/orders", headers=who, json={"customer_id": customer_id,
                                                            "lines": [{"product": product_id, "quantity": 1}]})
    assert made.status_code == 201, made.get_json()
    order_id = made.get_json()["id"]
    confirmed = client.post(f"/api/v1/orders/{order_id}/confirm", headers=who)
    assert confirmed.status_code == 200, confirmed.get_json()
    return order_id


def paid_in_full(client, order_id: str) -> None:
    # The plan follows order.confirmed (consumer group sales-payments): wait for it.
    plan = wait_for(lambda: client.get(f"/api/v1/orders/{order_id}/payment-plan", headers=FINANCE),
                    lambda r: r.status_code == 200)
    assert plan.status_code == 200, plan.get_json()
    paid = client.post("/api/v1/receipts", headers=FINANCE, json={
        "order_id": order_id, "method": "bank_transfer", "amount": plan.get_json()["balance"]})
    assert paid.status_code == 201, paid.get_json()


def test_a_rep_selling_grade_a_earns_more_commission_than_one_selling_the_same_revenue_in_grade_d(
        client, spec, phone, products):
    plan_id = f"story-{TAG}"
    put = client.put(f"/api/v1/commission/plans/{plan_id}", headers=ADMIN, json={
        "name": "按毛利等级提成", "base": "margin", "currency_code": "CNY",
        "rates": [{"grade": "A", "rate_bp": 1000}, {"grade": "B", "rate_bp": 700}, {"grade": "C", "rate_bp": 500},
                  {"grade": "D", "rate_bp": 300}]})
    assert put.status_code in (200, 201), put.get_json()
    for rep in (REP_A, REP_D):
        assigned = client.post("/api/v1/commission/assignments", headers=ADMIN,
                               json={"scope": f"rep:{rep}", "plan_id": plan_id, "from_month": "2000-01"})
        assert assigned.status_code in (200, 201), assigned.get_json()
    sold_a = confirmed_order(client, REP_A, new_customer(client, phone, REP_A, "甲公司"), products["high"])
    sold_d = confirmed_order(client, REP_D, new_customer(client, phone, REP_D, "丁公司"), products["low"])
    for order_id in (sold_a, sold_d):
        paid_in_full(client, order_id)
    month = str(Month.of(datetime.now(timezone.utc), timezone.utc))

    def statement(rep: str):
        # read by the team's manager: margin grades are cost information, hidden from reps
        return wait_for(lambda: client.get(f"/api/v1/commission/statements/{rep}/{month}", headers=MANAGER),
                        lambda r: r.status_code == 200 and r.get_json()["lines"])

    a, d = statement(REP_A), statement(REP_D)
    _check(spec, a, "/api/v1/commission/statements/{rep_id}/{month}", "get")
    a_lines, d_lines = a.get_json()["lines"], d.get_json()["lines"]
    assert [(x["order_id"], x["margin_grade"]) for x in a_lines] == [(sold_a, "A")]
    assert [(x["order_id"], x["margin_grade"]) for x in d_lines] == [(sold_d, "D")]
    earned_a = sum(t["minor_units"] for t in a.get_json()["totals"])
    earned_d = sum(t["minor_units"] for t in d.get_json()["totals"])
    # The same revenue (one unit at the same price); 10 % of an 80 % margin against 3 % of a 5 % one.
    assert earned_a == (PRICE - HIGH_COST) * 1000 // 10_000 == 8_000_000
    assert earned_d == (PRICE - LOW_COST) * 300 // 10_000 == 150_000
    assert earned_a > earned_d
    # each rep reads their own commission too
    own = client.get(f"/api/v1/commission/statements/{REP_A}/{month}", headers=auth(REP_A, team=TEAM))
    assert own.status_code == 200 and own.get_json()["totals"] == a.get_json()["totals"]
