"""/openapi.json matches the real behaviour: the same routes and methods, and
every answer the tests provoke is a documented status with a body that
validates against the documented schema."""

from __future__ import annotations

import re

from jsonschema import Draft202012Validator

from tests.gateway.conftest import auth


def test_spec_is_valid_openapi_3_1_shape(spec):
    assert spec["openapi"] == "3.1.0"
    for name, schema in spec["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)


def test_documented_paths_are_exactly_the_served_routes(app, spec):
    served = set()
    for rule in app.url_map.iter_rules():
        if not app.view_functions[rule.endpoint].operation.in_schema:  # the docs themselves
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        served |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert served == documented


def _operation(spec, path_template, method):
    return spec["paths"][path_template][method]


def _check(spec, resp, path_template, method):
    op = _operation(spec, path_template, method)
    status = str(resp.status_code)
    assert status in op["responses"], f"{method.upper()} {path_template} answered undocumented {status}"
    content = op["responses"][status].get("content")
    if content:
        assert resp.mimetype in content, f"{status} sent {resp.mimetype}, documented {list(content)}"
        schema = {**content[resp.mimetype]["schema"], "components": spec["components"]}
        Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(resp.get_json())
    for header in op["responses"][status].get("headers", {}):
        assert header in resp.headers, f"documented header {header} missing"


def test_customer_answers_match_the_document(client, spec, phone):
    number = phone()
    c = "/api/v1/customers"
    made = client.post(c, json={"display_name": "孙丽", "phones": [number]}, headers=auth())
    _check(spec, made, c, "post")
    item = "/api/v1/customers/{customer_id}"
    url = made.headers["Location"]
    cases = [
        (client.post(c, json={"display_name": "孙丽", "phones": [number]}, headers=auth()), c, "post"),
        (client.post(c, json={"display_name": 3}, headers=auth()), c, "post"),
        (client.post(c, data="{", content_type="application/json", headers=auth()), c, "post"),
        (client.post(c, data="x", content_type="text/plain", headers=auth()), c, "post"),
        (client.post(c, json={"display_name": "x", "phones": [phone()]}), c, "post"),
        (client.get(c, headers=auth()), c, "get"),
        (client.get(c, query_string={"page_size": 0}, headers=auth()), c, "get"),
        (client.get(url, headers=auth()), item, "get"),
        (client.get(url, headers=auth("rep-z")), item, "get"),
        (client.patch(url, json={"email": "sun.li@example.com"}, headers={**auth(), "If-Match": '"1"'}), item, "patch"),
        (client.patch(url, json={"email": "x@example.com"}, headers={**auth(), "If-Match": '"1"'}), item, "patch"),
        (client.patch(url, json={"email": "x@example.com"}, headers=auth()), item, "patch"),
        (client.patch(url, json={"owner_id": "me"}, headers={**auth(), "If-Match": '"2"'}), item, "patch"),
        (client.get("/api/v1/customers/lookup", query_string={"phone": number}, headers=auth()),
         "/api/v1/customers/lookup", "get"),
        (client.get("/api/v1/customers/lookup", query_string={"phone": phone()}, headers=auth()),
         "/api/v1/customers/lookup", "get"),
        (client.get("/readyz"), "/readyz", "get"),
        (client.get("/readyz/customer"), "/readyz/{service}", "get"),
        (client.get("/readyz/crm"), "/readyz/{service}", "get"),
        (client.get("/healthz"), "/healthz", "get"),
    ]
    for resp, path, method in cases:
        _check(spec, resp, path, method)
