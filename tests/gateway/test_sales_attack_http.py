"""The sales routes as an attacker or a careless client uses them, through
the gateway over the real services: other reps' and teams' records by id,
by customer and by book; ids of another kind; costs where they must not
show; odd bodies and query parameters. Each answer is a clear 4xx (never a
500) and nothing leaks or is written."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from tests.gateway.conftest import auth
from tests.service.support import as_
from tests.conftest import business_today

TEAM, OTHER_TEAM = f"team-atk-{uuid.uuid4().hex[:6]}", f"team-atk-x-{uuid.uuid4().hex[:6]}"
REP_A, REP_B, REP_C = (f"rep-atk-{n}-{uuid.uuid4().hex[:4]}" for n in "abc")  # A, B in TEAM; C in OTHER_TEAM
PROBLEM = "application/problem+json"
COST_KEYS = ("unit_cost", "cost_total", "margin", "margin_rate_bp", "grade", "margin_total")


def rep_a():
    return auth(REP_A, team=TEAM)


def rep_b():
    return auth(REP_B, team=TEAM)


def rep_c():
    return auth(REP_C, team=OTHER_TEAM)


def manager(team=TEAM):
    return auth(f"boss-{team}", "manager", team=team)


def today() -> dt.date:
    return business_today()


def cny(minor) -> dict:
    return {"minor_units": minor, "currency_code": "CNY"}


@pytest.fixture(scope="module")
def product(services):
    channel = grpc.insecure_channel(services.targets["sales"])
    stub = product_service_pb2_grpc.ProductServiceStub(channel)
    made = stub.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
        sku=f"ATK-{uuid.uuid4().hex[:10].upper()}", name="滤芯", unit="个",
        list_price=common_pb2.Money(minor_units=5000, currency_code="CNY"),
        unit_cost=common_pb2.Money(minor_units=2000, currency_code="CNY"), active=True)),
        metadata=as_("boss-atk", "manager", team=TEAM))
    yield made.id
    channel.close()


@pytest.fixture
def customer(client, phone):
    def make(headers=None) -> str:
        made = client.post("/api/v1/customers", json={"display_name": "赵敏", "phones": [phone()]},
                           headers=headers or rep_a())
        assert made.status_code == 201, made.get_json()
        return made.get_json()["id"]
    return make


@pytest.fixture
def book(client, customer, product):
    """REP_A's customer with a confirmed order, a signed contract linking it and an opportunity."""
    cid = customer()
    order = client.post("/api/v1/orders", json={"customer_id": cid, "lines": [{"product": product, "quantity": 2}],
                                                "delivery": {"contact_name": "张三", "address": "杭州市西湖区"}},
                        headers=rep_a())
    assert order.status_code == 201, order.get_json()
    order_id = order.get_json()["id"]
    assert client.post(f"/api/v1/orders/{order_id}/confirm", headers=rep_a()).status_code == 200
    contract = client.post("/api/v1/contracts", json={
        "customer_id": cid, "title": "年度维保", "start_date": today().isoformat(),
        "end_date": (today() + dt.timedelta(days=20)).isoformat(), "value": cny(120_000), "order_ids": [order_id]},
        headers=rep_a())
    assert contract.status_code == 201, contract.get_json()
    contract_id = contract.get_json()["id"]
    assert client.post(f"/api/v1/contracts/{contract_id}/sign", headers=rep_a()).status_code == 200
    opp = client.post("/api/v1/opportunities", json={
        "customer_id": cid, "title": "扩容", "amount": cny(50_000),
        "expected_close": (today() + dt.timedelta(days=30)).isoformat()}, headers=rep_a())
    assert opp.status_code == 201, opp.get_json()
    return {"customer": cid, "order": order_id, "contract": contract_id, "opportunity": opp.get_json()["id"]}


def _reads(b: dict) -> list[tuple[str, dict]]:
    return [
        (f"/api/v1/orders/{b['order']}", {}),
        ("/api/v1/orders", {"customer_id": b["customer"]}),
        (f"/api/v1/orders/{b['order']}/payment-plan", {}),
        (f"/api/v1/contracts/{b['contract']}", {}),
        ("/api/v1/contracts", {"customer_id": b["customer"]}),
        (f"/api/v1/contracts/{b['contract']}/payment-plan", {}),
        (f"/api/v1/opportunities/{b['opportunity']}", {}),
        ("/api/v1/opportunities", {"customer_id": b["customer"]}),
        ("/api/v1/receivables/ageing", {"customer_id": b["customer"]}),
    ]


