"""The 360 card over real services: by phone, e-mail or id; the sections a
caller's role may not see; a section whose service is slow or down is named
in `missing` and the rest still answers."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from prometheus_client import REGISTRY

from crm_gateway.app import create_app
from crm_kit.localstores import free_port
from tests.gateway.conftest import auth, gateway_settings

CARD = "/api/v1/customers/360"
REP = auth("rep-card")


@pytest.fixture(scope="module")
def customer(app, services):
    """A customer of rep-card with a preference, a quote, a commitment and an open visit."""
    client = app.test_client()
    number = f"+86137{datetime.now().microsecond:06d}01"
    email = f"card.{number[1:]}@example.com"
    made = client.post("/api/v1/customers", headers=REP, json={
        "display_name": "王芳", "phones": [number], "emails": [email],
        "preferences": [{"topic": "tea", "note": "oolong, no sugar"}]})
    assert made.status_code == 201, made.get_json()
    cid = made.get_json()["id"]
    quote = client.post(f"/api/v1/customers/{cid}/interactions", headers=REP, json={
        "channel": "quote", "direction": "outbound", "summary": "quoted the spring tea set",
        "quote_lines": [{"item": "tea set", "quantity": 2, "unit_price": {"minor_units": 19900, "currency_code": "CNY"}}],
        "commitments": ["deliver by Friday"]})
    assert quote.status_code == 201, quote.get_json()
    when = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    visit = client.post("/api/v1/visits", headers=REP, json={"customer_id": cid, "scheduled_at": when,
                                                             "purpose": "bring samples"})
    assert visit.status_code == 201, visit.get_json()
    return {"id": cid, "phone": number, "email": email, "visit_id": visit.get_json()["id"]}


@pytest.mark.parametrize("key", ["phone", "email", "id"])
def test_the_card_by_phone_email_or_id(client, customer, key):
    resp = client.get(CARD, query_string={key: customer[key]}, headers=REP)
    assert resp.status_code == 200, resp.get_json()
    card = resp.get_json()
    assert card["customer_id"] == customer["id"] and card["missing"] == []
    profile = card["profile"]
    assert next(iter(profile)) == "preferences"  # preferences first
    assert profile["preferences"] == [{"topic": "tea", "note": "oolong, no sugar"}]
    assert card["last_told"]["last_quote"]["quote_total"] == {"minor_units": 39800, "currency_code": "CNY"}
    assert card["last_told"]["last_commitment"]["commitments"] == ["deliver by Friday"]
    assert [i["summary"] for i in card["recent_interactions"]] == ["quoted the spring tea set"]
    assert [v["id"] for v in card["open_visits"]] == [customer["visit_id"]]


def _customer_asked() -> float:
    """How often the customer service (in this process) answered GetCustomer."""
    return REGISTRY.get_sample_value("grpc_server_handled_total", {
        "grpc_service": "crm.customer.v1.CustomerService", "grpc_method": "GetCustomer", "grpc_code": "OK"}) or 0.0


def test_by_phone_the_sections_go_by_the_overviews_grant_not_another_question(client, customer):
    """The sales and loyalty sections read the owner from the overview's
    customer grant: a card by phone asks the customer service once (the
    overview), not three times; by id they start at once and ask."""
    before = _customer_asked()
    resp = client.get(CARD, query_string={"phone": customer["phone"]}, headers=REP)
    assert resp.status_code == 200 and resp.get_json()["missing"] == [], resp.get_json()
    assert {"sales", "loyalty"} <= set(resp.get_json())
    assert _customer_asked() == before
    resp = client.get(CARD, query_string={"id": customer["id"]}, headers=REP)
    assert resp.status_code == 200 and resp.get_json()["missing"] == [], resp.get_json()
    assert _customer_asked() == before + 2


def test_a_support_agent_sees_contact_details_and_the_last_quote(client, customer):
    resp = client.get(CARD, query_string={"phone": customer["phone"]}, headers=auth("agent-1", "agent"))
    assert resp.status_code == 200, resp.get_json()
    card = resp.get_json()
    assert card["profile"]["view"] == "contact" and card["profile"]["phones"] == [customer["phone"]]
    assert card["last_told"]["last_quote"]["summary"] == "quoted the spring tea set"
    # Agents have no visits: the section is named, not fetched.
    assert card["missing"] == [{"section": "open_visits", "service": "customer", "reason": "not_permitted"}]
    assert "open_visits" not in card
    # The agent on the phone sees the customer's preferences too.
    assert card["profile"]["preferences"] == [{"topic": "tea", "note": "oolong, no sugar"}]


def test_another_rep_gets_no_card(client, customer):
    assert client.get(CARD, query_string={"id": customer["id"]}, headers=auth("rep-other")).status_code == 404


@pytest.mark.parametrize("query", [{}, {"phone": "13800138000", "email": "a@example.com"}, {"name": "x"},
                                   {"id": ""}])
def test_exactly_one_key_is_a_400(client, query):
    resp = client.get(CARD, query_string=query, headers=REP)
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"


def test_no_such_customer_is_a_404(client):
    assert client.get(CARD, query_string={"email": "nobody.card@example.com"}, headers=REP).status_code == 404


class _Stalling(grpc.GenericRpcHandler):
    """Answers every method, after `release` is set (or 5 s)."""

    def __init__(self):
        self.release = threading.Event()

    def service(self, handler_call_details):
        def stall(request, context):
            self.release.wait(5)
            return b""
        return grpc.unary_unary_rpc_method_handler(stall)


@pytest.fixture
def slow_target():
    handler = _Stalling()
    server = grpc.server(ThreadPoolExecutor(4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    handler.release.set()
    server.stop(0)


def test_a_slow_and_a_dead_section_are_named_and_the_rest_answers(services, stores, customer, slow_target):
    """Sales go to a server that answers after the budget (slow); loyalty to
    a port nobody listens on (down). The customer service's own sections
    come with the profile and still answer."""
    targets = {**services.targets, "sales": slow_target, "loyalty": f"127.0.0.1:{free_port()}"}
    settings = dataclasses.replace(gateway_settings(targets, stores.redis_url), card_budget_seconds=0.5)
    client = create_app(settings).test_client()
    resp = client.get(CARD, query_string={"phone": customer["phone"]}, headers=REP)
    assert resp.status_code == 200, resp.get_json()
    card = resp.get_json()
    assert card["profile"]["id"] == customer["id"]
    missing = {m["section"]: m for m in card["missing"]}
    assert set(missing) == {"sales", "loyalty"}
    assert missing["sales"] == {"section": "sales", "service": "sales", "reason": "timeout"}
    assert missing["loyalty"]["service"] == "loyalty" and missing["loyalty"]["reason"] in ("unavailable", "timeout")
    for name in missing:
        assert name not in card
    assert [v["id"] for v in card["open_visits"]] == [customer["visit_id"]]
    assert card["last_told"]["last_quote"]["summary"] == "quoted the spring tea set"


def test_the_profile_down_is_a_503(services, stores):
    dead = {**services.targets, "customer": f"127.0.0.1:{free_port()}"}
    client = create_app(gateway_settings(dead, stores.redis_url)).test_client()
    resp = client.get(CARD, query_string={"id": "cus_000000000000000000000000"}, headers=REP)
    assert resp.status_code == 503 and resp.get_json()["service"] == "customer"
