"""Orders as a careless or hostile client sends them, through the gateway
over the real services: money that does not add up, lines and shipments
that do not exist, changes in the wrong state, callers without the right.
Each is a clear 4xx and the order is unchanged."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from tests.gateway.conftest import auth
from tests.service.support import as_

TEAM = f"team-atk-ord-{uuid.uuid4().hex[:6]}"
REP = f"rep-atk-ord-{uuid.uuid4().hex[:6]}"
PROBLEM = "application/problem+json"


def rep():
    return auth(REP, team=TEAM)


def cny(minor) -> dict:
    return {"minor_units": minor, "currency_code": "CNY"}


@pytest.fixture(scope="module")
def catalogue(services):
    channel = grpc.insecure_channel(services.targets["sales"])
    stub = product_service_pb2_grpc.ProductServiceStub(channel)

    def add(price=5000, cost=2000, code="CNY", active=True) -> str:
        return stub.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
            sku=f"ATK-O-{uuid.uuid4().hex[:10].upper()}", name="滤芯", unit="个",
            list_price=common_pb2.Money(minor_units=price, currency_code=code),
            unit_cost=common_pb2.Money(minor_units=cost, currency_code=code), active=active)),
            metadata=as_("boss-atk-ord", "manager", team=TEAM)).id
    yield add
    channel.close()


@pytest.fixture
def customer(client, phone):
    made = client.post("/api/v1/customers", json={"display_name": "周芷若", "phones": [phone()]}, headers=rep())
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def orders_of(client, customer_id: str) -> list:
    return client.get("/api/v1/orders", query_string={"customer_id": customer_id}, headers=rep()).get_json()["items"]


def test_lines_that_do_not_add_up_are_refused_and_write_nothing(client, customer, catalogue):
    cny_product, usd_product = catalogue(), catalogue(code="USD")
    retired = catalogue(active=False)
    bad_lines = [
        [{"product": cny_product, "quantity": 1, "discount": cny(5001)}],
        [{"product": cny_product, "quantity": 2, "unit_price": cny(100), "discount": cny(201)}],
        [{"product": cny_product, "quantity": 1}, {"product": usd_product, "quantity": 1}],
        [{"product": cny_product, "quantity": 1, "unit_price": {"minor_units": 100, "currency_code": "USD"}}],
        [{"product": cny_product, "quantity": 1, "discount": {"minor_units": 1, "currency_code": "USD"}}],
        [{"product": cny_product, "quantity": 0}], [{"product": cny_product, "quantity": -1}],
        [{"product": cny_product, "quantity": 1.5}], [{"product": cny_product, "quantity": "2"}],
        [{"product": cny_product, "quantity": 1_000_000, "unit_price": cny(10**15)}],
        [{"product": cny_product, "quantity": 1, "unit_price": cny(-1)}],
        [{"product": cny_product, "quantity": 1, "unit_price": {"minor_units": 100.5, "currency_code": "CNY"}}],
        [{"product": "prd_nope", "quantity": 1}], [{"product": retired, "quantity": 1}],
        [{"product": {"$gt": ""}, "quantity": 1}], [{"quantity": 1}], [{"line_id": "ln1", "quantity": 1}],
        [{"product": cny_product, "quantity": 1, "unit_cost": cny(1)}],
        [{"product": cny_product, "quantity": 1}] * 201,
    ]
    for lines in bad_lines:
        got = client.post("/api/v1/orders", json={"customer_id": customer, "lines": lines}, headers=rep())
        assert got.status_code in (400, 404, 409, 422) and got.mimetype == PROBLEM, (lines[:2], got.get_json())
    assert orders_of(client, customer) == []


def test_mass_assignment_of_order_fields_is_refused(client, customer, catalogue):
    product = catalogue()
    for extra in ({"state": "confirmed"}, {"number": "SO-2026-000001"}, {"total": cny(1)}, {"owner_id": "x"},
                  {"team_id": "x"}, {"id": "ord_chosen"}, {"cost_total": cny(0)}):
        got = client.post("/api/v1/orders", json={"customer_id": customer, "lines": [
            {"product": product, "quantity": 1}], **extra}, headers=rep())
        assert got.status_code in (400, 422), (extra, got.get_json())
    assert orders_of(client, customer) == []


@pytest.fixture
def confirmed(client, customer, catalogue):
    product = catalogue()
    made = client.post("/api/v1/orders", json={"customer_id": customer, "lines": [
        {"product": product, "quantity": 2}, {"product": product, "quantity": 1}],
        "delivery": {"contact_name": "张三", "address": "杭州"}}, headers=rep())
    assert made.status_code == 201, made.get_json()
    url = f"/api/v1/orders/{made.get_json()['id']}"
    assert client.post(f"{url}/confirm", headers=rep()).status_code == 200
    return url


def test_shipments_and_deliveries_that_do_not_fit_are_refused(client, confirmed):
    before = client.get(confirmed, headers=rep()).get_json()
    future = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    for body in ({"shipments": [{"line_id": "ln1", "quantity": 3, "carrier": "顺丰"}]},
                 {"shipments": [{"line_id": "ln9", "quantity": 1, "carrier": "顺丰"}]},
                 {"shipments": [{"line_id": "ln1", "quantity": 2, "carrier": "顺丰"},
                                {"line_id": "ln1", "quantity": 1, "carrier": "顺丰"}]},
                 {"shipments": [{"line_id": "ln1", "quantity": 1, "carrier": ""}]},
                 {"shipments": [{"line_id": "ln1", "quantity": 1, "carrier": "顺丰"}], "shipped_at": future},
                 {"shipments": [{"line_id": {"$ne": ""}, "quantity": 1, "carrier": "顺丰"}]}):
        got = client.post(f"{confirmed}/shipments", json=body, headers=rep())
        assert got.status_code in (400, 409, 422), (body, got.get_json())
    for line_ids in (["ln1"], ["ln9"], ["ln1", "ln1"]):
        got = client.post(f"{confirmed}/deliveries", json={"line_ids": line_ids}, headers=rep())
        assert got.status_code in (400, 409, 422), (line_ids, got.get_json())
    assert client.post(f"{confirmed}/close", headers=rep()).status_code == 409
    after = client.get(confirmed, headers=rep()).get_json()
    assert after["revision"] == before["revision"] and after["state"] == "confirmed"


def test_a_cancelled_order_changes_no_more(client, confirmed):
    assert client.post(f"{confirmed}/cancel", json={"reason": "客户取消"}, headers=rep()).status_code == 200
    before = client.get(confirmed, headers=rep()).get_json()
    for url, body in ((f"{confirmed}/amendments", {"lines": [{"line_id": "ln1", "quantity": 1}], "reason": "x"}),
                      (f"{confirmed}/shipments", {"shipments": [{"line_id": "ln1", "quantity": 1, "carrier": "x"}]}),
                      (f"{confirmed}/confirm", None), (f"{confirmed}/close", None)):
        got = client.post(url, json=body, headers=rep()) if body is not None else client.post(url, headers=rep())
        assert got.status_code == 409, (url, got.get_json())
    assert client.put(confirmed, json={"lines": []}, headers=rep()).status_code == 409
    after = client.get(confirmed, headers=rep()).get_json()
    assert after["revision"] == before["revision"] and after["state"] == "cancelled"


@pytest.mark.parametrize("headers", [auth("agent-atk-ord", "agent", team=""), auth("fin-atk-ord", "finance",
                                                                                   team="finance"),
                                     auth("svc-atk-ord", "integration", team="", scopes="sales:read customers:read")],
                         ids=["agent", "finance", "read-only-integration"])
def test_readers_do_not_sell_or_ship(client, confirmed, customer, catalogue, headers):
    assert client.get(confirmed, headers=headers).status_code == 200
    for url, body in ((f"{confirmed}/shipments", {"shipments": [{"line_id": "ln1", "quantity": 1, "carrier": "x"}]}),
                      (f"{confirmed}/cancel", {"reason": "x"}),
                      (f"{confirmed}/amendments", {"lines": [{"line_id": "ln1", "quantity": 9}], "reason": "x"})):
        assert client.post(url, json=body, headers=headers).status_code == 403, url
    assert client.post("/api/v1/orders", json={"customer_id": customer, "lines": [
        {"product": catalogue(), "quantity": 1}]}, headers=headers).status_code == 403
    assert client.get(confirmed, headers=rep()).get_json()["state"] == "confirmed"
