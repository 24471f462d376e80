"""The pipeline through the gateway (Flask) over the real sales and
customer services: what a rep's pipeline board and a manager's forecast
screen see, bad input included; every answer checked against the OpenAPI
document."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check
from tests.conftest import business_today

PROBLEM = "application/problem+json"
OPPS, OPP = "/api/v1/opportunities", "/api/v1/opportunities/{opportunity_id}"
CLOSE = (business_today().replace(day=1) + dt.timedelta(days=75)).replace(day=10)


@pytest.fixture
def team():
    name = f"team-ho-{uuid.uuid4().hex[:6]}"
    return {"rep": auth(f"rep-{name}", "rep", team=name), "other": auth(f"rep2-{name}", "rep", team=name),
            "boss": auth(f"boss-{name}", "manager", team=name), "id": name, "rep_id": f"rep-{name}"}


@pytest.fixture
def customer(client, phone, team):
    made = client.post("/api/v1/customers", json={"display_name": "郭靖", "phones": [phone()]}, headers=team["rep"])
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def cny(minor: int) -> dict:
    return {"minor_units": minor, "currency_code": "CNY"}


def test_open_move_and_close_an_opportunity(client, spec, customer, team):
    made = client.post(OPPS, json={"customer_id": customer, "title": "全屋净水", "amount": cny(250001),
                                   "expected_close": CLOSE.isoformat()}, headers=team["rep"])
    _check(spec, made, OPPS, "post")
    body = made.get_json()
    assert made.status_code == 201 and made.headers["ETag"] == '"1"'
    assert (body["owner_id"], body["stage"], body["probability_pct"]) == (team["rep_id"], "qualify", 10)
    assert body["weighted_amount"] == cny(25000) and body["expected_close"] == CLOSE.isoformat()
    url = f"{OPPS}/{body['id']}"
    moved = client.post(f"{url}/stage", json={"stage": "negotiate"}, headers={**team["rep"], "If-Match": '"1"'})
    _check(spec, moved, OPP + "/stage", "post")
    assert moved.get_json()["weighted_amount"] == cny(175000)
    stale = client.post(f"{url}/stage", json={"stage": "propose"}, headers={**team["rep"], "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    no_reason = client.post(f"{url}/stage", json={"stage": "won"}, headers=team["rep"])
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    _check(spec, no_reason, OPP + "/stage", "post")
    won = client.post(f"{url}/stage", json={"stage": "won", "reason": "签约"}, headers=team["rep"])
    assert won.get_json()["closed"] and [c["stage"] for c in won.get_json()["stage_history"]] == \
        ["qualify", "negotiate", "won"]
    again = client.patch(url, json={"title": "改不了"}, headers=team["rep"])
    assert again.status_code == 409
    _check(spec, again, OPP, "patch")
    read = client.get(url, headers=team["boss"])
    _check(spec, read, OPP, "get")
    assert read.get_json() == won.get_json()


def test_another_rep_gets_404_and_bad_input_is_422(client, spec, customer, team):
    other = client.post(OPPS, json={"customer_id": customer, "title": "x", "amount": cny(100),
                                    "expected_close": CLOSE.isoformat()}, headers=team["other"])
    assert other.status_code == 404
    _check(spec, other, OPPS, "post")
    for body in ({"customer_id": customer, "title": "x", "amount": cny(0), "expected_close": CLOSE.isoformat()},
                 {"customer_id": customer, "title": "x", "amount": cny(100), "expected_close": "2030-02-30"},
                 {"customer_id": customer, "title": "x", "amount": {"minor_units": 1.5, "currency_code": "CNY"},
                  "expected_close": CLOSE.isoformat()},
                 {"customer_id": customer, "title": "", "amount": cny(100), "expected_close": CLOSE.isoformat()}):
        resp = client.post(OPPS, json=body, headers=team["rep"])
        assert resp.status_code == 422 and resp.get_json()["errors"], (body, resp.get_json())
        _check(spec, resp, OPPS, "post")
    mine = client.get(OPPS, query_string={"customer_id": customer}, headers=team["rep"])
    assert mine.status_code == 200 and mine.get_json()["items"] == []
    made = client.post(OPPS, json={"customer_id": customer, "title": "x", "amount": cny(100),
                                   "expected_close": CLOSE.isoformat()}, headers=team["rep"]).get_json()
    hidden = client.get(f"{OPPS}/{made['id']}", headers=team["other"])
    assert hidden.status_code == 404
    _check(spec, hidden, OPP, "get")


def test_lists_forecast_funnel_and_stages(client, spec, customer, team):
    for amount in (1001, 2003):
        client.post(OPPS, json={"customer_id": customer, "title": "滤芯年单", "amount": cny(amount),
                                "expected_close": CLOSE.isoformat()}, headers=team["rep"])
    page = client.get(OPPS, query_string={"open_only": "true", "page_size": 1}, headers=team["rep"])
    _check(spec, page, OPPS, "get")
    assert len(page.get_json()["items"]) == 1 and page.get_json()["next_page_token"]
    forecast = client.get(f"{OPPS}/forecast", query_string={"group_by": "team"}, headers=team["boss"])
    _check(spec, forecast, OPPS + "/forecast", "get")
    assert [(r["month"], r["group_id"], r["count"], r["amount"], r["weighted_amount"])
            for r in forecast.get_json()["items"]] == \
        [(CLOSE.strftime("%Y-%m"), team["id"], 2, cny(3004), cny(300))]  # 300.4 rounded down
    bad = client.get(f"{OPPS}/forecast", query_string={"from_month": "2026-1"}, headers=team["boss"])
    assert bad.status_code == 400
    _check(spec, bad, OPPS + "/forecast", "get")
    funnel = client.get(f"{OPPS}/funnel", headers=team["rep"])
    _check(spec, funnel, OPPS + "/funnel", "get")
    first = funnel.get_json()["items"][0]
    assert (first["stage"], first["count"], first["amounts"], first["reached"], first["conversion_bp"]) == \
        ("qualify", 2, [cny(3004)], 2, 0)
    stages = client.get(f"{OPPS}/stages", headers=team["rep"])
    _check(spec, stages, OPPS + "/stages", "get")
    assert [s["name"] for s in stages.get_json()["items"]] == ["qualify", "propose", "negotiate"]
