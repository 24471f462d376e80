"""Loyalty through the gateway (Flask) over the real customer and loyalty
services: accounts, the ledger, adjustments, the rewards catalogue,
redemptions and their cancellation, greeting templates, greeting runs and the
delivery log; every answer checked against the served OpenAPI document."""

from __future__ import annotations

import time
import uuid

from tests.gateway.conftest import auth
from tests.polling import wait_for
from tests.gateway.test_openapi import _check

TEAM = f"team-http-loyalty-{uuid.uuid4().hex[:6]}"
REP = auth("rep-http-loyalty", team=TEAM)
OTHER_REP = auth("rep-http-loyalty-b", team=TEAM)
MANAGER = auth("boss-http-loyalty", "manager", team=TEAM)
ADMIN = auth("admin-http-loyalty", "admin")
PROBLEM = "application/problem+json"


def new_customer(client, phone, **extra) -> str:
    made = client.post("/api/v1/customers", json={"display_name": "史湘云", "phones": [phone()], **extra},
                       headers=REP)
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def test_adjust_read_and_page_the_ledger(client, spec, phone):
    customer = new_customer(client, phone)
    base = f"/api/v1/customers/{customer}/loyalty"
    empty = client.get(base, headers=REP)
    _check(spec, empty, "/api/v1/customers/{customer_id}/loyalty", "get")
    assert empty.get_json()["balance"] == 0 and empty.get_json()["tier"]["code"] == "member"

    for n, points in enumerate((500, 250, -100)):
        made = client.post(f"{base}/adjustments", json={"points": points, "reason": f"调整 {n}"},
                           headers={**ADMIN, "Idempotency-Key": f"adj-{customer}-{n}"})
        _check(spec, made, "/api/v1/customers/{customer_id}/loyalty/adjustments", "post")
        assert made.status_code == 201 and made.get_json()["entry"]["actor"] == "admin-http-loyalty"
    again = client.post(f"{base}/adjustments", json={"points": 500, "reason": "调整 0"},
                        headers={**ADMIN, "Idempotency-Key": f"adj-{customer}-0"})
    assert again.status_code == 201  # replayed: the key's first answer, nothing added
    account = client.get(base, headers=REP).get_json()
    assert account["balance"] == 650 and account["earned_total"] == 750 and account["opened_at"]

    first = client.get(f"{base}/ledger?page_size=2", headers=REP)
    _check(spec, first, "/api/v1/customers/{customer_id}/loyalty/ledger", "get")
    page = first.get_json()
    assert [e["points"] for e in page["items"]] == [-100, 250] and page["next_page_token"]
    rest = client.get(f"{base}/ledger", query_string={"page_token": page["next_page_token"]}, headers=REP).get_json()
    assert [e["points"] for e in rest["items"]] == [500] and rest["next_page_token"] == ""
    assert page["items"][0]["balance_after"] == 650 and page["items"][0]["kind"] == "adjustment"


def test_rights_on_accounts(client, spec, phone):
    customer = new_customer(client, phone)
    base = f"/api/v1/customers/{customer}/loyalty"
    by_rep = client.post(f"{base}/adjustments", json={"points": -5, "reason": "nope"}, headers=REP)
    _check(spec, by_rep, "/api/v1/customers/{customer_id}/loyalty/adjustments", "post")
    assert by_rep.status_code == 403 and by_rep.mimetype == PROBLEM
    not_yours = client.get(base, headers=auth("rep-http-loyalty-x", team="team-elsewhere"))
    _check(spec, not_yours, "/api/v1/customers/{customer_id}/loyalty", "get")
    assert not_yours.status_code == 404
    scoped = client.get(base, headers=auth("erp-loyalty", "integration", team="", scopes="customers:read"))
    assert scoped.status_code == 403  # needs loyalty:read
    # An integration reads only opened accounts (it has no customer rights to be checked), and the account
    # opens from customer.created, a moment after the customer: asked until it is there.
    with_scope = wait_for(lambda: client.get(base, headers=auth("erp-loyalty", "integration", team="",
                                                                scopes="loyalty:read")),
                          lambda answer: answer.status_code != 404)
    assert with_scope.status_code == 200
    zero = client.post(f"{base}/adjustments", json={"points": 0, "reason": "nothing"}, headers=ADMIN)
    _check(spec, zero, "/api/v1/customers/{customer_id}/loyalty/adjustments", "post")
    assert zero.status_code == 422
    below = client.post(f"{base}/adjustments", json={"points": -1, "reason": "below zero"}, headers=ADMIN)
    _check(spec, below, "/api/v1/customers/{customer_id}/loyalty/adjustments", "post")
    assert below.status_code == 409
    assert client.get(base, headers=REP).get_json()["balance"] == 0


