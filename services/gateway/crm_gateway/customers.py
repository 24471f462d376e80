"""/api/v1/customers: REST in, CustomerService gRPC out."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from google.protobuf import field_mask_pb2

from crm.customer.v1 import customer_service_pb2 as pb

from crm_gateway.openapi import COMMON, ETAG, IDEMPOTENCY_PARAM, json_response, problem
from crm_gateway.problems import Problem
from crm_gateway.requests import call, json_body, require_role

bp = Blueprint("customers", __name__, url_prefix="/api/v1/customers")

_KIND_TO_PB = {"person": pb.CUSTOMER_KIND_PERSON, "company": pb.CUSTOMER_KIND_COMPANY}
_KIND_FROM_PB = {v: k for k, v in _KIND_TO_PB.items()}
READERS = ("admin", "manager", "rep", "agent", "finance", "integration")
WRITERS = ("admin", "manager", "rep", "integration")


def customer_json(c: pb.Customer) -> dict:
    return {
        "id": c.id, "display_name": c.display_name, "kind": _KIND_FROM_PB.get(c.kind, "person"),
        "phones": list(c.phones), "email": c.email,
        "region": {"province": c.region.province, "city": c.region.city},
        "owner_id": c.owner_id, "team_id": c.team_id,
        "created_at": c.create_time.ToJsonString(),
        "updated_at": c.update_time.ToJsonString(), "etag": c.etag,
    }


def _one(c: pb.Customer, status: int = 200) -> Response:
    resp = jsonify(customer_json(c))
    resp.status_code = status
    resp.headers["ETag"] = f'"{c.etag}"'
    return resp


def _to_pb(body: dict) -> pb.Customer:
    region = body.get("region") or {}
    return pb.Customer(
        display_name=body.get("display_name", ""), kind=_KIND_TO_PB.get(body.get("kind", "person"), 0),
        phones=body.get("phones", []), email=body.get("email", ""),
        region=pb.Region(province=region.get("province", ""), city=region.get("city", "")),
        owner_id=body.get("owner_id", ""))


@bp.post("")
def create_customer():
    require_role(WRITERS)
    body = json_body("CustomerCreate")
    created = call("customer", g.downstream.customers.CreateCustomer, pb.CreateCustomerRequest(customer=_to_pb(body)))
    resp = _one(created, 201)
    resp.headers["Location"] = f"/api/v1/customers/{created.id}"
    return resp


@bp.get("")
def list_customers():
    require_role(READERS)
    page_size = request.args.get("page_size", "50")
    if not page_size.isdigit() or not 1 <= int(page_size) <= 200:
        raise Problem(400, "page_size must be an integer from 1 to 200", slug="validation",
                      errors=[{"field": "page_size", "message": "must be an integer from 1 to 200"}])
    owner_id = request.args.get("owner_id", "")
    page_token = request.args.get("page_token", "")
    if len(owner_id) > 128 or len(page_token) > 512:
        raise Problem(400, "owner_id or page_token too long", slug="validation")
    page = call("customer", g.downstream.customers.ListCustomers, pb.ListCustomersRequest(
        page_size=int(page_size), page_token=page_token, owner_id=owner_id),
        timeout=g.downstream.settings.list_timeout_seconds)
    return jsonify({"items": [customer_json(c) for c in page.customers], "next_page_token": page.next_page_token})


@bp.get("/lookup")
def lookup_customer():
    require_role(READERS)
    phone = request.args.get("phone", "")
    if not phone or len(phone) > 32:
        raise Problem(400, "query parameter phone is required (at most 32 characters)", slug="validation",
                      errors=[{"field": "phone", "message": "is required, at most 32 characters"}])
    return _one(call("customer", g.downstream.customers.LookupCustomer, pb.LookupCustomerRequest(phone=phone)))


@bp.get("/<customer_id>")
def get_customer(customer_id: str):
    require_role(READERS)
    return _one(call("customer", g.downstream.customers.GetCustomer, pb.GetCustomerRequest(id=customer_id[:64])))


@bp.patch("/<customer_id>")
def update_customer(customer_id: str):
    require_role(WRITERS)
    if_match = request.headers.get("If-Match")
    if not if_match:
        raise Problem(428, "send If-Match with the ETag you read, so you don't overwrite someone else's change",
                      slug="if-match-required")
    body = json_body("CustomerPatch", patch=True)
    etag = if_match.strip().removeprefix("W/").strip('"')
    update = pb.UpdateCustomerRequest(
        customer=_to_pb(body), update_mask=field_mask_pb2.FieldMask(paths=sorted(body)), etag=etag)
    update.customer.id = customer_id[:64]
    return _one(call("customer", g.downstream.customers.UpdateCustomer, update))


CUSTOMER_ID_PARAM = {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "string"}}

PATHS = {
    "/api/v1/customers": {
        "post": {
            "operationId": "createCustomer", "summary": "Create a customer",
            "description": "Phones are normalized to E.164. A phone already on file is refused with 409, "
                           "saying whose record holds it without showing it.",
            "parameters": [IDEMPOTENCY_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CustomerCreate"}}}},
            "responses": {
                "201": json_response("Customer", "Created.", {**ETAG, "Location": {"schema": {"type": "string"}}}),
                "400": problem("Malformed JSON or bad Idempotency-Key."),
                "409": problem("A customer with one of these phones exists, or the Idempotency-Key is in use."),
                "413": problem("Body too large."),
                "415": problem("Body is not application/json."),
                "422": problem("Body fails validation; `errors` lists each field."),
                **COMMON,
            },
        },
        "get": {
            "operationId": "listCustomers", "summary": "List customers you may see",
            "description": "Oldest first, cursor-paginated. Reps always get their own customers.",
            "parameters": [
                {"name": "owner_id", "in": "query", "schema": {"type": "string", "maxLength": 128}},
                {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                {"name": "page_token", "in": "query", "schema": {"type": "string", "maxLength": 512}},
            ],
            "responses": {"200": json_response("CustomerPage", "A page of customers."),
                          "400": problem("Bad query parameter."), **COMMON},
        },
    },
    "/api/v1/customers/lookup": {
        "get": {
            "operationId": "lookupCustomerByPhone", "summary": "Find a customer by phone",
            "parameters": [{"name": "phone", "in": "query", "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 32}}],
            "responses": {"200": json_response("Customer", "The customer holding this phone.", ETAG),
                          "400": problem("Missing or invalid phone."),
                          "404": problem("No customer you may see has this phone."), **COMMON},
        },
    },
    "/api/v1/customers/{customer_id}": {
        "get": {
            "operationId": "getCustomer", "summary": "Get a customer",
            "parameters": [CUSTOMER_ID_PARAM],
            "responses": {"200": json_response("Customer", "The customer.", ETAG),
                          "404": problem("No such customer, or not yours."), **COMMON},
        },
        "patch": {
            "operationId": "updateCustomer", "summary": "Change some fields of a customer",
            "description": "Send only the fields to change. If-Match with the current ETag is required.",
            "parameters": [CUSTOMER_ID_PARAM, {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/CustomerPatch"}},
                "application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/CustomerPatch"}}}},
            "responses": {
                "200": json_response("Customer", "The updated customer.", ETAG),
                "400": problem("Malformed JSON."),
                "404": problem("No such customer, or not yours."),
                "409": problem("A new phone belongs to another customer."),
                "412": problem("If-Match is stale: someone changed the customer since you read it."),
                "413": problem("Body too large."),
                "415": problem("Body is not JSON."),
                "422": problem("Body fails validation."),
                "428": problem("If-Match header missing."),
                **COMMON,
            },
        },
    },
}