@pytest.mark.parametrize("outsider", [rep_b, rep_c, lambda: manager(OTHER_TEAM)],
                         ids=["rep-same-team", "rep-other-team", "manager-other-team"])
def test_another_reps_sales_records_are_404_by_id_and_by_customer(client, book, outsider):
    for url, query in _reads(book):
        got = client.get(url, query_string=query, headers=outsider())
        assert got.status_code == 404 and got.mimetype == PROBLEM, (url, got.status_code, got.get_json())


@pytest.mark.parametrize("outsider", [rep_b, rep_c, lambda: manager(OTHER_TEAM)],
                         ids=["rep-same-team", "rep-other-team", "manager-other-team"])
def test_another_reps_records_cannot_be_changed(client, book, outsider):
    writes = [
        (f"/api/v1/orders/{book['order']}/cancel", {"reason": "x"}),
        (f"/api/v1/orders/{book['order']}/amendments", {"lines": [{"line_id": "ln1", "quantity": 1}],
                                                         "reason": "x"}),
        (f"/api/v1/contracts/{book['contract']}/terminate", {"reason": "x"}),
        (f"/api/v1/opportunities/{book['opportunity']}/stage", {"stage": "lost", "reason": "x"}),
    ]
    for url, body in writes:
        got = client.post(url, json=body, headers=outsider())
        assert got.status_code == 404, (url, got.status_code, got.get_json())
    patched = client.patch(f"/api/v1/opportunities/{book['opportunity']}", json={"title": "mine"},
                           headers=outsider())
    assert patched.status_code == 404
    assert client.get(f"/api/v1/orders/{book['order']}", headers=rep_a()).get_json()["state"] == "confirmed"
    assert client.get(f"/api/v1/contracts/{book['contract']}", headers=rep_a()).get_json()["state"] == "signed"
    opp = client.get(f"/api/v1/opportunities/{book['opportunity']}", headers=rep_a()).get_json()
    assert opp["title"] == "扩容" and not opp["closed"]


def test_an_id_of_another_kind_is_a_404_not_a_500(client, book):
    swapped = [f"/api/v1/orders/{book['contract']}", f"/api/v1/contracts/{book['order']}",
               f"/api/v1/opportunities/{book['order']}", f"/api/v1/products/{book['order']}",
               f"/api/v1/orders/{book['contract']}/payment-plan", f"/api/v1/contracts/{book['order']}/payment-plan",
               f"/api/v1/orders/{book['customer']}", "/api/v1/orders/ord_", "/api/v1/contracts/con_%24gt",
               "/api/v1/opportunities/%24where"]
    for url in swapped:
        got = client.get(url, headers=rep_a())
        assert got.status_code == 404, (url, got.status_code, got.get_json())


def test_a_contract_cannot_link_another_customers_order_or_a_contract_id(client, book, customer):
    other = customer()
    for order_ids in ([book["order"]], [book["contract"]], ["ord_nope"]):
        made = client.post("/api/v1/contracts", json={
            "customer_id": other, "title": "x", "start_date": today().isoformat(),
            "end_date": (today() + dt.timedelta(days=10)).isoformat(), "value": cny(100), "order_ids": order_ids},
            headers=rep_a())
        assert made.status_code == 422 and made.get_json()["errors"][0]["field"] == "order_ids[0]", made.get_json()
    assert client.get("/api/v1/contracts", query_string={"customer_id": other}, headers=rep_a()
                      ).get_json()["items"] == []


def test_reps_agents_and_readers_never_see_costs(client, book, product):
    readers = [rep_a(), auth("agent-atk", "agent", team=""), auth("svc-atk", "integration", team="",
                                                                  scopes="sales:read customers:read")]
    for headers in readers:
        for url in (f"/api/v1/orders/{book['order']}", f"/api/v1/products/{product}",
                    f"/api/v1/customers/360?id={book['customer']}"):
            got = client.get(url, headers=headers)
            assert got.status_code == 200, (url, got.get_json())
            _assert_no_costs(got.get_json(), url)
        listed = client.get("/api/v1/products", headers=headers)
        assert listed.status_code == 200
        _assert_no_costs(listed.get_json(), "/api/v1/products")
        assert client.get("/api/v1/products", query_string={"grade": "A"}, headers=headers).status_code == 403
        assert client.get(f"/api/v1/products/{product}/grade-history", headers=headers).status_code == 403


def _assert_no_costs(value, where: str) -> None:
    if isinstance(value, dict):
        for key, v in value.items():
            if key in COST_KEYS:
                assert v is None, (where, key, v)
            _assert_no_costs(v, where)
    elif isinstance(value, list):
        for v in value:
            _assert_no_costs(v, where)