def test_the_catalogue_and_a_redemption_cancelled(client, spec, phone):
    customer = new_customer(client, phone)
    base = f"/api/v1/customers/{customer}/loyalty"
    client.post(f"{base}/adjustments", json={"points": 1000, "reason": "gift"}, headers=ADMIN)
    made = client.post("/api/v1/rewards", json={"name": "电影票", "points_cost": 400, "stock": 2,
                                                "per_customer_limit": 1, "valid_from": "2020-01-01"},
                       headers=MANAGER)
    _check(spec, made, "/api/v1/rewards", "post")
    assert made.status_code == 201, made.get_json()
    reward = made.get_json()
    assert (reward["stock"], reward["active"], reward["valid_from"], reward["valid_until"]) == \
        (2, True, "2020-01-01", None)
    by_rep = client.post("/api/v1/rewards", json={"name": "x", "points_cost": 1, "stock": 1}, headers=REP)
    assert by_rep.status_code == 403
    listed = client.get("/api/v1/rewards?available_only=true&page_size=200", headers=REP)
    _check(spec, listed, "/api/v1/rewards", "get")
    assert reward["id"] in [r["id"] for r in listed.get_json()["items"]]

    redeemed = client.post(f"{base}/redemptions", json={"reward_id": reward["id"]}, headers=REP)
    _check(spec, redeemed, "/api/v1/customers/{customer_id}/loyalty/redemptions", "post")
    assert redeemed.status_code == 201 and redeemed.get_json()["points"] == 400
    limit = client.post(f"{base}/redemptions", json={"reward_id": reward["id"]}, headers=REP)
    _check(spec, limit, "/api/v1/customers/{customer_id}/loyalty/redemptions", "post")
    assert limit.status_code == 409 and limit.get_json()["reasons"] == ["LIMIT"]
    got = client.get(f"/api/v1/rewards/{reward['id']}", headers=REP)
    _check(spec, got, "/api/v1/rewards/{reward_id}", "get")
    assert got.get_json()["stock"] == 1
    assert client.get(base, headers=REP).get_json()["balance"] == 600

    rid = redeemed.get_json()["id"]
    cancel_url = f"{base}/redemptions/{rid}/cancel"
    cancelled = client.post(cancel_url, headers=REP)
    _check(spec, cancelled, "/api/v1/customers/{customer_id}/loyalty/redemptions/{redemption_id}/cancel", "post")
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    assert client.post(cancel_url, headers=REP).get_json()["state"] == "cancelled"  # again: harmless
    assert client.get(base, headers=REP).get_json()["balance"] == 1000
    assert client.get(f"/api/v1/rewards/{reward['id']}", headers=REP).get_json()["stock"] == 2
    history = client.get(f"{base}/redemptions", headers=REP)
    _check(spec, history, "/api/v1/customers/{customer_id}/loyalty/redemptions", "get")
    assert [(r["id"], r["state"]) for r in history.get_json()["items"]] == [(rid, "cancelled")]
    someone_else = client.post(cancel_url, headers=auth("rep-http-loyalty-x", team="team-elsewhere"))
    assert someone_else.status_code == 404

    changed = client.patch(f"/api/v1/rewards/{reward['id']}", json={"points_cost": 900, "add_stock": 3},
                           headers=MANAGER)
    _check(spec, changed, "/api/v1/rewards/{reward_id}", "patch")
    assert (changed.get_json()["points_cost"], changed.get_json()["stock"]) == (900, 5)
    too_few = client.patch(f"/api/v1/rewards/{reward['id']}", json={"add_stock": -6}, headers=MANAGER)
    _check(spec, too_few, "/api/v1/rewards/{reward_id}", "patch")
    assert too_few.status_code == 409
    retired = client.delete(f"/api/v1/rewards/{reward['id']}", headers=MANAGER)
    _check(spec, retired, "/api/v1/rewards/{reward_id}", "delete")
    assert retired.get_json()["active"] is False
    refused = client.post(f"{base}/redemptions", json={"reward_id": reward["id"]}, headers=REP)
    assert refused.status_code == 409 and refused.get_json()["reasons"] == ["VALIDITY"]
    unknown = client.get("/api/v1/rewards/rwd_000000000000000000000000", headers=REP)
    _check(spec, unknown, "/api/v1/rewards/{reward_id}", "get")
    assert unknown.status_code == 404


