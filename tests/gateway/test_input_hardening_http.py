"""Inputs that used to reach the code as something it cannot handle: times
out of range once converted to UTC, and JSON text protobuf cannot encode.
Each is a problem document naming what is wrong, never a 500."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import auth

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("param", ["created_after", "created_before", "last_contact_after", "last_contact_before"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_out_of_range_in_utc_is_a_400_naming_the_parameter(client, param, value):
    resp = client.get("/api/v1/customers", query_string={param: value}, headers=auth())
    assert resp.status_code == 400 and resp.mimetype == PROBLEM
    assert resp.get_json()["errors"] == [{"field": param, "message": "is out of range"}]


def test_the_same_time_at_utc_is_accepted(client):
    resp = client.get("/api/v1/customers", query_string={"created_after": "0001-01-01T00:00:00Z"}, headers=auth())
    assert resp.status_code == 200


def test_visits_due_before_out_of_range_is_a_400_too(client):
    resp = client.get("/api/v1/visits", query_string={"due_before": "0001-01-01T00:00:00+01:00"}, headers=auth())
    assert resp.status_code == 400 and resp.get_json()["errors"][0]["field"] == "due_before"


@pytest.mark.parametrize("body,field", [
    ('{"display_name": "\\ud800", "phones": ["13800138000"]}', "display_name"),
    ('{"display_name": "x", "phones": ["13800138000", "\\udfff"]}', "phones.1"),
    ('{"display_name": "x", "preferences": [{"topic": "seat", "note": "\\ude00 window"}]}', "preferences.0.note"),
    ('{"display_name": "x", "\\ud800": 1}', "(body)"),
])
def test_lone_surrogates_in_a_create_are_a_422_naming_the_field(client, body, field):
    resp = client.post("/api/v1/customers", data=body, content_type="application/json", headers=auth())
    assert resp.status_code == 422 and resp.mimetype == PROBLEM
    assert resp.get_json()["errors"] == [{"field": field, "message": "must be valid Unicode (no lone surrogates)"}]


def test_lone_surrogates_are_refused_on_every_json_route(client):
    for method, url in (("patch", "/api/v1/customers/cus_000000000000000000000000"),
                        ("post", "/api/v1/customers/cus_000000000000000000000000/transfer"),
                        ("post", "/api/v1/visits"),
                        ("post", "/api/v1/visits/vis_000000000000000000000000/complete")):
        content_type = "application/merge-patch+json" if method == "patch" else "application/json"
        resp = getattr(client, method)(url, data='{"summary": "\\ud800"}', content_type=content_type,
                                       headers={**auth("boss", "manager"), "If-Match": '"1"'})
        assert resp.status_code == 422, (url, resp.get_json())
        assert resp.get_json()["errors"][0]["field"] == "summary"


def test_surrogate_pairs_are_ordinary_text(client, phone):
    number = phone()
    resp = client.post("/api/v1/customers", data='{"display_name": "\\ud83d\\ude00 Joy", "phones": ["%s"]}' % number,
                       content_type="application/json", headers=auth())
    assert resp.status_code == 201 and resp.get_json()["display_name"] == "\U0001F600 Joy"


def test_deeply_nested_json_is_a_400_not_a_500(client):
    body = "[" * 5000 + "]" * 5000  # about 10 KB; json.loads alone raises RecursionError
    resp = client.post("/api/v1/customers", data=body, content_type="application/json", headers=auth())
    assert resp.status_code == 400 and resp.mimetype == PROBLEM
    assert "nests deeper" in resp.get_json()["detail"]
    nested_object = '{"display_name": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}"
    resp = client.post("/api/v1/customers", data=nested_object, content_type="application/json", headers=auth())
    assert resp.status_code == 400 and resp.mimetype == PROBLEM


def test_brackets_inside_strings_do_not_count_as_nesting(client, phone):
    resp = client.post("/api/v1/customers", content_type="application/json", headers=auth(),
                       json={"display_name": "[" * 40 + "{" * 40, "phones": [phone()]})
    assert resp.status_code == 201, resp.get_json()


@pytest.mark.parametrize("method,url,kw", [
    ("get", "/api/v1/customers", {"headers": auth()}),
    ("get", "/api/v1/customers/cus_000000000000000000000000", {"headers": auth()}),  # a 404 problem
    ("get", "/api/v1/customers", {}),  # 401
    ("post", "/api/v1/customers", {"headers": auth(), "data": "[", "content_type": "application/json"}),
    ("get", "/healthz", {}),
    ("get", "/openapi.json", {}),
    ("get", "/no/such/route", {}),
])
def test_every_answer_is_nosniff_and_no_store(client, method, url, kw):
    resp = getattr(client, method)(url, **kw)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"
