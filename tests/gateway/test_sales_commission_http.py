"""Commission and expenses through the gateway (Flask) over the real
services: an admin's plan, a rep's statement filling as finance records
receipts, the team's totals, the close refused for a month not ended, and
an expense recorded and approved; every answer checked against the OpenAPI
document."""

from __future__ import annotations

import time
import uuid
from datetime import date, datetime, timedelta, timezone

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check
from tests.service.support import as_

PROBLEM = "application/problem+json"
TAG = uuid.uuid4().hex[:6]
TEAM = f"team-http-com-{TAG}"
REP = f"rep-http-com-{TAG}"
ADMIN = auth("adm-http-com", "admin", team="ops")
FINANCE = auth("fin-http-com", "finance", team="finance")
MANAGER = auth(f"boss-http-com-{TAG}", "manager", team=TEAM)
MONTH = datetime.now(timezone.utc).strftime("%Y-%m")
STATEMENT = "/api/v1/commission/statements/{rep_id}/{month}"


def rep():
    return auth(REP, "rep", team=TEAM)


def cny(minor: int) -> dict:
    return {"minor_units": minor, "currency_code": "CNY"}


@pytest.fixture(scope="module")
def product(services):
    channel = grpc.insecure_channel(services.targets["sales"])
    made = product_service_pb2_grpc.ProductServiceStub(channel).CreateProduct(ppb.CreateProductRequest(
        product=ppb.Product(sku=f"HC-{uuid.uuid4().hex[:10].upper()}", name="净化器", unit="台",
                            list_price=common_pb2.Money(minor_units=20_000, currency_code="CNY"),
                            unit_cost=common_pb2.Money(minor_units=8_000, currency_code="CNY"), active=True)),
        metadata=as_(f"boss-http-com-{TAG}", "manager", team=TEAM))
    channel.close()
    return made.id


