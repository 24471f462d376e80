"""Contracts through the gateway (Flask) over the real sales and customer
services: what a front end sees, answers checked against the OpenAPI
document."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check
from tests.conftest import business_today

TEAM = "team-http-contracts"
PROBLEM = "application/problem+json"


def who(subject="rep-hc-a", role="rep", **kw):
    return auth(subject, role, team=kw.pop("team", TEAM), **kw)


def today() -> dt.date:
    return business_today()


@pytest.fixture
def customer(client, phone):
    def make(headers=None) -> str:
        made = client.post("/api/v1/customers", json={"display_name": "赵敏", "phones": [phone()]},
                           headers=headers or who())
        assert made.status_code == 201, made.get_json()
        return made.get_json()["id"]
    return make


def body(customer_id: str, start: dt.date, end: dt.date, **extra) -> dict:
    return {"customer_id": customer_id, "title": "2027 年度维保", "start_date": start.isoformat(),
            "end_date": end.isoformat(), "value": {"minor_units": 3_600_000, "currency_code": "CNY"}, **extra}


def test_draft_sign_and_list_a_contract(client, customer, spec):
    cid = customer()
    end = today() + dt.timedelta(days=14)
    made = client.post("/api/v1/contracts", json=body(cid, today() - dt.timedelta(days=351), end,
                                                      renewal={"auto_renew": True, "renewal_months": 12,
                                                               "notice_days": 30}), headers=who())
    assert made.status_code == 201, made.get_json()
    _check(spec, made, "/api/v1/contracts", "post")
    contract = made.get_json()
    assert contract["state"] == "draft" and contract["end_date"] == end.isoformat()
    assert contract["renewal"] == {"auto_renew": True, "renewal_months": 12, "notice_days": 30}
    signed = client.post(f"/api/v1/contracts/{contract['id']}/sign", headers=who())
    assert signed.status_code == 200 and signed.get_json()["state"] == "signed"
    _check(spec, signed, "/api/v1/contracts/{contract_id}/sign", "post")
    page = client.get("/api/v1/contracts", query_string={"customer_id": cid}, headers=who())
    _check(spec, page, "/api/v1/contracts", "get")
    assert [c["id"] for c in page.get_json()["items"]] == [contract["id"]]
    expiring = client.get("/api/v1/contracts/expiring", query_string={"within_days": 30}, headers=who())
    _check(spec, expiring, "/api/v1/contracts/expiring", "get")
    entry = next(e for e in expiring.get_json()["items"] if e["contract"]["id"] == contract["id"])
    assert entry["days_left"] == 14 and entry["notice_deadline"] == (end - dt.timedelta(days=30)).isoformat()
    check = client.post("/api/v1/contracts/expiry-check", headers=auth("root-hc", "admin", team=""))
    assert check.status_code == 200
    _check(spec, check, "/api/v1/contracts/expiry-check", "post")
    reminded = client.get(f"/api/v1/contracts/{contract['id']}", headers=who()).get_json()
    assert reminded["reminded_end_date"] == end.isoformat()


def test_a_contract_ending_before_it_starts_is_a_422_naming_the_field(client, customer, spec):
    cid = customer()
    resp = client.post("/api/v1/contracts", json=body(cid, today(), today() - dt.timedelta(days=1)), headers=who())
    assert resp.status_code == 422 and resp.mimetype == PROBLEM
    assert [e["field"] for e in resp.get_json()["errors"]] == ["end_date"]
    _check(spec, resp, "/api/v1/contracts", "post")
    assert client.get("/api/v1/contracts", query_string={"customer_id": cid}, headers=who()).get_json()["items"] == []


def test_another_reps_contract_is_a_404_and_terminating_a_draft_a_409(client, customer, spec):
    cid = customer()
    made = client.post("/api/v1/contracts", json=body(cid, today(), today() + dt.timedelta(days=365)),
                       headers=who()).get_json()
    other = client.get(f"/api/v1/contracts/{made['id']}", headers=who("rep-hc-b"))
    assert other.status_code == 404 and other.mimetype == PROBLEM
    _check(spec, other, "/api/v1/contracts/{contract_id}", "get")
    draft_end = client.post(f"/api/v1/contracts/{made['id']}/terminate", json={"reason": "客户取消"}, headers=who())
    assert draft_end.status_code == 409
    _check(spec, draft_end, "/api/v1/contracts/{contract_id}/terminate", "post")
