"""The customer slice through the gateway (Flask) over real gRPC services."""

from __future__ import annotations

import json

import pytest

from tests.gateway.conftest import auth

PROBLEM = "application/problem+json"


def new_customer(client, number, who=None, **extra):
    body = {"display_name": "陈静", "phones": [number], **extra}
    return client.post("/api/v1/customers", json=body, headers=who or auth())


def test_create_get_lookup_round_trip(client, phone):
    number = phone()
    made = new_customer(client, number[3:], emails=[f"Chen.Jing.{number}@Example.com"], region={"province": "广东", "city": "深圳"})
    assert made.status_code == 201
    body = made.get_json()
    assert made.headers["Location"] == f"/api/v1/customers/{body['id']}"
    assert made.headers["ETag"] == '"1"'
    assert body["phones"] == [number] and body["owner_id"] == "rep-a"
    got = client.get(made.headers["Location"], headers=auth())
    assert got.status_code == 200 and got.get_json() == body
    found = client.get("/api/v1/customers/lookup", query_string={"phone": number}, headers=auth())
    assert found.get_json()["id"] == body["id"]


def test_duplicate_is_409_without_the_other_reps_customer(client, phone):
    number = phone()
    new_customer(client, number, display_name="赵敏", emails=[f"zhao.min.{number[1:]}@example.com"])
    dup = new_customer(client, number, auth("rep-b"))
    assert dup.status_code == 409 and dup.mimetype == PROBLEM
    problem = dup.get_json()
    assert problem["relation"] == "another_owner"
    text = dup.get_data(as_text=True)
    assert "赵敏" not in text and "zhao.min" not in text and "rep-a" not in text


def test_other_reps_get_404_and_managers_see_their_team(client, phone):
    cid = new_customer(client, phone()).get_json()["id"]
    assert client.get(f"/api/v1/customers/{cid}", headers=auth("rep-b")).status_code == 404
    assert client.get(f"/api/v1/customers/{cid}", headers=auth("boss", "manager")).status_code == 200
    assert client.get(f"/api/v1/customers/{cid}", headers=auth("boss-w", "manager", team="west")).status_code == 404


def test_patch_needs_if_match_and_stale_etag_is_412(client, phone):
    made = new_customer(client, phone())
    url, etag = made.headers["Location"], made.headers["ETag"]
    assert client.patch(url, json={"display_name": "陈大静"}, headers=auth()).status_code == 428
    ok = client.patch(url, json={"display_name": "陈大静"}, headers={**auth(), "If-Match": etag})
    assert ok.status_code == 200 and ok.get_json()["display_name"] == "陈大静"
    assert ok.headers["ETag"] != etag
    stale = client.patch(url, json={"display_name": "lost"}, headers={**auth(), "If-Match": etag})
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    assert client.get(url, headers=auth()).get_json()["display_name"] == "陈大静"


def test_list_filters_by_owner_and_pages_with_a_cursor(client, phone):
    who = auth("rep-http-list")
    ids = {new_customer(client, phone(), who).get_json()["id"] for _ in range(3)}
    first = client.get("/api/v1/customers", query_string={"page_size": 2}, headers=who).get_json()
    assert len(first["items"]) == 2 and first["next_page_token"]
    second = client.get("/api/v1/customers", query_string={"page_size": 2, "page_token": first["next_page_token"]},
                        headers=who).get_json()
    assert {c["id"] for c in first["items"] + second["items"]} == ids and second["next_page_token"] == ""
    managed = client.get("/api/v1/customers", query_string={"owner_id": "rep-http-list"},
                         headers=auth("boss", "manager")).get_json()
    assert {c["id"] for c in managed["items"]} == ids


@pytest.mark.parametrize("body,status", [
    ('{"display_name": "x", "phones": [', 400),                                    # malformed JSON
    ('{"display_name": 5, "phones": ["13800138000"]}', 422),                        # wrong type
    ('{"display_name": "x", "phones": ["13800138000"], "vip": true}', 422),         # unknown field
    ('{"display_name": {"$ne": null}, "phones": ["13800138000"]}', 422),            # operator as value
    ('{"display_name": "x", "phones": [{"$gt": ""}]}', 422),                        # operator in a list
    ('{"display_name": "x", "phones": ["13800138000"], "$where": "1"}', 422),       # operator as key
    ('{"display_name": "' + "长" * 201 + '", "phones": ["13800138000"]}', 422),     # overlong
    ('{"display_name": "x", "phones": ["12345"]}', 422),                            # invalid phone
    ('{"display_name": "x", "phones": ["13800138000"], "emails": ["a@@b"]}', 422),  # invalid e-mail
    ('{"display_name": "x", "phones": ["13800138000"], "stage": "hot"}', 422),      # unknown stage
    ('{"display_name": "x", "phones": ["13800138000"], "birthday": {"calendar": "lunar", "year": 2024, '
     '"month": 6, "day": 1, "leap_month": true}}', 422),                            # no such lunar date
    ('{"display_name": "x", "phones": ["13800138000"], "tags": ["' + "t" * 33 + '"]}', 422),  # overlong tag
    ('{"display_name": "x", "phones": ["13800138000"], "owner_id": {"$ne": ""}}', 422),  # operator as owner
    ('{"display_name": "x"}', 422),                                                 # no way to reach them
    ('[]', 422),                                                                    # not an object
])
def test_bad_input_is_a_problem_and_writes_nothing(client, customer_db, body, status):
    before = customer_db.customers.count_documents({})
    resp = client.post("/api/v1/customers", data=body, content_type="application/json", headers=auth())
    assert resp.status_code == status and resp.mimetype == PROBLEM
    assert resp.get_json()["status"] == status
    assert customer_db.customers.count_documents({}) == before