def test_templates_a_run_and_the_delivery_log(client, spec, phone):
    url = "/api/v1/greetings/templates/dragon_boat/en"
    by_manager = client.put(url, json={"subject": "Hi", "body": "Hello {name}"}, headers=MANAGER)
    assert by_manager.status_code == 403
    bad = client.put(url, json={"subject": "Hi", "body": "Hello {name}, you have {points}"}, headers=ADMIN)
    _check(spec, bad, "/api/v1/greetings/templates/{occasion}/{language}", "put")
    assert bad.status_code == 422 and "{points}" in bad.get_json()["detail"]
    good = client.put(url, json={"subject": "Dragon Boat", "body": "Happy Dragon Boat Festival, {name} ({tier})!"},
                      headers=ADMIN)
    _check(spec, good, "/api/v1/greetings/templates/{occasion}/{language}", "put")
    assert good.status_code == 200 and good.get_json()["built_in"] is False
    listed = client.get("/api/v1/greetings/templates", headers=ADMIN)
    _check(spec, listed, "/api/v1/greetings/templates", "get")
    mine = [t for t in listed.get_json()["items"] if (t["occasion"], t["language"]) == ("dragon_boat", "en")]
    assert [t["body"] for t in mine] == ["Happy Dragon Boat Festival, {name} ({tier})!"]
    reset = client.delete(url, headers=ADMIN)
    _check(spec, reset, "/api/v1/greetings/templates/{occasion}/{language}", "delete")
    assert reset.get_json()["built_in"] is True

    customer = new_customer(client, phone)
    log = client.get(f"/api/v1/customers/{customer}/greetings", headers=REP)
    _check(spec, log, "/api/v1/customers/{customer_id}/greetings", "get")
    assert log.get_json()["items"] == []
    impossible = client.post("/api/v1/greetings/runs", json={"on_date": "2026-02-30"}, headers=ADMIN)
    _check(spec, impossible, "/api/v1/greetings/runs", "post")
    assert impossible.status_code == 422
    by_rep = client.post("/api/v1/greetings/runs", json={}, headers=REP)
    assert by_rep.status_code == 403


def test_a_greeting_run_answers_at_once_and_is_polled_to_its_result(client, spec, phone, services):
    # A birthday on a day without a holiday, no consent: the run decides "skipped" for this customer.
    day = "2031-06-17"
    customer = new_customer(client, phone, birthday={"calendar": "gregorian", "month": 6, "day": 17})
    services.hosts["loyalty"].app.features["accounts"].open(customer)  # the run's source: every account

    runs = "/api/v1/greetings/runs"
    started = client.post(runs, json={"on_date": day}, headers=ADMIN)
    _check(spec, started, runs, "post")
    assert started.status_code == 202, started.get_json()
    run = started.get_json()
    assert started.headers["Location"] == f"{runs}/{run['run_id']}"
    assert (run["on_date"], run["started_by"], run["finished_at"], run["stopped_reason"]) == \
        (day, "admin-http-loyalty", None, "")

    deadline = time.monotonic() + 60
    while (polled := client.get(started.headers["Location"], headers=ADMIN)).get_json()["finished_at"] is None:
        assert time.monotonic() < deadline, "the run never finished"
        time.sleep(0.1)
    _check(spec, polled, f"{runs}/{{run_id}}", "get")
    done = polled.get_json()
    assert (done["run_id"], done["stopped_reason"], done["errors"]) == (run["run_id"], "", 0)
    assert done["customers"] >= 1 and done["skipped"] >= 1 and done["updated_at"] >= done["started_at"]
    log = client.get(f"/api/v1/customers/{customer}/greetings", headers=REP).get_json()["items"]
    assert [(d["occasion"], d["year"], d["outcome"], d["reason"]) for d in log] == \
        [("birthday", 2031, "skipped", "no_consent")]

    assert client.get(started.headers["Location"], headers=REP).status_code == 403
    assert client.get(started.headers["Location"], headers=MANAGER).status_code == 403
    for unknown in ("greetings_20310617_20310617T000000_000000000000", "nope", run["run_id"] + "0"):
        missing = client.get(f"{runs}/{unknown}", headers=ADMIN)
        _check(spec, missing, f"{runs}/{{run_id}}", "get")
        assert missing.status_code == 404, unknown
