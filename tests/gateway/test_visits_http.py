"""Scheduled visits through the gateway (Flask) over real gRPC services."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check

PROBLEM = "application/problem+json"
TEAM = "team-http-visit"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def rep(request):
    return f"rep-hv-{request.node.name[5:40]}"


@pytest.fixture
def me(rep):
    return auth(rep, "rep", team=TEAM)


@pytest.fixture
def customer(client, phone, me):
    made = client.post("/api/v1/customers", json={"display_name": "张无忌", "phones": [phone()]}, headers=me)
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def plan(client, headers, customer_id, at=None, **extra):
    body = {"customer_id": customer_id, "scheduled_at": iso(at or NOW + timedelta(days=1)), "purpose": "节前拜访",
            **extra}
    return client.post("/api/v1/visits", json=body, headers=headers)


def test_plan_list_complete_with_recurrence(client, me, customer, spec):
    made = plan(client, me, customer, at=NOW - timedelta(days=3), recurrence_days=90)
    assert made.status_code == 201 and made.headers["Location"] == f"/api/v1/visits/{made.get_json()['id']}"
    visit = made.get_json()
    assert visit["overdue"] is True and visit["state"] == "scheduled" and visit["closed_at"] is None
    later = plan(client, me, customer, at=NOW + timedelta(days=10)).get_json()
    listed = client.get("/api/v1/visits", headers=me)
    assert [v["id"] for v in listed.get_json()["items"]] == [visit["id"], later["id"]]
    due = client.get("/api/v1/visits", query_string={"due_before": iso(NOW + timedelta(days=1))}, headers=me)
    assert [v["id"] for v in due.get_json()["items"]] == [visit["id"]]
    got = client.get(made.headers["Location"], headers=me)
    assert got.get_json() == visit
    done = client.post(f"/api/v1/visits/{visit['id']}/complete",
                       json={"summary": "送了节礼", "commitments": ["月底前报价"]}, headers=me)
    assert done.status_code == 200
    result = done.get_json()
    assert result["visit"]["state"] == "completed" and result["interaction"]["channel"] == "visit"
    assert result["next_visit"]["scheduled_at"] == iso(NOW + timedelta(days=87))
    log = client.get(f"/api/v1/customers/{customer}/interactions/summary", headers=me).get_json()
    assert log["last_commitment"] == result["interaction"]
    for resp, path, method in ((made, "/api/v1/visits", "post"), (listed, "/api/v1/visits", "get"),
                               (due, "/api/v1/visits", "get"), (got, "/api/v1/visits/{visit_id}", "get"),
                               (done, "/api/v1/visits/{visit_id}/complete", "post")):
        _check(spec, resp, path, method)


def test_cancel_then_complete_is_a_conflict(client, me, customer, spec):
    vid = plan(client, me, customer).get_json()["id"]
    cancelled = client.post(f"/api/v1/visits/{vid}/cancel", headers=me)
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    conflict = client.post(f"/api/v1/visits/{vid}/complete", json={"summary": "x"}, headers=me)
    assert conflict.status_code == 409 and conflict.mimetype == PROBLEM
    assert client.get("/api/v1/visits", headers=me).get_json()["items"] == []
    _check(spec, cancelled, "/api/v1/visits/{visit_id}/cancel", "post")
    _check(spec, conflict, "/api/v1/visits/{visit_id}/complete", "post")


@pytest.mark.parametrize("extra,field", [
    ({"purpose": ""}, "purpose"),
    ({"purpose": "p" * 501}, "purpose"),
    ({"recurrence_days": -1}, "recurrence_days"),
    ({"recurrence_days": {"$gt": 0}}, "recurrence_days"),
    ({"rep_id": {"$ne": ""}}, "rep_id"),
    ({"scheduled_at": "tomorrow"}, "scheduled_at"),
    ({"scheduled_at": "2026-02-30T10:00:00Z"}, "scheduled_at"),
    ({"scheduled_at": "2000-01-01T10:00:00Z"}, "scheduled_at"),
    ({"customer_id": "x" * 65}, "customer_id"),
    ({"customer_id": "cus_bad"}, "customer_id"),
    ({"colour": "red"}, "(body)"),
])
def test_bad_plans_are_422_naming_the_field_and_nothing_is_written(client, me, rep, customer, customer_db, spec,
                                                                   extra, field):
    fields = {k: v for k, v in extra.items() if k != "customer_id"}
    resp = plan(client, me, extra.get("customer_id", customer), **fields)
    assert resp.status_code == 422 and resp.mimetype == PROBLEM
    assert field in [e["field"] for e in resp.get_json()["errors"]]
    _check(spec, resp, "/api/v1/visits", "post")
    assert customer_db.visit_reps.find_one({"_id": f"rep:{rep}"}) is None


def test_bad_completions_and_queries(client, me, customer):
    vid = plan(client, me, customer).get_json()["id"]
    for body in ({}, {"summary": "x", "channel": "call"}, {"summary": {"$ne": 1}},
                 {"summary": "x", "quote_lines": [{"item": "a", "quantity": 1,
                                                   "unit_price": {"minor_units": 1, "currency_code": "EURO"}}]}):
        resp = client.post(f"/api/v1/visits/{vid}/complete", json=body, headers=me)
        assert resp.status_code == 422 and resp.mimetype == PROBLEM, body
    for query in ({"due_before": "soon"}, {"due_before": "2026-01-01"}, {"page_size": 500}, {"page_token": "zzz"},
                  {"state": "open"}, {"due_before": "0001-01-01T00:00:00+01:00"}):
        resp = client.get("/api/v1/visits", query_string=query, headers=me)
        assert resp.status_code == 400 and resp.mimetype == PROBLEM, query
    assert client.get(f"/api/v1/visits/{vid}", headers=me).get_json()["state"] == "scheduled"


def test_roles(client, me, rep, customer):
    vid = plan(client, me, customer).get_json()["id"]
    other = auth(f"{rep}-b", "rep", team=TEAM)
    assert client.get(f"/api/v1/visits/{vid}", headers=other).status_code == 404
    assert client.post(f"/api/v1/visits/{vid}/cancel", headers=other).status_code == 404
    assert client.get("/api/v1/visits", query_string={"rep_id": rep}, headers=other).status_code == 403
    assert plan(client, other, customer).status_code == 404
    assert plan(client, me, customer, rep_id=f"{rep}-b").status_code == 403
    manager = auth("boss-hv", "manager", team=TEAM)
    assert [v["id"] for v in client.get("/api/v1/visits", query_string={"rep_id": rep},
                                        headers=manager).get_json()["items"]] == [vid]
    assert client.get("/api/v1/visits", headers=auth("agent-hv", "agent")).status_code == 403
    assert client.post("/api/v1/visits", json={}, headers=auth("fin-hv", "finance")).status_code == 403
    assert client.get("/api/v1/visits").status_code == 401