def test_validation_problem_lists_each_field(client):
    resp = client.post("/api/v1/customers", json={"display_name": 1, "phones": "x", "x": 1}, headers=auth())
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert fields == {"display_name", "phones", "(body)"}


def test_transport_level_failures_are_problems(client):
    assert client.get("/api/v1/nothing", headers=auth()).status_code == 404
    wrong = client.delete("/api/v1/customers", headers=auth())
    assert wrong.status_code == 405 and wrong.mimetype == PROBLEM and "POST" in wrong.headers["Allow"]
    big = client.post("/api/v1/customers", data="x" * (65 * 1024), content_type="application/json", headers=auth())
    assert big.status_code == 413 and big.mimetype == PROBLEM
    form = client.post("/api/v1/customers", data="display_name=x", headers=auth(),
                       content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415 and form.mimetype == PROBLEM
    for resp in (client.get("/api/v1/nothing"), wrong, big, form):
        assert resp.get_json()["type"].startswith("urn:crm:problem:")


def test_missing_or_bad_tokens_are_401(client):
    assert client.get("/api/v1/customers").status_code == 401
    resp = client.get("/api/v1/customers", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401 and resp.mimetype == PROBLEM and resp.headers["WWW-Authenticate"] == "Bearer"


def test_roles_without_write_rights_get_403(client, phone):
    assert new_customer(client, phone(), auth("fin", "finance")).status_code == 403


def test_bad_query_parameters_are_400(client):
    assert client.get("/api/v1/customers", query_string={"page_size": 1000}, headers=auth()).status_code == 400
    assert client.get("/api/v1/customers", query_string={"page_size": "ten"}, headers=auth()).status_code == 400
    assert client.get("/api/v1/customers/lookup", headers=auth()).status_code == 400
    assert client.get("/api/v1/customers/lookup", query_string={"phone": "12"}, headers=auth()).status_code == 400


def test_idempotency_key_replays_the_first_answer(client, phone, customer_db):
    number = phone()
    headers = {**auth(), "Idempotency-Key": f"create-{number}"}
    body = {"display_name": "周杰", "phones": [number]}
    first = client.post("/api/v1/customers", json=body, headers=headers)
    again = client.post("/api/v1/customers", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert customer_db.customers.count_documents({"phones": number}) == 1
    changed = client.post("/api/v1/customers", json={**body, "display_name": "other"}, headers=headers)
    assert changed.status_code == 422


def test_request_id_is_echoed(client):
    resp = client.get("/healthz", headers={"X-Request-Id": "trace-123"})
    assert resp.headers["X-Request-Id"] == "trace-123"
    assert client.get("/healthz", headers={"X-Request-Id": "bad id <script>"}).headers["X-Request-Id"] != "bad id <script>"


def test_health_readiness_and_metrics(client):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and set(ready.get_json()["services"]) == {"customer", "sales", "support", "loyalty"}
    assert client.get("/readyz/customer").status_code == 200
    client.get("/api/v1/customers", headers=auth())
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{method="GET",route="/api/v1/customers",status="200"}' in metrics
    assert "grpc_client_handled_total" in metrics


def test_a_downstream_service_down_is_503_with_retry_after(services, stores):
    from crm_gateway.app import create_app
    from crm_kit.localstores import free_port
    from tests.gateway.conftest import gateway_settings

    dead = {**services.targets, "customer": f"127.0.0.1:{free_port()}"}
    client = create_app(gateway_settings(dead, stores.redis_url)).test_client()
    resp = client.get("/api/v1/customers", headers=auth())
    assert resp.status_code == 503 and resp.mimetype == PROBLEM
    assert resp.headers["Retry-After"] == "1" and resp.get_json()["service"] == "customer"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["services"]["customer"] == "UNAVAILABLE"


def test_an_empty_if_match_does_not_skip_the_check(client, phone):
    made = new_customer(client, phone())
    for value in ('""', 'W/""', " "):
        resp = client.patch(made.headers["Location"], json={"display_name": "x"}, headers={**auth(), "If-Match": value})
        assert resp.status_code == 428