def test_agents_and_finance_do_not_sell_and_integrations_need_their_scope(client, book, customer):
    cid = book["customer"]
    for headers in (auth("agent-atk", "agent", team=""), auth("fin-atk", "finance", team="finance"),
                    auth("svc-atk-r", "integration", team="", scopes="sales:read customers:read")):
        assert client.post("/api/v1/contracts", json={
            "customer_id": cid, "title": "x", "start_date": today().isoformat(),
            "end_date": today().isoformat(), "value": cny(100)}, headers=headers).status_code == 403
        assert client.post(f"/api/v1/contracts/{book['contract']}/terminate", json={"reason": "x"},
                           headers=headers).status_code == 403
        assert client.post("/api/v1/opportunities", json={
            "customer_id": cid, "title": "x", "amount": cny(100), "expected_close": today().isoformat()},
            headers=headers).status_code == 403
        assert client.post("/api/v1/products", json={"sku": "NOPE-1", "name": "x", "list_price": cny(1),
                                                     "unit_cost": cny(1)}, headers=headers).status_code == 403
    no_scope = auth("svc-atk-none", "integration", team="", scopes="customers:read")
    for url, query in _reads(book) + [("/api/v1/contracts/expiring", {}), ("/api/v1/opportunities/forecast", {}),
                                      ("/api/v1/products", {})]:
        got = client.get(url, query_string=query, headers=no_scope)
        assert got.status_code in (403, 404), (url, got.status_code)
    card = client.get(f"/api/v1/customers/360?id={cid}", headers=no_scope)
    assert "sales" not in (card.get_json() or {}), card.get_json()


def test_books_of_others_are_not_read_through_owner_or_team_parameters(client, book):
    mine = client.get("/api/v1/opportunities/forecast", headers=rep_a()).get_json()
    assert any(r["group_id"] == REP_A for r in mine["items"])
    for headers, query in ((rep_b(), {"owner_id": REP_A}), (rep_b(), {"team_id": TEAM}),
                           (rep_c(), {"team_id": TEAM}), (manager(OTHER_TEAM), {"team_id": TEAM}),
                           (manager(OTHER_TEAM), {"owner_id": REP_A})):
        for url in ("/api/v1/opportunities/forecast", "/api/v1/opportunities/funnel", "/api/v1/opportunities"):
            got = client.get(url, query_string=query, headers=headers)
            assert got.status_code in (200, 403), (url, query, got.get_json())
            if got.status_code == 200:
                assert book["opportunity"] not in str(got.get_json())
                assert REP_A not in str(got.get_json()), (url, query, got.get_json())
                for row in got.get_json().get("stages", []):
                    assert row["count"] == 0, (url, query, row)
        expiring = client.get("/api/v1/contracts/expiring", query_string={k: v for k, v in query.items()
                                                                          if k == "owner_id"}, headers=headers)
        assert expiring.status_code in (200, 403)
        if expiring.status_code == 200:
            assert book["contract"] not in str(expiring.get_json())
        ageing = client.get("/api/v1/receivables/ageing", query_string={
            "rep_id" if "owner_id" in query else "team_id": next(iter(query.values()))}, headers=headers)
        assert ageing.status_code == 403 or ageing.get_json()["currencies"] == [], (query, ageing.get_json())


def test_reps_cannot_give_an_opportunity_to_someone_else(client, book, customer):
    made = client.post("/api/v1/opportunities", json={
        "customer_id": book["customer"], "title": "x", "amount": cny(100), "expected_close": today().isoformat(),
        "owner_id": REP_B}, headers=rep_a())
    assert made.status_code == 403
    moved = client.patch(f"/api/v1/opportunities/{book['opportunity']}", json={"owner_id": REP_B}, headers=rep_a())
    assert moved.status_code == 403
    assert client.get(f"/api/v1/opportunities/{book['opportunity']}", headers=rep_a()).get_json()["owner_id"] == REP_A


