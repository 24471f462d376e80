"""Receipts, refunds and voids as a careless or hostile client sends them,
through the gateway over the real services: ids of the wrong kind, the
wrong currency, allocations that do not fit, a double void, racing refunds,
callers without the right. Each is a clear 4xx and the plan is unchanged."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from crm_kit.money import Money
from crm_sales.payments.model import Debt
from tests.gateway.conftest import auth
from tests.conftest import business_today

TEAM = f"team-atk-pay-{uuid.uuid4().hex[:6]}"
REP = f"rep-atk-pay-{uuid.uuid4().hex[:6]}"
FINANCE = auth("fin-atk", "finance", team="finance")


def cny(minor) -> dict:
    return {"minor_units": minor, "currency_code": "CNY"}


@pytest.fixture
def order(client, phone, services):
    """A confirmed order (made up) of a fresh customer of REP's, with a plan of one instalment."""
    today = business_today()

    def make(total: int = 1000) -> tuple[str, str]:
        made = client.post("/api/v1/customers", json={"display_name": "赵敏", "phones": [phone()]},
                           headers=auth(REP, team=TEAM))
        assert made.status_code == 201, made.get_json()
        order_id = f"ord_atk{uuid.uuid4().hex[:16]}"
        services.hosts["sales"].app.features["payments"].ensure_plan(Debt(
            "order", order_id, made.get_json()["id"], REP, TEAM, Money(total, "CNY"), today))
        return order_id, made.get_json()["id"]
    return make


def plan(client, order_id: str) -> dict:
    got = client.get(f"/api/v1/orders/{order_id}/payment-plan", headers=FINANCE)
    assert got.status_code == 200, got.get_json()
    return got.get_json()


def receipt(client, order_id: str, amount: int, **extra):
    return client.post("/api/v1/receipts", json={"order_id": order_id, "method": "bank_transfer",
                                                 "amount": cny(amount), **extra}, headers=FINANCE)


def test_receipts_naming_the_wrong_thing_are_refused_and_write_nothing(client, order):
    today = business_today()
    order_id, customer_id = order(1000)
    before = plan(client, order_id)
    for body in ({"order_id": customer_id}, {"contract_id": order_id}, {"order_id": "con_xxxxxxxxxxxxxxxxxxxxxxxx"},
                 {"order_id": order_id, "contract_id": "con_x"}, {}, {"order_id": {"$ne": ""}},
                 {"order_id": order_id, "amount": {"minor_units": 100, "currency_code": "USD"}},
                 {"order_id": order_id, "amount": cny(0)}, {"order_id": order_id, "amount": cny(-5)},
                 {"order_id": order_id, "amount": cny(10**15 + 1)}, {"order_id": order_id, "amount": cny(1.5)},
                 {"order_id": order_id, "received_date": (today + timedelta(days=2)).isoformat()},
                 {"order_id": order_id, "allocations": [{"instalment": 9, "minor_units": 100}]},
                 {"order_id": order_id, "allocations": [{"instalment": 1, "minor_units": 600}]},
                 {"order_id": order_id, "method": "bitcoin"}):
        sent = {"method": "cash", "amount": cny(500), **body}
        got = client.post("/api/v1/receipts", json=sent, headers=FINANCE)
        assert got.status_code in (400, 404, 409, 422), (body, got.status_code, got.get_json())
    after = plan(client, order_id)
    assert after["collected"] == cny(0) and after["revision"] == before["revision"]


def test_the_same_instalment_twice_in_one_allocation_does_not_overpay_it(client, order):
    today = business_today()
    order_id, _ = order(1000)
    split = client.put(f"/api/v1/orders/{order_id}/payment-plan", json={"instalments": [
        {"due_date": today.isoformat(), "amount": cny(400)},
        {"due_date": (today + timedelta(days=30)).isoformat(), "amount": cny(600)}]}, headers=FINANCE)
    assert split.status_code == 200, split.get_json()
    got = receipt(client, order_id, 800, allocations=[{"instalment": 1, "minor_units": 400},
                                                      {"instalment": 1, "minor_units": 400}])
    assert got.status_code in (409, 422), got.get_json()
    first = plan(client, order_id)["instalments"][0]
    assert first["paid"] == cny(0)


def test_a_void_twice_and_a_refund_after_a_void_change_nothing_more(client, order):
    order_id, _ = order(1000)
    rid = receipt(client, order_id, 700).get_json()["receipt"]["id"]
    assert client.post(f"/api/v1/receipts/{rid}/void", json={"reason": "录错"}, headers=FINANCE).status_code == 201
    again = client.post(f"/api/v1/receipts/{rid}/void", json={"reason": "录错"}, headers=FINANCE)
    assert again.status_code in (200, 201, 409), again.get_json()
    refund = client.post(f"/api/v1/receipts/{rid}/refunds", json={"amount": cny(1)}, headers=FINANCE)
    assert refund.status_code == 409, refund.get_json()
    after = plan(client, order_id)
    assert after["collected"] == cny(0) and after["balance"] == cny(1000)
    (only,) = after["receipts"]
    assert only["net"] == cny(0) and len(only["refunds"]) == 1


def test_racing_refunds_never_pay_back_more_than_was_received(client, order, app):
    order_id, _ = order(1000)
    rid = receipt(client, order_id, 1000).get_json()["receipt"]["id"]

    def refund(i):
        return app.test_client().post(f"/api/v1/receipts/{rid}/refunds", json={"amount": cny(600)},
                                      headers=FINANCE).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(refund, range(4)))
    assert sorted(codes) == [201, 409, 409, 409] or sorted(codes) == [200, 409, 409, 409], codes
    after = plan(client, order_id)
    assert after["collected"] == cny(400) and after["balance"] == cny(600)


