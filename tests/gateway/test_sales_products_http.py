"""The product catalogue through the gateway (Flask) over the real sales
service: what a pricing screen and a rep's quote screen see, bad input
included; every answer checked against the OpenAPI document."""

from __future__ import annotations

import uuid

from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check

PROBLEM = "application/problem+json"
TEAM = "team-http-products"
PRODUCTS, PRODUCT = "/api/v1/products", "/api/v1/products/{product_id}"
MANAGER = auth("boss-hp", "manager", team=TEAM)
REP = auth("rep-hp", "rep", team=TEAM)
FINANCE = auth("fin-hp", "finance", team=TEAM)


def cny(minor: int) -> dict:
    return {"minor_units": minor, "currency_code": "CNY"}


def new_product(client, price=10000, cost=5000, **fields):
    body = {"sku": f"HP-{uuid.uuid4().hex[:10]}", "name": "净水器 A1", "unit": "台", "list_price": cny(price),
            "unit_cost": cny(cost), **fields}
    return client.post(PRODUCTS, json=body, headers=MANAGER)


def test_a_product_is_added_read_changed_and_its_grade_history_kept(client, spec):
    made = new_product(client)
    _check(spec, made, PRODUCTS, "post")
    body = made.get_json()
    assert made.status_code == 201 and made.headers["ETag"] == '"1"'
    assert body["sku"] == body["sku"].upper() and body["margin"] == cny(5000)
    assert (body["margin_rate_bp"], body["grade"]) == (5000, "A")
    url = f"{PRODUCTS}/{body['id']}"
    changed = client.patch(url, json={"list_price": cny(6000)}, headers={**MANAGER, "If-Match": '"1"'})
    _check(spec, changed, PRODUCT, "patch")
    assert changed.get_json()["grade"] == "C" and changed.headers["ETag"] == '"2"'  # 16.66 %
    stale = client.patch(url, json={"name": "旧的"}, headers={**MANAGER, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    _check(spec, stale, PRODUCT, "patch")
    history = client.get(f"{url}/grade-history", headers=FINANCE)
    _check(spec, history, PRODUCT + "/grade-history", "get")
    assert [(c["revision"], c["grade"]) for c in history.get_json()["items"]] == [(1, "A"), (2, "C")]
    assert client.get(f"{url}/grade-history", headers=REP).status_code == 403


def test_a_rep_sees_the_price_without_cost_margin_or_grade(client, spec):
    made = new_product(client).get_json()
    seen = client.get(f"{PRODUCTS}/{made['id']}", headers=REP)
    _check(spec, seen, PRODUCT, "get")
    body = seen.get_json()
    assert body["list_price"] == cny(10000)
    assert body["unit_cost"] is body["margin"] is body["margin_rate_bp"] is body["grade"] is None
    page = client.get(PRODUCTS, query_string={"active": "true", "page_size": 200}, headers=REP)
    _check(spec, page, PRODUCTS, "get")
    assert all(p["unit_cost"] is None for p in page.get_json()["items"])
    assert client.get(PRODUCTS, query_string={"grade": "A"}, headers=REP).status_code == 403


def test_bad_input_is_a_problem_naming_the_field(client, spec):
    cases = [({"list_price": {"minor_units": -1, "currency_code": "CNY"}}, 422),
             ({"list_price": {"minor_units": 10.5, "currency_code": "CNY"}}, 422),
             ({"unit_cost": {"minor_units": 10, "currency_code": "USD"}}, 422),
             ({"list_price": cny(1), "unit_cost": {"minor_units": 1, "currency_code": "QQQ"}}, 422),
             ({"sku": ""}, 422), ({"sku": "有空 格"}, 422)]
    for override, status in cases:
        resp = new_product(client, **override)
        assert resp.status_code == status and resp.mimetype == PROBLEM, (override, resp.get_json())
        _check(spec, resp, PRODUCTS, "post")
        assert resp.get_json()["errors"], override
    made = new_product(client).get_json()
    again = client.post(PRODUCTS, json={"sku": made["sku"].lower(), "name": "重复", "list_price": cny(1),
                                        "unit_cost": cny(1)}, headers=MANAGER)
    assert again.status_code == 409
    _check(spec, again, PRODUCTS, "post")
    assert client.post(PRODUCTS, json={"sku": "X-1", "name": "x", "list_price": cny(1), "unit_cost": cny(1)},
                       headers=REP).status_code == 403
    assert client.patch(f"{PRODUCTS}/{made['id']}", json={"name": "x"},
                        headers={**MANAGER, "If-Match": "W/\"abc\""}).status_code == 400
    missing = client.get(f"{PRODUCTS}/prd_000000000000000000000000", headers=REP)
    assert missing.status_code == 404
    _check(spec, missing, PRODUCT, "get")
