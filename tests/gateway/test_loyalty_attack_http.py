"""Loyalty through the gateway as a careless or hostile caller would use it:
malformed ids, impossible dates, numbers out of range, forged page tokens,
template tricks, tokens without the scope. Every answer is a 4xx problem
naming what is wrong, never a 5xx, and nothing changes."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.gateway.conftest import auth

TEAM = f"team-attack-loyalty-{uuid.uuid4().hex[:6]}"
REP = auth("rep-attack-loyalty", team=TEAM)
OTHER_REP = auth("rep-attack-loyalty-b", team=f"{TEAM}-b")
ADMIN = auth("admin-attack-loyalty", "admin")
NO_SCOPE = auth("int-attack-loyalty", "integration", scopes="customers:read")
PROBLEM = "application/problem+json"


def new_customer(client, phone) -> str:
    made = client.post("/api/v1/customers", json={"display_name": "薛宝钗", "phones": [phone()]}, headers=REP)
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def forged(position: dict, query: dict) -> str:
    raw = json.dumps({"p": position, "q": query}, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def funded(client, phone):
    customer = new_customer(client, phone)
    made = client.post(f"/api/v1/customers/{customer}/loyalty/adjustments", json={"points": 300, "reason": "seed"},
                       headers=ADMIN)
    assert made.status_code == 201
    return customer


def test_bad_input_is_a_4xx_problem_and_changes_nothing(client, funded):
    customer = funded
    base = f"/api/v1/customers/{customer}/loyalty"
    reward = client.post("/api/v1/rewards", json={"name": "帆布包 tote", "points_cost": 100, "stock": 3},
                         headers=ADMIN).get_json()
    tries = [
        ("GET", "/api/v1/customers/cus_$ne/loyalty", None, REP),
        ("GET", "/api/v1/customers/" + "x" * 5000 + "/loyalty", None, REP),
        ("GET", f"{base}/ledger?page_token={forged({'before': 10**30}, {'c': customer})}", None, REP),
        ("GET", f"{base}/ledger?page_token={forged({'before': 'x'}, {'c': customer})}", None, REP),
        ("GET", f"{base}/redemptions?page_token={forged({'before': -1}, {'c': customer})}", None, REP),
        ("GET", f"/api/v1/rewards?page_token={forged({'n': 2**70}, {'a': False})}", None, REP),
        ("GET", f"{base}/ledger?page_size=-1", None, REP),
        ("POST", f"{base}/adjustments", {"points": 2**63, "reason": "huge"}, ADMIN),
        ("POST", f"{base}/adjustments", {"points": 0, "reason": "zero"}, ADMIN),
        ("POST", f"{base}/adjustments", {"points": -301, "reason": "more than held"}, ADMIN),
        ("POST", f"{base}/adjustments", {"points": "1e3", "reason": "text"}, ADMIN),
        ("POST", f"{base}/adjustments", {"points": 10, "reason": "\u0000"}, ADMIN),
        ("POST", f"{base}/adjustments", {"points": -10, "reason": "a rep's"}, REP),
        ("POST", f"{base}/redemptions", {"reward_id": "rwd_" + "a" * 26}, REP),
        ("POST", f"{base}/redemptions", {"reward_id": {"$gt": ""}}, REP),
        ("POST", f"{base}/redemptions", {"reward_id": reward["id"]}, OTHER_REP),
        ("POST", f"{base}/redemptions", {"reward_id": reward["id"]}, NO_SCOPE),
        ("POST", f"{base}/redemptions/rdm_nope/cancel", None, REP),
        ("POST", "/api/v1/rewards", {"name": "x", "points_cost": 1, "stock": 1, "valid_from": "2026-02-30"}, ADMIN),
        ("POST", "/api/v1/rewards", {"name": "x", "points_cost": 1, "stock": 1, "valid_from": "0000-01-01"}, ADMIN),
        ("POST", "/api/v1/rewards", {"name": "x", "points_cost": 1, "stock": 1, "valid_from": "2026-06-01",
                                     "valid_until": "2026-05-01"}, ADMIN),
        ("POST", "/api/v1/rewards", {"name": "x", "points_cost": 1, "stock": 1, "per_customer_limit": 5000}, ADMIN),
        ("POST", "/api/v1/rewards", {"name": "x", "points_cost": -1, "stock": 1}, ADMIN),
        ("PATCH", f"/api/v1/rewards/{reward['id']}", {"add_stock": -4}, ADMIN),
        ("PATCH", f"/api/v1/rewards/{reward['id']}", {}, ADMIN),
        ("PATCH", f"/api/v1/rewards/{reward['id']}", {"valid_until": "9999-99-99"}, ADMIN),
        ("PUT", "/api/v1/greetings/templates/birthday/en", {"body": "Hi {name.__class__}"}, ADMIN),
        ("PUT", "/api/v1/greetings/templates/birthday/en", {"body": "Hi {name!r}"}, ADMIN),
        ("PUT", "/api/v1/greetings/templates/birthday/en", {"body": "Hi {name:>99999}"}, ADMIN),
        ("PUT", "/api/v1/greetings/templates/birthday/en", {"body": "Hi {0} {}"}, ADMIN),
        ("PUT", "/api/v1/greetings/templates/birthday/en", {"body": "Hi {name"}, ADMIN),
        ("PUT", "/api/v1/greetings/templates/birthday/en", {"body": "Hi {name}", "subject": "a\r\nBcc: x"}, ADMIN),
        ("PUT", "/api/v1/greetings/templates/no_such/en", {"body": "Hi {name}"}, ADMIN),
        ("PUT", "/api/v1/greetings/templates/birthday/fr", {"body": "Hi {name}"}, ADMIN),
        ("POST", "/api/v1/greetings/runs", {"on_date": "2026-13-01"}, ADMIN),
        ("GET", f"/api/v1/customers/{customer}/greetings?page_size=1000", None, REP),
        ("GET", f"/api/v1/customers/{customer}/greetings", None, OTHER_REP),
        ("GET", base, None, NO_SCOPE),
        ("GET", base, None, OTHER_REP),
    ]
    for method, url, body, who in tries:
        answer = client.open(url, method=method, json=body, headers=who)
        assert 400 <= answer.status_code < 500, (method, url[:120], body, answer.status_code, answer.get_data()[:300])
        assert answer.mimetype == PROBLEM, (method, url[:120])
    account = client.get(base, headers=REP).get_json()
    assert account["balance"] == 300 and account["redeemed_total"] == 0
    assert client.get(f"/api/v1/rewards/{reward['id']}", headers=REP).get_json()["stock"] == 3
    template = [t for t in client.get("/api/v1/greetings/templates", headers=ADMIN).get_json()["items"]
                if (t["occasion"], t["language"]) == ("birthday", "en")]
    assert "{name.__class__}" not in template[0]["body"] and "{name!r}" not in template[0]["body"]


def test_one_idempotency_key_used_by_two_callers_is_two_requests(client, funded):
    """The gateway replays a key per caller; the service's retry check must not merge two callers'
    requests either (a second admin's adjustment under a key the first used was answered 201 with
    the first one's entry and never applied)."""
    customer = funded
    base = f"/api/v1/customers/{customer}/loyalty"
    second_admin = auth("admin-attack-loyalty-2", "admin")
    first = client.post(f"{base}/adjustments", json={"points": 40, "reason": "first desk"},
                        headers={**ADMIN, "Idempotency-Key": "1"})
    second = client.post(f"{base}/adjustments", json={"points": 40, "reason": "second desk"},
                         headers={**second_admin, "Idempotency-Key": "1"})
    assert first.status_code == second.status_code == 201
    assert second.get_json()["entry"]["actor"] == "admin-attack-loyalty-2"
    assert client.get(base, headers=REP).get_json()["balance"] == 380
    reward = client.post("/api/v1/rewards", json={"name": "书签 bookmark", "points_cost": 10, "stock": 5},
                         headers=ADMIN).get_json()
    manager = auth("boss-attack-loyalty", "manager", team=TEAM)
    by_rep = client.post(f"{base}/redemptions", json={"reward_id": reward["id"]},
                         headers={**REP, "Idempotency-Key": "r1"})
    by_manager = client.post(f"{base}/redemptions", json={"reward_id": reward["id"]},
                             headers={**manager, "Idempotency-Key": "r1"})
    assert by_rep.status_code == by_manager.status_code == 201
    assert by_rep.get_json()["id"] != by_manager.get_json()["id"]
    assert client.get(base, headers=REP).get_json()["balance"] == 360