@pytest.mark.parametrize("value", [
    {"minor_units": -1, "currency_code": "CNY"}, {"minor_units": 0, "currency_code": "CNY"},
    {"minor_units": 10**15 + 1, "currency_code": "CNY"}, {"minor_units": 10**30, "currency_code": "CNY"},
    {"minor_units": 1.5, "currency_code": "CNY"}, {"minor_units": "100", "currency_code": "CNY"},
    {"minor_units": 100, "currency_code": "XXX"}, {"minor_units": 100, "currency_code": "cny"},
    {"minor_units": 100, "currency_code": "ZZZ"}, {"minor_units": 100, "currency_code": {"$ne": ""}},
    {"minor_units": {"$gt": 0}, "currency_code": "CNY"}, {"minor_units": 100}, "100 CNY", None,
])
def test_bad_money_is_a_4xx_naming_the_field_and_writes_nothing(client, customer, value):
    cid = customer()
    contract = client.post("/api/v1/contracts", json={
        "customer_id": cid, "title": "x", "start_date": today().isoformat(), "end_date": today().isoformat(),
        "value": value}, headers=rep_a())
    opp = client.post("/api/v1/opportunities", json={
        "customer_id": cid, "title": "x", "amount": value, "expected_close": today().isoformat()}, headers=rep_a())
    product = client.post("/api/v1/products", json={"sku": f"ATK-{uuid.uuid4().hex[:8]}", "name": "x",
                                                    "list_price": value, "unit_cost": value}, headers=manager())
    # A free product is allowed (price and cost 0); a contract or an opportunity worth nothing is not.
    refused = (contract, opp) if value == {"minor_units": 0, "currency_code": "CNY"} else (contract, opp, product)
    for got in refused:
        assert got.status_code in (400, 422) and got.mimetype == PROBLEM, got.get_json()
        assert any("value" in e["field"] or "amount" in e["field"] or "price" in e["field"] or "cost" in e["field"]
                   for e in got.get_json().get("errors", [])), got.get_json()
    assert client.get("/api/v1/contracts", query_string={"customer_id": cid}, headers=rep_a()).get_json()["items"] == []
    assert client.get("/api/v1/opportunities", query_string={"customer_id": cid},
                      headers=rep_a()).get_json()["items"] == []


@pytest.mark.parametrize("field,value", [
    ("customer_id", {"$gt": ""}), ("customer_id", ["a"]), ("customer_id", "x" * 10_000), ("title", {"$set": 1}),
    ("title", "a" * 5000), ("title", "\u0000"), ("owner_id", {"$ne": None}), ("start_date", "2026-02-30"),
    ("end_date", "31/12/2026"), ("start_date", "1900-01-01"), ("order_ids", [{"$gt": ""}]), ("order_ids", "ord_x"),
    ("renewal", {"auto_renew": True}), ("renewal", {"auto_renew": "yes"}), ("state", "signed"),
    ("team_id", TEAM), ("owner_id", REP_B), ("revision", 9), ("id", "con_chosen"),
])
def test_odd_contract_bodies_are_a_4xx_and_write_nothing(client, customer, field, value):
    cid = customer()
    body = {"customer_id": cid, "title": "x", "start_date": today().isoformat(),
            "end_date": (today() + dt.timedelta(days=5)).isoformat(), "value": cny(100), field: value}
    got = client.post("/api/v1/contracts", json=body, headers=rep_a())
    assert got.status_code in (400, 404, 422) and got.mimetype == PROBLEM, got.get_json()
    assert client.get("/api/v1/contracts", query_string={"customer_id": cid}, headers=rep_a()).get_json()["items"] == []


@pytest.mark.parametrize("field,value", [
    ("owner_id", {"$ne": None}), ("team_id", OTHER_TEAM), ("stage", "won"), ("stage", {"$in": ["a"]}),
    ("probability_pct", 100), ("weighted_amount", cny(1)), ("closed", True), ("stage_history", []),
    ("expected_close", "2026-13-01"), ("title", ""),
])
def test_odd_opportunity_bodies_are_a_4xx_and_write_nothing(client, customer, field, value):
    cid = customer()
    body = {"customer_id": cid, "title": "x", "amount": cny(100),
            "expected_close": (today() + dt.timedelta(days=5)).isoformat(), field: value}
    got = client.post("/api/v1/opportunities", json=body, headers=rep_a())
    assert got.status_code in (400, 403, 409, 422) and got.mimetype == PROBLEM, got.get_json()
    assert client.get("/api/v1/opportunities", query_string={"customer_id": cid},
                      headers=rep_a()).get_json()["items"] == []


@pytest.mark.parametrize("field,value", [
    ("unit_cost", {"minor_units": 1, "currency_code": "USD"}), ("margin", cny(1)), ("grade", "A"),
    ("id", "prd_chosen"), ("revision", 3), ("sku", {"$gt": ""}), ("sku", "a b"), ("sku", "x" * 65),
    ("name", ""), ("active", "false"),
])
def test_odd_product_bodies_are_a_4xx_and_write_nothing(client, field, value):
    sku = f"ATK-{uuid.uuid4().hex[:8].upper()}"
    body = {"sku": sku, "name": "x", "list_price": cny(100), "unit_cost": cny(10), field: value}
    got = client.post("/api/v1/products", json=body, headers=manager())
    assert got.status_code in (400, 422) and got.mimetype == PROBLEM, got.get_json()
    retry = client.post("/api/v1/products", json={"sku": sku, "name": "x", "list_price": cny(100),
                                                  "unit_cost": cny(10)}, headers=manager())
    assert retry.status_code == 201, retry.get_json()  # the SKU was not taken by the refused one