def test_refunds_beyond_the_receipt_and_odd_amounts_are_refused(client, order):
    today = business_today()
    order_id, _ = order(1000)
    rid = receipt(client, order_id, 500).get_json()["receipt"]["id"]
    for amount in (cny(501), cny(0), cny(-1), {"minor_units": 100, "currency_code": "USD"}, cny(10**16)):
        got = client.post(f"/api/v1/receipts/{rid}/refunds", json={"amount": amount}, headers=FINANCE)
        assert got.status_code in (409, 422), (amount, got.get_json())
    future = client.post(f"/api/v1/receipts/{rid}/refunds", json={
        "amount": cny(1), "refund_date": (today + timedelta(days=3)).isoformat()}, headers=FINANCE)
    assert future.status_code == 422, future.get_json()
    assert plan(client, order_id)["collected"] == cny(500)
    for url in ("/api/v1/receipts/rcp_nope/refunds", f"/api/v1/receipts/{order_id}/refunds"):
        assert client.post(url, json={"amount": cny(1)}, headers=FINANCE).status_code == 404


@pytest.mark.parametrize("headers", [
    auth(REP, team=TEAM), auth(f"boss-{TEAM}", "manager", team=TEAM), auth("agent-atk-pay", "agent", team=""),
    auth("svc-atk-pay", "integration", team="", scopes="sales:read sales:write customers:read"),
], ids=["owner-rep", "team-manager", "agent", "integration-without-money"])
def test_only_finance_admins_and_money_integrations_record_money(client, order, headers):
    order_id, _ = order(1000)
    rid = receipt(client, order_id, 500).get_json()["receipt"]["id"]
    assert client.post("/api/v1/receipts", json={"order_id": order_id, "method": "cash", "amount": cny(1)},
                       headers=headers).status_code == 403
    assert client.post(f"/api/v1/receipts/{rid}/refunds", json={"amount": cny(1)}, headers=headers
                       ).status_code in (403, 404)
    assert client.post(f"/api/v1/receipts/{rid}/void", json={}, headers=headers).status_code in (403, 404)
    assert plan(client, order_id)["collected"] == cny(500)


def test_another_teams_manager_and_rep_cannot_see_or_replace_a_plan(client, order):
    today = business_today()
    order_id, _ = order(1000)
    for headers in (auth("rep-atk-pay-x", team=TEAM), auth("boss-atk-x", "manager", team="team-atk-pay-x")):
        assert client.get(f"/api/v1/orders/{order_id}/payment-plan", headers=headers).status_code == 404
        replaced = client.put(f"/api/v1/orders/{order_id}/payment-plan", json={"instalments": [
            {"due_date": today.isoformat(), "amount": cny(1000)}]}, headers=headers)
        assert replaced.status_code in (403, 404), replaced.get_json()


def test_allocating_to_an_instalment_that_does_not_exist_or_beyond_the_receipt_is_refused(client, order):
    order_id, _ = order(1000)
    rid = receipt(client, order_id, 300, allocations=[{"instalment": 1, "minor_units": 100}]).get_json()
    rid = rid["receipt"]["id"]
    for allocations in ([{"instalment": 2, "minor_units": 100}], [{"instalment": 1, "minor_units": 201}],
                        [{"instalment": 1, "minor_units": 150}, {"instalment": 1, "minor_units": 100}],
                        [{"instalment": 0, "minor_units": 1}], [{"instalment": 1, "minor_units": 0}],
                        [{"instalment": "1", "minor_units": 1}], [{"instalment": 1, "minor_units": {"$gt": 0}}]):
        got = client.post(f"/api/v1/receipts/{rid}/allocations", json={"allocations": allocations}, headers=FINANCE)
        assert got.status_code in (400, 409, 422), (allocations, got.get_json())
    (only,) = plan(client, order_id)["receipts"]
    assert only["unallocated"] == cny(200)


def test_a_cancelled_orders_plan_takes_no_money(client, phone):
    made = client.post("/api/v1/customers", json={"display_name": "赵敏", "phones": [phone()]},
                       headers=auth(REP, team=TEAM))
    customer_id = made.get_json()["id"]
    prd = client.post("/api/v1/products", json={"sku": f"ATK-P-{uuid.uuid4().hex[:8].upper()}", "name": "x",
                                                "list_price": cny(1000), "unit_cost": cny(1)},
                      headers=auth(f"boss-{TEAM}", "manager", team=TEAM)).get_json()
    ordered = client.post("/api/v1/orders", json={"customer_id": customer_id, "lines": [
        {"product": prd["id"], "quantity": 1}]}, headers=auth(REP, team=TEAM)).get_json()
    url = f"/api/v1/orders/{ordered['id']}"
    assert client.post(f"{url}/confirm", headers=auth(REP, team=TEAM)).status_code == 200
    deadline = time.monotonic() + 20  # the plan is opened from order.confirmed
    while client.get(f"{url}/payment-plan", headers=FINANCE).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.post(f"{url}/cancel", json={"reason": "客户取消"}, headers=auth(REP, team=TEAM)).status_code == 200
    deadline = time.monotonic() + 20
    while not client.get(f"{url}/payment-plan", headers=FINANCE).get_json()["cancelled"] and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    paid = receipt(client, ordered["id"], 500)
    assert paid.status_code == 409, paid.get_json()
    assert plan(client, ordered["id"])["collected"] == cny(0)
