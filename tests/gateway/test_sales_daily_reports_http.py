"""Daily reports through the gateway over the real sales and customer
services: a rep opens the day's report prefilled with the customers called
and visited, submits it, edits it; the manager sees the team's day and who is
missing; bad input and other people's reports are refused; every answer
matches the OpenAPI document."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from crm_sales.profitability.daily_reports import model as rules
from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check

ITEM = "/api/v1/daily-reports/{rep_id}/{day}"


@pytest.fixture
def team():
    tag = uuid.uuid4().hex[:6]
    return f"team-drh-{tag}", f"rep-drh-a-{tag}", f"rep-drh-b-{tag}"


@pytest.fixture(scope="module")
def feature(services):
    return services.hosts["sales"].app.features["daily_reports"]


@pytest.fixture
def before_the_deadline(feature):
    """The sales service's time set to noon of today (local): the day's report is open whenever the suite runs."""
    original = feature.clock
    day = rules.local_day(datetime.now(timezone.utc), feature.zone)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=feature.zone).astimezone(timezone.utc)
    feature.clock = lambda: noon
    yield
    feature.clock = original


def today(feature):
    return rules.local_day(datetime.now(timezone.utc), feature.zone).isoformat()


def test_a_reps_day_prefilled_submitted_edited_and_seen_by_the_manager(client, spec, phone, team, feature,
                                                                      before_the_deadline):
    team_id, rep, other = team
    me, manager = auth(rep, "rep", team=team_id), auth(f"boss-{team_id}", "manager", team=team_id)
    made = client.post("/api/v1/customers", json={"display_name": "赵敏", "phones": [phone()]}, headers=me)
    assert made.status_code == 201
    cid = made.get_json()["id"]
    happened = (datetime.now(timezone.utc) - timedelta(minutes=2)).replace(microsecond=0)
    day = rules.local_day(happened, feature.zone).isoformat()
    logged = client.post(f"/api/v1/customers/{cid}/interactions", headers=me, json={
        "channel": "call", "direction": "outbound", "summary": "约了下周拜访",
        "occurred_at": happened.isoformat().replace("+00:00", "Z")})
    assert logged.status_code == 201
    url = f"/api/v1/daily-reports/{rep}/{day}"
    deadline = time.monotonic() + 20
    while True:
        opened = client.get(url, headers=me)
        if opened.get_json()["contacted"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    _check(spec, opened, ITEM, "get")
    body = opened.get_json()
    assert body["submitted"] is False and body["submitted_at"] is None
    assert [(c["customer_id"], c["channels"], c["interaction_count"]) for c in body["contacted"]] == \
        [(cid, ["call"], 1)]

    sent = client.put(url, headers=me, json={"work_done": "电话跟进赵敏", "tomorrow_plan": "拜访", "problems": ""})
    _check(spec, sent, ITEM, "put")
    assert sent.status_code == 200 and sent.get_json()["submitted"] and sent.get_json()["revision"] == 1
    assert sent.headers["ETag"] == '"1"'
    edited = client.put(url, headers={**me, "If-Match": '"1"'},
                        json={"work_done": "电话跟进赵敏，已报价", "problems": "库存不足"})
    assert (edited.get_json()["revision"], edited.get_json()["problems"]) == (2, "库存不足")
    stale = client.put(url, headers={**me, "If-Match": '"1"'}, json={"work_done": "旧的版本"})
    _check(spec, stale, ITEM, "put")
    assert stale.status_code == 412 and client.get(url, headers=me).get_json()["work_done"] == "电话跟进赵敏，已报价"
    team_day = client.get(f"/api/v1/daily-reports?day={day}", headers=manager)
    _check(spec, team_day, "/api/v1/daily-reports", "get")
    assert [r["rep_id"] for r in team_day.get_json()["reports"]] == [rep]
    assert team_day.get_json()["reports"][0]["contacted"][0]["customer_id"] == cid

    roster = client.put(f"/api/v1/daily-reports/rosters/{team_id}", headers=manager, json={"rep_ids": [rep, other]})
    _check(spec, roster, "/api/v1/daily-reports/rosters/{team_id}", "put")
    assert roster.get_json() == {"team_id": team_id, "rep_ids": sorted([rep, other]), "source": "set"}
    assert client.get(f"/api/v1/daily-reports?day={day}", headers=manager).get_json()["missing_rep_ids"] == [other]
    got = client.get(f"/api/v1/daily-reports/rosters/{team_id}", headers=manager)
    _check(spec, got, "/api/v1/daily-reports/rosters/{team_id}", "get")
    assert got.get_json()["source"] == "set"


def test_refusals(client, spec, team, feature):
    team_id, rep, other = team
    me = auth(rep, "rep", team=team_id)
    day = today(feature)
    url = f"/api/v1/daily-reports/{rep}/{day}"
    cases = [
        (client.put(url, headers=me, json={"work_done": ""}), 422),
        (client.put(url, headers=me, json={"work_done": "x", "extra": 1}), 422),
        (client.put(url, headers=me, json={"work_done": {"$gt": ""}}), 422),
        (client.put(url, headers=me, json={"work_done": "x" * 4001}), 422),
        (client.put(f"/api/v1/daily-reports/{rep}/2999-01-01", headers=me, json={"work_done": "x"}), 422),
        (client.put(f"/api/v1/daily-reports/{rep}/2026-02-30", headers=me, json={"work_done": "x"}), 422),
        (client.put(f"/api/v1/daily-reports/{other}/{day}", headers=me, json={"work_done": "x"}), 403),
        (client.get(f"/api/v1/daily-reports/{other}/{day}", headers=me), 404),
        (client.get(f"/api/v1/daily-reports?team_id={team_id}", headers=me), 403),
        (client.get("/api/v1/daily-reports?team_id=team-elsewhere",
                    headers=auth("boss-x", "manager", team=team_id)), 404),
        (client.put(f"/api/v1/daily-reports/rosters/{team_id}", headers=auth("fin", "finance"),
                    json={"rep_ids": [rep]}), 403),
        (client.put(f"/api/v1/daily-reports/rosters/{team_id}", headers=auth("boss", "manager", team=team_id),
                    json={"rep_ids": ["bad|id"]}), 422),
    ]
    for resp, status in cases:
        assert resp.status_code == status, (resp.request.method, resp.request.path, resp.get_json())
        assert resp.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/daily-reports/{rep}/not-a-day", headers=me).status_code == 404
    _check(spec, cases[0][0], ITEM, "put")
    _check(spec, cases[7][0], ITEM, "get")
