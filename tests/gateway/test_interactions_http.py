"""The interaction log through the gateway (Flask) over real gRPC services:
what a web or mobile front end sees, including every kind of bad input."""

from __future__ import annotations

import json

import pytest

from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check

PROBLEM = "application/problem+json"
TEAM = "team-http-log"


def who(subject="rep-hl-a", role="rep", **kw):
    return auth(subject, role, team=kw.pop("team", TEAM), **kw)


@pytest.fixture
def customer(client, phone):
    def make(headers=None) -> str:
        made = client.post("/api/v1/customers", json={"display_name": "周芷若", "phones": [phone()]},
                           headers=headers or who())
        assert made.status_code == 201, made.get_json()
        return made.get_json()["id"]
    return make


def url(cid: str, suffix: str = "") -> str:
    return f"/api/v1/customers/{cid}/interactions{suffix}"


QUOTE = {"channel": "quote", "direction": "outbound", "summary": "发了正式报价单",
         "quote_lines": [{"item": "净水器 A1", "quantity": 3, "unit_price": {"minor_units": 159900, "currency_code": "CNY"}}],
         "commitments": ["包安装", "一年保修"], "next_follow_up": "2030-05-20"}


def test_record_then_read_the_log_and_the_summary(client, customer, spec):
    cid = customer()
    made = client.post(url(cid), json=QUOTE, headers=who())
    assert made.status_code == 201
    body = made.get_json()
    assert body["quote_total"] == {"minor_units": 479700, "currency_code": "CNY"}
    assert body["next_follow_up"] == "2030-05-20" and body["sequence"] == 1 and body["rep_id"] == "rep-hl-a"
    call = client.post(url(cid), json={"channel": "call", "direction": "inbound", "summary": "问送货时间",
                                       "occurred_at": "2026-01-05T10:00:00+08:00"}, headers=who())
    assert call.get_json()["occurred_at"] == "2026-01-05T02:00:00Z" and call.get_json()["quote_total"] is None
    log = client.get(url(cid), headers=who())
    assert [i["sequence"] for i in log.get_json()["items"]] == [2, 1]
    summary = client.get(url(cid, "/summary"), headers=who())
    assert summary.get_json()["last_quote"] == body and summary.get_json()["last_commitment"] == body
    assert summary.get_json()["last_contact_at"] == body["occurred_at"]  # the backdated call is older
    for resp, path, method in ((made, url("{customer_id}"), "post"), (log, url("{customer_id}"), "get"),
                               (summary, url("{customer_id}", "/summary"), "get")):
        _check(spec, resp, path, method)