def test_page_tokens_are_not_forged_or_replayed_across_queries(client, customer, book):
    other = customer()
    for n in range(3):
        assert client.post("/api/v1/contracts", json={
            "customer_id": other, "title": f"c{n}", "start_date": today().isoformat(),
            "end_date": today().isoformat(), "value": cny(100)}, headers=rep_a()).status_code == 201
        assert client.post("/api/v1/opportunities", json={
            "customer_id": other, "title": f"o{n}", "amount": cny(100),
            "expected_close": today().isoformat()}, headers=rep_a()).status_code == 201
    for url in ("/api/v1/contracts", "/api/v1/opportunities", "/api/v1/orders"):
        first = client.get(url, query_string={"customer_id": other, "page_size": 1}, headers=rep_a()).get_json()
        token = first["next_page_token"]
        if url == "/api/v1/orders":
            token = "eyJuIjogMX0"
        else:
            assert token
        replayed = client.get(url, query_string={"customer_id": book["customer"], "page_token": token},
                              headers=rep_a())
        assert replayed.status_code == 400, (url, replayed.status_code, replayed.get_json())
        for forged in ("x", "eyJuIjogLTF9", "eyJuIjogMX0", "%%%", "a" * 500):
            got = client.get(url, query_string={"customer_id": other, "page_token": forged}, headers=rep_a())
            assert got.status_code == 400 and got.mimetype == PROBLEM, (url, forged, got.get_json())
    products = client.get("/api/v1/products", query_string={"page_size": 1, "active": "true"}, headers=rep_a())
    token = products.get_json()["next_page_token"]
    if token:
        assert client.get("/api/v1/products", query_string={"page_token": token, "active": "false"},
                          headers=rep_a()).status_code == 400
    opps = client.get("/api/v1/opportunities", query_string={"customer_id": other, "page_size": 1},
                      headers=rep_a()).get_json()["next_page_token"]
    stolen = client.get("/api/v1/opportunities", query_string={"customer_id": other, "page_token": opps},
                        headers=manager())
    assert stolen.status_code == 400


def test_unknown_query_parameters_are_a_400(client, book):
    for url in ("/api/v1/contracts", "/api/v1/opportunities", "/api/v1/products", "/api/v1/orders",
                "/api/v1/contracts/expiring", "/api/v1/opportunities/forecast", "/api/v1/opportunities/funnel"):
        got = client.get(url, query_string={"customer_id": book["customer"], "owner": REP_B, "$where": "1"},
                         headers=rep_a())
        assert got.status_code == 400, (url, got.status_code)


def test_a_customer_released_to_the_pool_takes_its_sales_with_it(client, book):
    cid = book["customer"]
    released = client.post(f"/api/v1/customers/{cid}/release", json={"reason": "不再跟进"}, headers=rep_a())
    assert released.status_code == 200, released.get_json()
    for headers in (rep_a(), rep_b()):
        for url, query in _reads(book)[:6] + _reads(book)[8:]:
            got = client.get(url, query_string=query, headers=headers)
            assert got.status_code == 404, (url, got.status_code, got.get_json())
        for url, body in (("/api/v1/contracts", {"customer_id": cid, "title": "x", "value": cny(100),
                                                 "start_date": today().isoformat(),
                                                 "end_date": today().isoformat()}),
                          ("/api/v1/opportunities", {"customer_id": cid, "title": "x", "amount": cny(100),
                                                     "expected_close": today().isoformat()}),
                          ("/api/v1/orders", {"customer_id": cid, "lines": []})):
            got = client.post(url, json=body, headers=headers)
            assert got.status_code == 404, (url, got.status_code, got.get_json())
        card = client.get(f"/api/v1/customers/360?id={cid}", headers=headers).get_json()
        assert "sales" not in card, card


def test_an_erased_customers_contracts_are_gone_for_reps(client, book):
    erased = client.post(f"/api/v1/customers/{book['customer']}/erase", json={"reason": "GDPR 请求"},
                         headers=auth("root-atk", "admin", team=""))
    assert erased.status_code in (200, 204), erased.get_json()
    for url, query in _reads(book)[:6]:
        got = client.get(url, query_string=query, headers=rep_a())
        assert got.status_code == 404, (url, got.status_code, got.get_json())
