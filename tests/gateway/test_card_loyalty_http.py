"""The 360 card's loyalty section over the real customer and loyalty
services: points held, points expiring within 30 days, the VIP tier and what
is missing for the next, the last greeting (one call); named in `missing`
when the caller may not see it or the loyalty service is down (killed), the
rest of the card still answering."""

from __future__ import annotations

import dataclasses
import uuid

from crm_gateway.app import create_app
from crm_kit.redis_store import RedisSettings
from crm_loyalty.main import LoyaltySettings, build_host
from tests.conftest import server_settings
from tests.gateway.conftest import auth, gateway_settings
from tests.gateway.test_openapi import _check
from tests.service.loyalty_support import greet

CARD = "/api/v1/customers/360"
TEAM = f"team-card-loyalty-{uuid.uuid4().hex[:6]}"
REP = auth("rep-card-loyalty", team=TEAM)
ADMIN = auth("admin-card-loyalty", "admin")


def new_customer(client, phone) -> str:
    made = client.post("/api/v1/customers", json={"display_name": "薛宝钗", "phones": [phone()]}, headers=REP)
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def card(client, customer_id: str, headers):
    return client.get(CARD, query_string={"id": customer_id}, headers=headers)


def test_the_card_shows_points_tier_and_the_last_greeting(client, spec, services, phone):
    customer = new_customer(client, phone)
    adjusted = client.post(f"/api/v1/customers/{customer}/loyalty/adjustments",
                           json={"points": 300, "reason": "开业礼"}, headers=ADMIN)
    assert adjusted.status_code == 201, adjusted.get_json()
    got = card(client, customer, REP)
    _check(spec, got, CARD, "get")
    body = got.get_json()
    assert body["missing"] == []
    loyalty = body["loyalty"]
    assert loyalty["balance"] == 300
    # The default expiry is the end of next year: nothing expires within 30 days.
    assert loyalty["expiring_within_30_days"] == 0 and loyalty["next_expiry_date"] is None
    tier = loyalty["tier"]
    assert tier["code"] == "member" and tier["next_code"] == "silver"
    assert tier["to_next"] == tier["next_threshold"] - tier["qualifying_value"] > 0
    assert loyalty["last_greeting"] is None  # never greeted
    assert "last_greeting" not in body  # part of the loyalty section, not a section of its own

    greet(services.hosts["loyalty"].app, customer)  # Mid-Autumn; no consent on file: skipped
    got = card(client, customer, REP)
    _check(spec, got, CARD, "get")
    last = got.get_json()["loyalty"]["last_greeting"]
    assert {k: last[k] for k in ("occasion", "year", "channel", "outcome", "reason")} == {
        "occasion": "mid_autumn", "year": 2026, "channel": "", "outcome": "skipped", "reason": "no_consent"}
    assert last["message_id"] and last["at"]
    # The account itself answers it too.
    account = client.get(f"/api/v1/customers/{customer}/loyalty", headers=REP)
    _check(spec, account, "/api/v1/customers/{customer_id}/loyalty", "get")
    assert account.get_json()["last_greeting"] == last


def test_an_integration_without_the_loyalty_scope_gets_the_section_named(client, phone):
    customer = new_customer(client, phone)
    body = card(client, customer, auth("crm-sync", "integration", team="", scopes="customers:read")).get_json()
    assert [m for m in body["missing"] if m["service"] == "loyalty"] == [
        {"section": "loyalty", "service": "loyalty", "reason": "not_permitted"}]
    assert "loyalty" not in body


def test_a_rep_seeing_a_pool_customer_gets_no_loyalty_section(client, phone):
    """The pool's summary is for any rep; the loyalty account (its last greeting too) is the owner's: the
    service refuses, the card names it."""
    customer = new_customer(client, phone)
    released = client.post(f"/api/v1/customers/{customer}/release", json={"reason": "客户暂无需求"}, headers=REP)
    assert released.status_code == 200, released.get_json()
    got = card(client, customer, auth("rep-card-loyalty-other", team=TEAM))
    assert got.status_code == 200 and got.get_json()["profile"]["view"] == "pool"
    body = got.get_json()
    assert [m for m in body["missing"] if m["service"] == "loyalty"] == [
        {"section": "loyalty", "service": "loyalty", "reason": "not_permitted"}]
    assert "loyalty" not in body


def test_the_loyalty_service_killed_names_its_section_and_the_rest_answers(client, services, stores, phone):
    """A loyalty service of the card's own, stopped between two cards."""
    customer = new_customer(client, phone)
    host = build_host(LoyaltySettings(server_settings("loyalty"), RedisSettings(stores.redis_url),
                                      customer_target=services.targets["customer"]))
    port = host.start()
    try:
        settings = dataclasses.replace(
            gateway_settings({**services.targets, "loyalty": f"127.0.0.1:{port}"}, stores.redis_url),
            card_budget_seconds=0.5)
        own = create_app(settings).test_client()
        alive = card(own, customer, REP).get_json()
        assert alive["missing"] == [] and alive["loyalty"]["balance"] == 0
    finally:
        host.stop(0)
    body = card(own, customer, REP).get_json()
    assert body["missing"] == [{"section": "loyalty", "service": "loyalty", "reason": "unavailable"}]
    assert body["profile"]["id"] == customer and "last_told" in body and "sales" in body
    assert "loyalty" not in body
