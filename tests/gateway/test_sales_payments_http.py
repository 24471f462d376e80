"""Payment plans through the gateway (Flask) over real gRPC services: what
finance's screens see, each answer checked against the served OpenAPI."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from crm_kit.money import Money
from crm_sales.payments.model import Debt
from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check
from tests.conftest import business_today

PROBLEM = "application/problem+json"
TEAM = f"team-http-pay-{uuid.uuid4().hex[:6]}"
REP = f"rep-http-pay-{uuid.uuid4().hex[:6]}"
FINANCE = auth("fin-http", "finance", team="finance")


@pytest.fixture
def order(client, phone, services):
    """A made-up confirmed order of a fresh customer of REP's, with its plan."""
    def make(total: int = 1000, starts_on=None) -> str:
        starts_on = starts_on or business_today()
        made = client.post("/api/v1/customers", json={"display_name": "赵敏", "phones": [phone()]},
                           headers=auth(REP, team=TEAM))
        assert made.status_code == 201, made.get_json()
        order_id = f"ord_http{uuid.uuid4().hex[:16]}"
        services.hosts["sales"].app.features["payments"].ensure_plan(Debt(
            "order", order_id, made.get_json()["id"], REP, TEAM, Money(total, "CNY"), starts_on))
        return order_id
    return make


def cny(minor: int) -> dict:
    return {"minor_units": minor, "currency_code": "CNY"}


def test_split_pay_refund_and_void_through_the_gateway(client, order, spec):
    today = business_today()
    order_id = order(1000, today)
    plan_url = f"/api/v1/orders/{order_id}/payment-plan"
    got = client.get(plan_url, headers=auth(REP, team=TEAM))
    _check(spec, got, "/api/v1/orders/{order_id}/payment-plan", "get")
    assert got.status_code == 200 and got.get_json()["balance"] == cny(1000)

    due = [(today + timedelta(days=n)).isoformat() for n in (0, 30)]
    bad = client.put(plan_url, json={"instalments": [{"due_date": due[0], "amount": cny(400)}]}, headers=FINANCE)
    assert bad.status_code == 422 and bad.mimetype == PROBLEM
    assert "off by -600" in bad.get_json()["detail"]
    split = client.put(plan_url, json={"instalments": [{"due_date": due[0], "amount": cny(400)},
                                                       {"due_date": due[1], "amount": cny(600)}]}, headers=FINANCE)
    _check(spec, split, "/api/v1/orders/{order_id}/payment-plan", "put")
    assert [i["amount"]["minor_units"] for i in split.get_json()["instalments"]] == [400, 600]

    paid = client.post("/api/v1/receipts", json={"order_id": order_id, "method": "wechat_pay", "amount": cny(700),
                                                 "reference": "WX-8812"},
                       headers={**FINANCE, "Idempotency-Key": f"k-{order_id}"})
    _check(spec, paid, "/api/v1/receipts", "post")
    assert paid.status_code == 201
    body = paid.get_json()
    assert [i["paid"]["minor_units"] for i in body["plan"]["instalments"]] == [400, 300]

    over = client.post("/api/v1/receipts", json={"order_id": order_id, "method": "cash", "amount": cny(400)},
                       headers=FINANCE)
    _check(spec, over, "/api/v1/receipts", "post")
    assert over.status_code == 409 and "by 100 CNY minor units" in over.get_json()["detail"]

    rid = body["receipt"]["id"]
    too_much = client.post(f"/api/v1/receipts/{rid}/refunds", json={"amount": cny(701)}, headers=FINANCE)
    assert too_much.status_code == 409
    refunded = client.post(f"/api/v1/receipts/{rid}/refunds", json={"amount": cny(200), "reason": "退货"},
                           headers=FINANCE)
    _check(spec, refunded, "/api/v1/receipts/{receipt_id}/refunds", "post")
    assert refunded.get_json()["plan"]["balance"] == cny(500)
    voided = client.post(f"/api/v1/receipts/{rid}/void", json={"reason": "录错了"}, headers=FINANCE)
    _check(spec, voided, "/api/v1/receipts/{receipt_id}/void", "post")
    assert voided.get_json()["refund"]["void"] and voided.get_json()["plan"]["collected"] == cny(0)


def test_allocating_a_receipt_beyond_its_remainder_is_409(client, order, spec):
    order_id = order(1000)
    paid = client.post("/api/v1/receipts", json={
        "order_id": order_id, "method": "bank_transfer", "amount": cny(300),
        "allocations": [{"instalment": 1, "minor_units": 100}]}, headers=FINANCE).get_json()
    rid = paid["receipt"]["id"]
    once = client.post(f"/api/v1/receipts/{rid}/allocations",
                       json={"allocations": [{"instalment": 1, "minor_units": 200}]}, headers=FINANCE)
    _check(spec, once, "/api/v1/receipts/{receipt_id}/allocations", "post")
    assert once.status_code == 200
    twice = client.post(f"/api/v1/receipts/{rid}/allocations",
                        json={"allocations": [{"instalment": 1, "minor_units": 200}]}, headers=FINANCE)
    assert twice.status_code == 409 and twice.mimetype == PROBLEM


def test_ageing_for_a_reps_own_book_and_not_anothers(client, order, spec):
    today = business_today()
    order(900, today - timedelta(days=45))  # due 15 days ago
    deadline = time.monotonic() + 20  # the rep's summary follows the plan within the event lag
    while True:
        mine = client.get("/api/v1/receivables/ageing", headers=auth(REP, team=TEAM))
        if mine.get_json()["currencies"] and mine.get_json()["currencies"][0]["days_1_30"]["minor_units"] >= 900 \
                or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    _check(spec, mine, "/api/v1/receivables/ageing", "get")
    (cur,) = mine.get_json()["currencies"]
    assert cur["days_1_30"]["minor_units"] >= 900
    assert sum(cur[b]["minor_units"] for b in ("not_yet_due", "days_1_30", "days_31_60", "days_61_90", "over_90")) \
        == cur["outstanding"]["minor_units"]
    theirs = client.get(f"/api/v1/receivables/ageing?rep_id={REP}", headers=auth("rep-http-pay-other", team=TEAM))
    _check(spec, theirs, "/api/v1/receivables/ageing", "get")
    assert theirs.status_code == 403
    as_of = client.get(f"/api/v1/receivables/ageing?rep_id={REP}&as_of=2000-01-01", headers=FINANCE)
    assert as_of.status_code == 200 and as_of.get_json()["currencies"][0]["outstanding"]["minor_units"] == 0


def test_an_agent_cannot_record_money(client, order):
    order_id = order(100)
    refused = client.post("/api/v1/receipts", json={"order_id": order_id, "method": "cash", "amount": cny(100)},
                          headers=auth("agent-http", "agent", team=TEAM))
    assert refused.status_code == 403