@pytest.fixture
def customer(client, phone):
    made = client.post("/api/v1/customers", json={"display_name": "张无忌", "phones": [phone()]}, headers=rep())
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def test_a_plan_a_receipt_and_the_reps_statement(client, spec, product, customer):
    plan_id = f"http-{TAG}"
    put = client.put(f"/api/v1/commission/plans/{plan_id}", json={
        "name": "毛利提成", "base": "margin", "currency_code": "CNY",
        "rates": [{"grade": "A", "rate_bp": 800}, {"grade": "B", "rate_bp": 400}]}, headers=ADMIN)
    _check(spec, put, "/api/v1/commission/plans/{plan_id}", "put")
    assert put.status_code == 200 and plan_id in [p["id"] for p in put.get_json()["plans"]]
    assigned = client.post("/api/v1/commission/assignments", json={
        "scope": f"rep:{REP}", "plan_id": plan_id, "from_month": "2020-01"}, headers=ADMIN)
    _check(spec, assigned, "/api/v1/commission/assignments", "post")
    assert {"scope": f"rep:{REP}", "plan_id": plan_id, "from_month": "2020-01"} in assigned.get_json()["assignments"]
    setup = client.get("/api/v1/commission/setup", headers=MANAGER)
    _check(spec, setup, "/api/v1/commission/setup", "get")

    made = client.post("/api/v1/orders", json={"customer_id": customer, "lines": [
        {"product": product, "quantity": 1}]}, headers=rep())
    order_id = made.get_json()["id"]
    assert client.post(f"/api/v1/orders/{order_id}/confirm", headers=rep()).status_code == 200
    deadline = time.monotonic() + 20
    while True:  # the plan follows order.confirmed
        paid = client.post("/api/v1/receipts", json={"order_id": order_id, "method": "alipay", "amount": cny(5_000)},
                           headers=FINANCE)
        if paid.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert paid.status_code == 201, paid.get_json()

    url = f"/api/v1/commission/statements/{REP}/{MONTH}"
    deadline = time.monotonic() + 20
    while True:  # commission follows payment.received
        got = client.get(url, headers=rep())
        if got.get_json()["lines"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    _check(spec, got, STATEMENT, "get")
    [own] = got.get_json()["lines"]
    assert (own["margin_grade"], own["base"], own["amount"]) == ("", None, cny(240))  # no cost figures for a rep
    got = client.get(url, headers=MANAGER)
    _check(spec, got, STATEMENT, "get")
    body = got.get_json()
    # margin 12,000 (60 %: grade A) at 8 %, a quarter paid: 240
    [line] = body["lines"]
    assert (line["order_id"], line["margin_grade"], line["base"], line["rate_bp"], line["amount"], line["kind"]) == (
        order_id, "A", cny(3_000), 800, cny(240), "receipt")
    assert body["totals"] == [cny(240)] and body["plan_id"] == plan_id and not body["closed"]
    team = client.get(f"/api/v1/commission/teams/{TEAM}/{MONTH}", headers=MANAGER)
    _check(spec, team, "/api/v1/commission/teams/{team_id}/{month}", "get")
    assert {"rep_id": REP, "totals": [cny(240)], "closed": False} in team.get_json()["reps"]
    other = client.get(url, headers=auth("rep-http-com-other", "rep", team=TEAM))
    assert other.status_code == 404 and other.mimetype == PROBLEM


def test_bad_input_and_the_close_of_a_month_not_ended(client, spec):
    assert client.put("/api/v1/commission/plans/x", json={"name": "x", "base": "profit", "currency_code": "CNY",
                                                          "rates": []}, headers=ADMIN).status_code == 422
    bad = client.put("/api/v1/commission/plans/Bad_Id", json={"name": "x", "base": "margin", "currency_code": "CNY",
                                                               "rates": [{"grade": "Z", "rate_bp": 1}]}, headers=ADMIN)
    assert bad.status_code == 422 and bad.mimetype == PROBLEM and "plan.id" in bad.get_json()["detail"]
    assert client.get(f"/api/v1/commission/statements/{REP}/2026-13", headers=FINANCE).status_code == 400
    closing = client.post(f"/api/v1/commission/months/{MONTH}/close", headers=FINANCE)
    assert closing.status_code == 409 and closing.mimetype == PROBLEM


def test_an_expense_recorded_by_the_rep_and_approved_by_the_manager(client, spec, customer):
    spent = (date.today() - timedelta(days=1)).isoformat()
    made = client.post("/api/v1/expenses", json={"category": "travel", "amount": cny(45_000), "spent_on": spent,
                                                 "customer_id": customer, "receipt_reference": "FP-2026-0088"},
                       headers=rep())
    _check(spec, made, "/api/v1/expenses", "post")
    body = made.get_json()
    assert made.status_code == 201 and body["state"] == "pending" and body["decided_at"] is None
    url = f"/api/v1/expenses/{body['id']}"
    etag = client.get(url, headers=rep()).headers["ETag"]
    change = {"category": "gift", "amount": cny(40_000), "spent_on": spent, "customer_id": customer}
    edited = client.put(url, json=change, headers={**rep(), "If-Match": etag})
    _check(spec, edited, "/api/v1/expenses/{expense_id}", "put")
    assert edited.get_json()["amount"] == cny(40_000) and edited.headers["ETag"] != etag
    stale = client.put(url, json=change, headers={**rep(), "If-Match": etag})
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    assert client.post(f"{url}/approve", json={}, headers=rep()).status_code == 403
    approved = client.post(f"{url}/approve", json={}, headers=MANAGER)
    _check(spec, approved, "/api/v1/expenses/{expense_id}/approve", "post")
    assert approved.get_json()["state"] == "approved" and approved.get_json()["decided_by"] == f"boss-http-com-{TAG}"
    again = client.post(f"{url}/reject", json={"reason": "重复"}, headers=FINANCE)
    assert again.status_code == 409 and again.mimetype == PROBLEM
    listed = client.get("/api/v1/expenses", query_string={"state": "approved"}, headers=rep())
    _check(spec, listed, "/api/v1/expenses", "get")
    assert body["id"] in [e["id"] for e in listed.get_json()["expenses"]]
    got = client.get(url, headers=MANAGER)
    _check(spec, got, "/api/v1/expenses/{expense_id}", "get")
    assert client.get(url, headers=auth("rep-http-com-other", "rep", team=TEAM)).status_code == 404
    for bad in ({"category": "yacht"}, {"amount": cny(0)}, {"spent_on": "2999-01-01"}, {"$where": "1"}):
        answer = client.post("/api/v1/expenses", json={"category": "travel", "amount": cny(100), "spent_on": spent,
                                                       **bad}, headers=rep())
        assert answer.status_code in (400, 422) and answer.mimetype == PROBLEM, bad
