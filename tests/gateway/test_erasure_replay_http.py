"""Erasure reaches the gateway's stored answers: after a customer is erased,
replaying the create with its Idempotency-Key no longer hands out the
erased name, phone and e-mail (a consumer of customer.erased deletes them)."""

from __future__ import annotations

import time

import redis

from tests.gateway.conftest import auth


def _wait_until(predicate, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_an_erased_customers_replayed_create_is_gone(client, stores, phone):
    admin = auth("admin-1", "admin")
    number = phone()
    body = {"display_name": "Erase Me Replay", "phones": [number], "emails": ["erase.me.replay@example.com"]}
    key = {"Idempotency-Key": f"create-{number}"}
    created = client.post("/api/v1/customers", json=body, headers={**admin, **key})
    assert created.status_code == 201
    customer_id = created.get_json()["id"]
    replay = client.post("/api/v1/customers", json=body, headers={**admin, **key})
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.get_json()["id"] == customer_id

    erased = client.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "customer asked"},
                         headers={**admin, "Idempotency-Key": f"erase-{number}"})
    assert erased.status_code == 200

    gateway_store = redis.Redis.from_url(stores.redis_url.rsplit("/", 1)[0] + "/1")
    assert _wait_until(lambda: not gateway_store.exists(f"idem:customer:{customer_id}"))
    # No stored answer anywhere in the gateway's store still holds the erased data.
    for stored_key in gateway_store.scan_iter("idem:*"):
        if stored_key.startswith(b"idem:customer:"):
            continue  # the per-customer indexes (sets of keys)
        value = gateway_store.get(stored_key)
        assert value is None or b"Erase Me Replay" not in value and number.encode() not in value

    again = client.post("/api/v1/customers", json=body, headers={**admin, **key})
    assert again.headers.get("Idempotent-Replayed") is None  # nothing to replay: the request ran anew
    assert again.get_json().get("id") != customer_id