def test_pages_follow_the_cursor(client, customer):
    cid = customer()
    for i in range(5):
        client.post(url(cid), json={"channel": "sms", "direction": "outbound", "summary": f"短信 {i}"}, headers=who())
    seen, token = [], ""
    while True:
        page = client.get(url(cid), query_string={"page_size": 2, "page_token": token}, headers=who()).get_json()
        seen += [i["summary"] for i in page["items"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == [f"短信 {i}" for i in range(4, -1, -1)]


def test_idempotency_key_records_once(client, customer, customer_db):
    cid = customer()
    headers = {**who(), "Idempotency-Key": "front-end-retry-1"}
    first = client.post(url(cid), json=QUOTE, headers=headers)
    again = client.post(url(cid), json=QUOTE, headers=headers)
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert len(client.get(url(cid), headers=who()).get_json()["items"]) == 1


@pytest.mark.parametrize("body,field", [
    ('{"channel": "call", "direction": "inbound"', None),                                   # malformed JSON
    ('{"channel": "call", "direction": "inbound", "summary": "x", "vip": true}', "(body)"),  # unknown field
    ('{"channel": "call", "direction": "inbound", "summary": {"$ne": 1}}', "summary"),     # operator as value
    ('{"channel": {"$in": ["call"]}, "direction": "inbound", "summary": "x"}', "channel"),
    ('{"channel": "fax", "direction": "inbound", "summary": "x"}', "channel"),
    ('{"channel": "call", "direction": "inbound", "summary": ""}', "summary"),
    ('{"channel": "call", "direction": "inbound", "summary": "%s"}' % ("x" * 4001), "summary"),
    ('{"channel": "call", "direction": "inbound", "summary": "x", "commitments": ["%s"]}' % ("y" * 501),
     "commitments.0"),
    ('{"channel": "call", "direction": "inbound", "summary": "x", "occurred_at": "yesterday"}', "occurred_at"),
    ('{"channel": "call", "direction": "inbound", "summary": "x", "occurred_at": "2026-13-01T00:00:00Z"}', "occurred_at"),
    ('{"channel": "call", "direction": "inbound", "summary": "x", "occurred_at": "2999-01-01T00:00:00Z"}', "occurred_at"),
    ('{"channel": "call", "direction": "inbound", "summary": "x", "next_follow_up": "2026-02-30"}', "next_follow_up"),
    ('{"channel": "call", "direction": "inbound", "summary": "x", "next_follow_up": "soon"}', "next_follow_up"),
    ('{"channel": "quote", "direction": "outbound", "summary": "x", "quote_lines": [{"item": "a", "quantity": 1, '
     '"unit_price": {"minor_units": 1.5, "currency_code": "CNY"}}]}', "quote_lines.0.unit_price.minor_units"),
    ('{"channel": "quote", "direction": "outbound", "summary": "x", "quote_lines": [{"item": "a", "quantity": 1, '
     '"unit_price": {"minor_units": -1, "currency_code": "CNY"}}]}', "quote_lines.0.unit_price.minor_units"),
    ('{"channel": "quote", "direction": "outbound", "summary": "x", "quote_lines": [{"item": "a", "quantity": 1, '
     '"unit_price": {"minor_units": 100, "currency_code": "cny"}}]}', "quote_lines.0.unit_price.currency_code"),
    ('{"channel": "quote", "direction": "outbound", "summary": "x", "quote_lines": [{"item": "a", "quantity": 1, '
     '"unit_price": {"minor_units": 100, "currency_code": "QQQ"}}]}', "quote_lines[0].unit_price.currency_code"),
    ('{"channel": "quote", "direction": "outbound", "summary": "x", "quote_lines": [{"item": "a", "quantity": 1, '
     '"unit_price": {"minor_units": 100, "currency_code": "CNY", "$where": "1"}}]}', "quote_lines.0.unit_price"),
])
def test_bad_bodies_are_problems_naming_the_field_and_nothing_is_written(client, customer, customer_db, spec, body, field):
    cid = customer()
    resp = client.post(url(cid), data=body, content_type="application/json", headers=who())
    assert resp.mimetype == PROBLEM
    assert resp.status_code == (400 if field is None else 422)
    if field is not None:
        assert field in [e["field"] for e in resp.get_json()["errors"]]
    _check(spec, resp, url("{customer_id}"), "post")
    assert customer_db.interaction_heads.find_one({"_id": cid}) is None


def test_wrong_content_type_and_bad_query_parameters(client, customer):
    cid = customer()
    assert client.post(url(cid), data="x", content_type="text/plain", headers=who()).status_code == 415
    lone_surrogate = '{"channel": "call", "direction": "inbound", "summary": "\\ud800"}'
    assert client.post(url(cid), data=lone_surrogate, content_type="application/json", headers=who()).status_code == 422
    for query in ({"page_size": 0}, {"page_size": "ten"}, {"page_token": "garbage"}, {"page_token": "x" * 513},
                  {"owner_id": "x"}):
        resp = client.get(url(cid), query_string=query, headers=who())
        assert resp.status_code == 400 and resp.mimetype == PROBLEM, query


def test_roles_in_the_gateway_and_the_service(client, customer):
    cid = customer()
    client.post(url(cid), json=QUOTE, headers=who())
    other = who("rep-hl-b")
    assert client.get(url(cid), headers=other).status_code == 404
    assert client.get(url(cid, "/summary"), headers=other).status_code == 404
    assert client.post(url(cid), json=QUOTE, headers=other).status_code == 404
    assert client.get(url(cid), headers=who("boss-hl", "manager")).status_code == 200
    agent = who("agent-hl", "agent")
    assert client.get(url(cid, "/summary"), headers=agent).status_code == 200
    assert client.post(url(cid), json=QUOTE, headers=agent).status_code == 403
    assert client.post(url(cid), json={**QUOTE, "rep_id": "rep-hl-b"}, headers=who()).status_code == 403
    assert client.get(url(cid)).status_code == 401
    assert client.get(url("cus_000000000000000000000000"), headers=who()).status_code == 404
    assert client.get(url("not-an-id"), headers=who()).status_code == 404


def test_the_problem_body_does_not_echo_other_customers_data(client, customer):
    cid = customer()
    client.post(url(cid), json={**QUOTE, "summary": "秘密折扣 30%"}, headers=who())
    resp = client.get(url(cid), headers=who("rep-hl-b"))
    assert "秘密" not in json.dumps(resp.get_json(), ensure_ascii=False)
