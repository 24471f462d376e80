"""Orders through the gateway (Flask) over the real sales and customer
services: what a web or mobile front end sees, bad input included; every
answer checked against the OpenAPI document."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check
from tests.service.support import as_

PROBLEM = "application/problem+json"
TEAM = "team-http-orders"
ORDERS, ORDER = "/api/v1/orders", "/api/v1/orders/{order_id}"


def who(subject="rep-ho-a", role="rep", **kw):
    return auth(subject, role, team=kw.pop("team", TEAM), **kw)


@pytest.fixture(scope="module")
def catalogue(services):
    channel = grpc.insecure_channel(services.targets["sales"])
    stub = product_service_pb2_grpc.ProductServiceStub(channel)

    def add(price=5000, cost=2000, code="CNY") -> str:
        return stub.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
            sku=f"H-{uuid.uuid4().hex[:10].upper()}", name="滤芯", unit="个",
            list_price=common_pb2.Money(minor_units=price, currency_code=code),
            unit_cost=common_pb2.Money(minor_units=cost, currency_code=code), active=True)),
            metadata=as_("boss-ho", "manager", team=TEAM)).id
    yield add
    channel.close()


@pytest.fixture
def customer(client, phone):
    made = client.post("/api/v1/customers", json={"display_name": "周芷若", "phones": [phone()]}, headers=who())
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def cny(minor: int) -> dict:
    return {"minor_units": minor, "currency_code": "CNY"}


def test_an_order_from_draft_to_closed(client, spec, customer, catalogue):
    product = catalogue()
    made = client.post(ORDERS, json={"customer_id": customer, "lines": [
        {"product": product, "quantity": 2, "discount": cny(1000)}],
        "delivery": {"contact_name": "张三", "address": "杭州市西湖区"}}, headers=who())
    _check(spec, made, ORDERS, "post")
    body = made.get_json()
    assert made.status_code == 201 and body["state"] == "draft" and body["total"] == cny(9000)
    assert body["cost_total"] is None and body["lines"][0]["unit_cost"] is None  # a rep sees no costs
    url = f"{ORDERS}/{body['id']}"
    edited = client.put(url, json={"lines": [{"line_id": "ln1", "quantity": 3}], "delivery": {"address": "杭州"}},
                        headers=who())
    _check(spec, edited, ORDER, "put")
    assert edited.get_json()["total"] == cny(15000)
    confirmed = client.post(f"{url}/confirm", headers=who())
    _check(spec, confirmed, ORDER + "/confirm", "post")
    assert confirmed.get_json()["state"] == "confirmed"
    again = client.post(f"{url}/confirm", headers=who())
    _check(spec, again, ORDER + "/confirm", "post")
    assert again.status_code == 409 and again.mimetype == PROBLEM
    amended = client.post(f"{url}/amendments", json={"lines": [{"line_id": "ln1", "quantity": 4}],
                                                     "reason": "加一个"}, headers=who())
    _check(spec, amended, ORDER + "/amendments", "post")
    assert amended.get_json()["amendments"][0]["previous_total"] == cny(15000)
    shipped = client.post(f"{url}/shipments", json={"shipments": [
        {"line_id": "ln1", "quantity": 4, "carrier": "顺丰", "tracking_number": "SF1"}]}, headers=who())
    _check(spec, shipped, ORDER + "/shipments", "post")
    assert shipped.get_json()["state"] == "partially_delivered"
    delivered = client.post(f"{url}/deliveries", json={"line_ids": ["ln1"]}, headers=who())
    _check(spec, delivered, ORDER + "/deliveries", "post")
    assert delivered.get_json()["state"] == "delivered"
    closed = client.post(f"{url}/close", headers=who())
    _check(spec, closed, ORDER + "/close", "post")
    assert closed.get_json()["state"] == "closed"
    seen = client.get(url, headers=who("boss-ho", "manager"))
    _check(spec, seen, ORDER, "get")
    assert seen.get_json()["cost_total"] == cny(8000)  # a manager sees the cost as of the order
    listed = client.get(ORDERS, query_string={"customer_id": customer}, headers=who())
    _check(spec, listed, ORDERS, "get")
    assert [o["id"] for o in listed.get_json()["items"]] == [body["id"]]


@pytest.mark.parametrize("line, field", [
    ({"quantity": 0}, "lines.0.quantity"),
    ({"quantity": -2}, "lines.0.quantity"),
    ({"quantity": 1.5}, "lines.0.quantity"),
    ({"quantity": 1, "unit_price": {"minor_units": 99.5, "currency_code": "CNY"}}, "lines.0.unit_price.minor_units"),
    ({"quantity": 1, "unit_price": {"minor_units": "100", "currency_code": "CNY"}}, "lines.0.unit_price.minor_units"),
])
def test_bad_quantities_and_fractional_prices_are_refused(client, spec, customer, catalogue, line, field):
    product = catalogue()
    refused = client.post(ORDERS, json={"customer_id": customer, "lines": [{"product": product, **line}]},
                          headers=who())
    _check(spec, refused, ORDERS, "post")
    assert refused.status_code == 422 and field in {e["field"] for e in refused.get_json()["errors"]}
    assert client.get(ORDERS, query_string={"customer_id": customer}, headers=who()).get_json()["items"] == []


def test_mixed_currencies_a_discount_above_the_price_and_unknown_products_are_refused(client, spec, customer,
                                                                                       catalogue):
    yuan, dollars = catalogue(), catalogue(code="USD")
    cases = [
        ([{"product": yuan, "quantity": 1}, {"product": dollars, "quantity": 1}], "lines[1]"),
        ([{"product": yuan, "quantity": 1, "discount": cny(5001)}], "lines[0].discount"),
        ([{"product": "NO-SUCH-SKU", "quantity": 1}], "lines[0].product"),
    ]
    for lines, field in cases:
        refused = client.post(ORDERS, json={"customer_id": customer, "lines": lines}, headers=who())
        _check(spec, refused, ORDERS, "post")
        assert refused.status_code == 422 and [e["field"] for e in refused.get_json()["errors"]] == [field]
    assert client.get(ORDERS, query_string={"customer_id": customer}, headers=who()).get_json()["items"] == []


def test_an_unknown_customer_and_another_reps_customer_are_404(client, spec, customer, catalogue):
    product = catalogue()
    unknown = client.post(ORDERS, json={"customer_id": "cus_" + "z" * 24, "lines": []}, headers=who())
    _check(spec, unknown, ORDERS, "post")
    assert unknown.status_code == 404
    other = client.post(ORDERS, json={"customer_id": customer, "lines": [{"product": product, "quantity": 1}]},
                        headers=who("rep-ho-b"))
    assert other.status_code == 404
    mine = client.post(ORDERS, json={"customer_id": customer, "lines": [{"product": product, "quantity": 1}]},
                       headers=who()).get_json()
    hidden = client.get(f"{ORDERS}/{mine['id']}", headers=who("rep-ho-b"))
    _check(spec, hidden, ORDER, "get")
    assert hidden.status_code == 404
    assert client.post(f"{ORDERS}/{mine['id']}/confirm", headers=who("rep-ho-b")).status_code == 404


def test_an_idempotency_key_creates_one_order(client, customer, catalogue):
    product = catalogue()
    body = {"customer_id": customer, "lines": [{"product": product, "quantity": 1}]}
    headers = {**who(), "Idempotency-Key": f"order-{uuid.uuid4().hex}"}
    first = client.post(ORDERS, json=body, headers=headers)
    second = client.post(ORDERS, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    listed = client.get(ORDERS, query_string={"customer_id": customer}, headers=who()).get_json()["items"]
    assert [o["id"] for o in listed] == [first.get_json()["id"]]


def test_two_confirmations_at_once_one_409(app, customer, catalogue):
    product = catalogue()
    made = app.test_client().post(ORDERS, json={"customer_id": customer, "lines": [
        {"product": product, "quantity": 1}]}, headers=who()).get_json()

    def confirm(_i):
        return app.test_client().post(f"{ORDERS}/{made['id']}/confirm", headers=who()).status_code

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(confirm, range(2))) == [200, 409]


def test_shipping_more_than_ordered_is_refused(client, spec, customer, catalogue):
    product = catalogue()
    made = client.post(ORDERS, json={"customer_id": customer, "lines": [{"product": product, "quantity": 2}]},
                       headers=who()).get_json()
    url = f"{ORDERS}/{made['id']}"
    early = client.post(f"{url}/shipments", json={"shipments": [{"line_id": "ln1", "quantity": 1, "carrier": "SF"}]},
                        headers=who())
    assert early.status_code == 409  # a draft does not ship
    client.post(f"{url}/confirm", headers=who())
    refused = client.post(f"{url}/shipments", json={"shipments": [
        {"line_id": "ln1", "quantity": 3, "carrier": "SF"}]}, headers=who())
    _check(spec, refused, ORDER + "/shipments", "post")
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "shipments[0].quantity"
    assert client.get(url, headers=who()).get_json()["lines"][0]["shipped_quantity"] == 0
