"""The full customer record, lists, ownership and privacy through the gateway."""

from __future__ import annotations

import uuid

import pytest

from tests.gateway.conftest import auth

PROBLEM = "application/problem+json"
BASE = "/api/v1/customers"


def rep() -> str:
    return f"rep-{uuid.uuid4().hex[:8]}"


def new_customer(client, number, who=None, **extra):
    resp = client.post(BASE, json={"display_name": "陈静", "phones": [number], **extra}, headers=who or auth())
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_the_whole_record_through_http(client, phone):
    body = {
        "display_name": "李华", "phones": [phone()], "emails": [f"li.hua.{uuid.uuid4().hex[:6]}@example.com"],
        "type": "customer", "level": "A", "tags": ["回头客"], "source": "web", "stage": "target",
        "intent_notes": "下月续约", "preferences": [{"topic": "room", "note": "favourite room: 1208"}],
        "birthday": {"calendar": "lunar", "month": 1, "day": 1},
        "consent_sms": {"state": "granted"}, "region": {"province": "福建", "city": "厦门"},
    }
    made = client.post(BASE, json=body, headers=auth()).get_json()
    assert made["preferences"] == body["preferences"] and made["tags"] == ["回头客"]
    assert made["birthday"] == {"label": "birthday", "calendar": "lunar", "year": 0, "month": 1, "day": 1,
                                "leap_month": False}
    assert made["consent_sms"]["state"] == "granted" and made["consent_sms"]["changed_at"]
    assert made["view"] == "full" and made["owned_since"] and made["last_contact_at"] is None
    found = client.get(f"{BASE}/lookup", query_string={"email": body["emails"][0].upper()}, headers=auth())
    assert found.get_json()["id"] == made["id"]
    cleared = client.patch(f"{BASE}/{made['id']}", json={"birthday": None, "stage": "negotiating"},
                           headers={**auth(), "If-Match": f'"{made["etag"]}"'}).get_json()
    assert cleared["birthday"] is None and cleared["stage"] == "negotiating"


def test_list_filters_through_query_parameters(client, phone):
    who = auth(rep())
    new_customer(client, phone(), who, display_name="张伟", stage="won", tags=["vip"])
    new_customer(client, phone(), who, display_name="王芳", stage="lost")
    got = client.get(BASE, query_string={"stage": "won", "name_prefix": "zhang", "tag": "vip"}, headers=who)
    assert [c["display_name"] for c in got.get_json()["items"]] == ["张伟"]
    by_name = client.get(BASE, query_string={"order_by": "name"}, headers=who).get_json()
    assert [c["display_name"] for c in by_name["items"]] == ["王芳", "张伟"]
    recent = client.get(BASE, query_string={"created_after": "2020-01-01T00:00:00Z"}, headers=who).get_json()
    assert len(recent["items"]) == 2


@pytest.mark.parametrize("query", [
    {"stage": "hot"}, {"pool": "yes"}, {"created_after": "yesterday"}, {"created_after": "2026-01-01T00:00:00"},
    {"order_by": "phones"}, {"owner": "rep-a"}, {"stage": '{"$ne": null}'}, {"page_size": "0"},
])
def test_bad_list_parameters_are_400_naming_the_parameter(client, query):
    resp = client.get(BASE, query_string=query, headers=auth())
    assert resp.status_code == 400 and resp.mimetype == PROBLEM
    assert [e["field"] for e in resp.get_json()["errors"]] == list(query)


def test_lookup_needs_exactly_one_of_phone_or_email(client, phone):
    assert client.get(f"{BASE}/lookup", query_string={"phone": phone(), "email": "a@example.com"},
                      headers=auth()).status_code == 400
    assert client.get(f"{BASE}/lookup", query_string={"email": "not-an-email"}, headers=auth()).status_code == 400


def test_pool_claim_release_and_audit_over_http(client, phone):
    alice, bob = rep(), rep()
    made = new_customer(client, phone(), auth(alice))
    url = f"{BASE}/{made['id']}"
    assert client.post(f"{url}/release", json={"reason": "x" * 501}, headers=auth(alice)).status_code == 422
    released = client.post(f"{url}/release", json={"reason": "客户暂无需求"}, headers=auth(alice))
    assert released.status_code == 200 and released.get_json()["owner_id"] == ""
    pool = client.get(BASE, query_string={"pool": "true", "page_size": 200}, headers=auth(bob)).get_json()
    mine = [c for c in pool["items"] if c["id"] == made["id"]]
    assert mine and mine[0]["view"] == "pool" and mine[0]["phones"] == []
    claimed = client.post(f"{url}/claim", headers=auth(bob))
    assert claimed.status_code == 200 and claimed.get_json()["owner_id"] == bob
    assert client.post(f"{url}/claim", headers=auth(rep())).status_code == 404
    audit = client.get(f"{url}/ownership-changes", headers=auth(bob)).get_json()["items"]
    assert [(a["action"], a["changed_by"]) for a in audit] == [("release", alice), ("claim", bob)]


def test_transfer_and_hand_over_are_for_managers(client, phone):
    alice, bob = rep(), rep()
    made = new_customer(client, phone(), auth(alice))
    url = f"{BASE}/{made['id']}/transfer"
    assert client.post(url, json={"to_owner_id": bob}, headers=auth(alice)).status_code == 403
    assert client.post(url, json={"to_owner_id": {"$ne": ""}}, headers=auth("boss", "manager")).status_code == 422
    moved = client.post(url, json={"to_owner_id": bob, "reason": "调岗"}, headers=auth("boss", "manager"))
    assert moved.status_code == 200 and moved.get_json()["owner_id"] == bob
    hand_over = client.post(f"{BASE}/hand-over", json={"from_owner_id": bob, "to_owner_ids": [alice]},
                            headers=auth("boss", "manager"))
    assert hand_over.get_json() == {"moved_count": 1, "skipped_ids": []}


def test_export_and_erase_are_for_admins(client, phone):
    number = phone()
    made = new_customer(client, number, display_name="待删除")
    url = f"{BASE}/{made['id']}"
    assert client.get(f"{url}/export", headers=auth("boss", "manager")).status_code == 403
    exported = client.get(f"{url}/export", headers=auth("root", "admin"))
    assert exported.status_code == 200 and exported.get_json()["customer"]["display_name"] == "待删除"
    assert "attachment" in exported.headers["Content-Disposition"]
    erased = client.post(f"{url}/erase", json={"reason": "客户要求"}, headers=auth("root", "admin"))
    assert erased.status_code == 200 and erased.get_json()["erased_at"] and erased.get_json()["phones"] == []
    assert client.get(url, headers=auth("root", "admin")).status_code == 404
    assert new_customer(client, number, auth(rep()))["id"] != made["id"]


def test_referrals_over_http(client, phone):
    referrer = new_customer(client, phone())
    friend = new_customer(client, phone(), referred_by=referrer["id"])
    both = client.get(f"{BASE}/{referrer['id']}/referrals", headers=auth()).get_json()
    assert both == {"referred_by": "", "referred_ids": [friend["id"]]}
    assert client.post(BASE, json={"display_name": "x", "phones": [phone()], "referred_by": "cus_" + "f" * 24},
                       headers=auth()).status_code == 422
