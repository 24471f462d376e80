"""The 360 card's sales section over the real customer and sales services:
what a person picking up the phone needs about orders, money and contracts,
with costs only for those who may see them, and the rest of the card still
answering when the sales service is down."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm_gateway.app import create_app
from crm_kit.localstores import free_port
from tests.gateway.conftest import auth, gateway_settings
from tests.gateway.test_openapi import _check
from tests.service.support import as_
from tests.conftest import business_today

CARD = "/api/v1/customers/360"
TEAM = f"team-card-sales-{uuid.uuid4().hex[:6]}"
REP = auth("rep-card-sales", team=TEAM)
MANAGER = auth("boss-card-sales", "manager", team=TEAM)
FINANCE = auth("fin-card-sales", "finance", team="finance")


def cny(minor: int) -> dict:
    return {"minor_units": minor, "currency_code": "CNY"}


@pytest.fixture(scope="module")
def product(services):
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        return product_service_pb2_grpc.ProductServiceStub(channel).CreateProduct(ppb.CreateProductRequest(
            product=ppb.Product(sku=f"CARD-{uuid.uuid4().hex[:8].upper()}", name="净水器", unit="台", active=True,
                                list_price=common_pb2.Money(minor_units=100_00, currency_code="CNY"),
                                unit_cost=common_pb2.Money(minor_units=60_00, currency_code="CNY"))),
            metadata=as_("boss-card-sales", "manager", team=TEAM)).id


@pytest.fixture(scope="module")
def customer(app, product):
    """A customer with a confirmed order, half shipped and partly paid, and a
    signed contract ending in 20 days whose only instalment is long overdue."""
    today = business_today()
    client = app.test_client()
    made = client.post("/api/v1/customers", headers=REP,
                       json={"display_name": "李雷", "phones": [f"+86136{uuid.uuid4().int % 10**8:08d}"]})
    assert made.status_code == 201, made.get_json()
    cid = made.get_json()["id"]
    order = client.post("/api/v1/orders", headers=REP, json={"customer_id": cid, "lines": [
        {"product": product, "quantity": 2}, {"product": product, "quantity": 1}]})
    assert order.status_code == 201, order.get_json()
    oid = order.get_json()["id"]
    assert client.post(f"/api/v1/orders/{oid}/confirm", headers=REP).status_code == 200
    shipped = client.post(f"/api/v1/orders/{oid}/shipments", headers=REP, json={"shipments": [
        {"line_id": "ln1", "quantity": 2, "carrier": "顺丰", "tracking_number": "SF1001"}]})
    assert shipped.status_code == 200, shipped.get_json()
    paid = client.post("/api/v1/receipts", headers=FINANCE,
                       json={"order_id": oid, "method": "alipay", "amount": cny(50_00)})
    assert paid.status_code == 201, paid.get_json()
    contract = client.post("/api/v1/contracts", headers=REP, json={
        "customer_id": cid, "title": "年度维保", "start_date": (today - dt.timedelta(days=345)).isoformat(),
        "end_date": (today + dt.timedelta(days=20)).isoformat(), "value": cny(1200_00)})
    assert contract.status_code == 201, contract.get_json()
    kid = contract.get_json()["id"]
    assert client.post(f"/api/v1/contracts/{kid}/sign", headers=REP).status_code == 200
    return {"id": cid, "order": oid, "contract": kid}


def card(client, cid, headers):
    resp = client.get(CARD, query_string={"id": cid}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp


def test_the_card_shows_open_orders_with_delivery_money_owed_and_ending_contracts(client, spec, customer):
    resp = card(client, customer["id"], REP)
    _check(spec, resp, CARD, "get")
    body = resp.get_json()
    assert body["missing"] == []
    sales = body["sales"]
    [order] = sales["open_orders"]
    assert order["id"] == customer["order"] and order["state"] == "partially_delivered"
    assert [(ln["quantity"], ln["shipped_quantity"], ln["tracking_number"]) for ln in order["lines"]] == \
        [(2, 2, "SF1001"), (1, 0, "")]
    assert sales["last_order"]["id"] == customer["order"] and sales["more_open_orders"] is False
    [owed] = sales["receivables"]
    # The order (300.00 less 50.00 paid) is due in the payment terms; the contract's 1,200.00 long overdue.
    assert owed["currency_code"] == "CNY"
    assert owed["outstanding"] == cny(250_00 + 1200_00) and owed["overdue"] == cny(1200_00)
    assert owed["not_yet_due"] == cny(250_00) and owed["over_90"] == cny(1200_00)
    assert [c["id"] for c in sales["ending_contracts"]] == [customer["contract"]]


def test_costs_on_the_card_only_for_managers_finance_and_admins(client, customer):
    rep_order = card(client, customer["id"], REP).get_json()["sales"]["open_orders"][0]
    assert rep_order["cost_total"] is None and rep_order["lines"][0]["unit_cost"] is None
    manager_order = card(client, customer["id"], MANAGER).get_json()["sales"]["open_orders"][0]
    assert manager_order["cost_total"] == cny(3 * 60_00) and manager_order["lines"][0]["unit_cost"] == cny(60_00)
    agent = card(client, customer["id"], auth("agent-card-sales", "agent")).get_json()
    assert agent["sales"]["open_orders"][0]["cost_total"] is None  # agents answer calls about orders, not margins


def test_an_integration_without_the_sales_scope_gets_the_section_named(client, customer):
    body = card(client, customer["id"], auth("erp", "integration", team="", scopes="customers:read")).get_json()
    assert {"section": "sales", "service": "sales", "reason": "not_permitted"} in body["missing"]
    assert "sales" not in body


def test_sales_down_names_its_section_and_the_rest_answers(services, stores, customer):
    dead = {**services.targets, "sales": f"127.0.0.1:{free_port()}"}
    settings = dataclasses.replace(gateway_settings(dead, stores.redis_url), card_budget_seconds=0.5)
    body = card(create_app(settings).test_client(), customer["id"], REP).get_json()
    assert body["missing"] == [{"section": "sales", "service": "sales", "reason": "unavailable"}]
    assert body["profile"]["id"] == customer["id"] and "last_told" in body and "sales" not in body


def test_a_newer_draft_is_open_but_the_last_order_is_the_last_one_placed(app, product):
    client = app.test_client()
    made = client.post("/api/v1/customers", headers=REP,
                       json={"display_name": "韩梅梅", "phones": [f"+86135{uuid.uuid4().int % 10**8:08d}"]})
    cid = made.get_json()["id"]
    placed = client.post("/api/v1/orders", headers=REP, json={"customer_id": cid, "lines": [
        {"product": product, "quantity": 1}]}).get_json()["id"]
    assert client.post(f"/api/v1/orders/{placed}/confirm", headers=REP).status_code == 200
    draft = client.post("/api/v1/orders", headers=REP, json={"customer_id": cid, "lines": [
        {"product": product, "quantity": 2}]}).get_json()["id"]
    sales = card(client, cid, REP).get_json()["sales"]
    assert [o["id"] for o in sales["open_orders"]] == [placed, draft]  # oldest first
    assert sales["last_order"]["id"] == placed


def test_a_customer_with_only_a_contract_shows_it_and_one_with_nothing_shows_an_empty_section(client, services):
    """The card skips the sales books of a customer without a presence mark
    (once the sales service has backfilled the marks, at its start): each
    feature marks its customer first, so a contract alone is enough to be read."""
    today = business_today()
    ids = [client.post("/api/v1/customers", headers=REP, json={
        "display_name": name, "phones": [f"+86137{uuid.uuid4().int % 10**8:08d}"]}).get_json()["id"]
        for name in ("王芳", "张伟")]
    contract = client.post("/api/v1/contracts", headers=REP, json={
        "customer_id": ids[0], "title": "安装服务", "start_date": (today - dt.timedelta(days=300)).isoformat(),
        "end_date": (today + dt.timedelta(days=10)).isoformat(), "value": cny(800_00)})
    assert contract.status_code == 201, contract.get_json()
    assert client.post(f"/api/v1/contracts/{contract.get_json()['id']}/sign", headers=REP).status_code == 200
    with_contract, bare = (card(client, cid, REP).get_json()["sales"] for cid in ids)
    assert [c["id"] for c in with_contract["ending_contracts"]] == [contract.get_json()["id"]]
    assert with_contract["receivables"][0]["outstanding"] == cny(800_00)  # its plan, from the payments book
    assert bare == {**bare, "open_orders": [], "receivables": [], "ending_contracts": [], "more_open_orders": False}
    assert bare.get("last_order") is None
    from pymongo import MongoClient

    with MongoClient(services.mongodb_uri) as mongo:
        marks = mongo[services.sales_db_name]["sales_customers"]
        assert marks.find_one({"_id": ids[0]}) is not None and marks.find_one({"_id": ids[1]}) is None


def test_a_rep_learns_nothing_of_a_pool_customers_sales_with_or_without_them(client):
    """Released to the pool, a customer's sales are not the former owner's
    to read: the section is refused alike whether there are any or not."""
    today = business_today()
    ids = [client.post("/api/v1/customers", headers=REP, json={
        "display_name": name, "phones": [f"+86139{uuid.uuid4().int % 10**8:08d}"]}).get_json()["id"]
        for name in ("赵敏", "周芷若")]
    contract = client.post("/api/v1/contracts", headers=REP, json={
        "customer_id": ids[0], "title": "巡检", "start_date": today.isoformat(),
        "end_date": (today + dt.timedelta(days=200)).isoformat(), "value": cny(300_00)})
    assert contract.status_code == 201, contract.get_json()
    for cid in ids:
        released = client.post(f"/api/v1/customers/{cid}/release", json={"reason": "客户暂无需求"}, headers=REP)
        assert released.status_code == 200, released.get_json()
    for cid in ids:
        body = card(client, cid, REP).get_json()
        assert {"section": "sales", "service": "sales", "reason": "not_permitted"} in body["missing"], body
        assert "sales" not in body
