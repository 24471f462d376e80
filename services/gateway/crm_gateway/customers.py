"""/api/v1/customers: REST in, CustomerService gRPC out."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from google.protobuf import field_mask_pb2, json_format
from google.protobuf.timestamp_pb2 import Timestamp

from crm.customer.v1 import customer_service_pb2 as pb

from crm_gateway.openapi import COMMON, ETAG, IDEMPOTENCY_PARAM, json_response, problem
from crm_gateway.problems import Problem
from crm_gateway.requests import boolean, call, choice, integer, json_body, query_args, require_role, text, timestamp
from crm_gateway.schemas import STAGES

bp = Blueprint("customers", __name__, url_prefix="/api/v1/customers")

_KIND_TO_PB = {"person": pb.CUSTOMER_KIND_PERSON, "company": pb.CUSTOMER_KIND_COMPANY}
_KIND_FROM_PB = {v: k for k, v in _KIND_TO_PB.items()}
_VIEW_FROM_PB = {pb.CUSTOMER_VIEW_FULL: "full", pb.CUSTOMER_VIEW_CONTACT: "contact", pb.CUSTOMER_VIEW_POOL: "pool"}
READERS = ("admin", "manager", "rep", "agent", "finance", "integration")
WRITERS = ("admin", "manager", "rep", "integration")
MANAGERS = ("admin", "manager", "integration")


def _time(ts: Timestamp, present: bool) -> str | None:
    return ts.ToJsonString() if present else None


def _anniversary(a: pb.Anniversary) -> dict:
    return {"label": a.label, "calendar": a.calendar, "year": a.year, "month": a.month, "day": a.day,
            "leap_month": a.leap_month}


def customer_json(c: pb.Customer) -> dict:
    return {
        "id": c.id, "display_name": c.display_name, "kind": _KIND_FROM_PB.get(c.kind, "person"),
        "phones": list(c.phones), "emails": list(c.emails),
        "region": {"province": c.region.province, "city": c.region.city},
        "addresses": [{"label": a.label, "province": a.province, "city": a.city, "district": a.district,
                       "line": a.line, "postal_code": a.postal_code} for a in c.addresses],
        "type": c.type, "level": c.level, "tags": list(c.tags), "source": c.source, "stage": c.stage,
        "intent_notes": c.intent_notes,
        "preferences": [{"topic": p.topic, "note": p.note} for p in c.preferences],
        "birthday": _anniversary(c.birthday) if c.HasField("birthday") else None,
        "anniversaries": [_anniversary(a) for a in c.anniversaries],
        "consent_sms": {"state": c.consent_sms.state or "unknown",
                        "changed_at": _time(c.consent_sms.change_time, c.consent_sms.HasField("change_time"))},
        "consent_email": {"state": c.consent_email.state or "unknown",
                          "changed_at": _time(c.consent_email.change_time, c.consent_email.HasField("change_time"))},
        "referred_by": c.referred_by, "external_id": c.external_id,
        "owner_id": c.owner_id, "team_id": c.team_id,
        "owned_since": _time(c.owned_since_time, c.HasField("owned_since_time")),
        "last_contact_at": _time(c.last_contact_time, c.HasField("last_contact_time")),
        "created_at": c.create_time.ToJsonString(), "updated_at": c.update_time.ToJsonString(),
        "erased_at": _time(c.erase_time, c.HasField("erase_time")),
        "etag": c.etag, "view": _VIEW_FROM_PB.get(c.view, "pool"),
    }


def _one(c: pb.Customer, status: int = 200) -> Response:
    resp = jsonify(customer_json(c))
    resp.status_code = status
    resp.headers["ETag"] = f'"{c.etag}"'
    return resp


def _to_pb(body: dict) -> pb.Customer:
    """A validated body (schema-checked: known fields, plain values) as a message."""
    fields = {k: v for k, v in body.items() if k != "kind" and v is not None}
    message = json_format.ParseDict(fields, pb.Customer())
    message.kind = _KIND_TO_PB.get(body.get("kind", "person"), 0)
    return message


def _customers():
    return g.downstream.customers


@bp.post("")
def create_customer():
    require_role(WRITERS)
    body = json_body("CustomerCreate")
    created = call("customer", _customers().CreateCustomer, pb.CreateCustomerRequest(customer=_to_pb(body)))
    resp = _one(created, 201)
    resp.headers["Location"] = f"/api/v1/customers/{created.id}"
    return resp


_LIST_PARAMS = {
    "page_size": integer(1, 200), "page_token": text(512), "owner_id": text(128), "pool": boolean,
    "province": text(64), "city": text(64), "level": text(16), "stage": choice(*STAGES), "tag": text(32),
    "name_prefix": text(200), "created_after": timestamp, "created_before": timestamp,
    "last_contact_after": timestamp, "last_contact_before": timestamp, "order_by": choice("id", "name"),
}


def _range(start, end) -> pb.TimeRange | None:
    if start is None and end is None:
        return None
    r = pb.TimeRange()
    if start is not None:
        r.start_time.FromDatetime(start)
    if end is not None:
        r.end_time.FromDatetime(end)
    return r


@bp.get("")
def list_customers():
    require_role(READERS)
    q = query_args(_LIST_PARAMS)
    message = pb.ListCustomersRequest(
        page_size=q.get("page_size", 50), page_token=q.get("page_token", ""), owner_id=q.get("owner_id", ""),
        pool=q.get("pool", False), province=q.get("province", ""), city=q.get("city", ""),
        level=q.get("level", ""), stage=q.get("stage", ""), tag=q.get("tag", ""),
        name_prefix=q.get("name_prefix", ""), order_by=q.get("order_by", "id"),
        create_time=_range(q.get("created_after"), q.get("created_before")),
        last_contact_time=_range(q.get("last_contact_after"), q.get("last_contact_before")))
    page = call("customer", _customers().ListCustomers, message, timeout=g.downstream.settings.list_timeout_seconds)
    return jsonify({"items": [customer_json(c) for c in page.customers], "next_page_token": page.next_page_token})


@bp.get("/lookup")
def lookup_customer():
    require_role(READERS)
    q = query_args({"phone": text(32), "email": text(254)})
    if bool(q.get("phone")) == bool(q.get("email")):
        raise Problem(400, "give exactly one of the query parameters phone or email", slug="validation",
                      errors=[{"field": "phone", "message": "give exactly one of phone or email"}])
    message = pb.LookupCustomerRequest(phone=q.get("phone", ""), email=q.get("email", ""))
    return _one(call("customer", _customers().LookupCustomer, message))


@bp.get("/<customer_id>")
def get_customer(customer_id: str):
    require_role(READERS)
    return _one(call("customer", _customers().GetCustomer, pb.GetCustomerRequest(id=customer_id[:64])))


@bp.patch("/<customer_id>")
def update_customer(customer_id: str):
    require_role(WRITERS)
    if_match = request.headers.get("If-Match")
    if not if_match:
        raise Problem(428, "send If-Match with the ETag you read, so you don't overwrite someone else's change",
                      slug="if-match-required")
    body = json_body("CustomerPatch", patch=True)
    etag = if_match.strip().removeprefix("W/").strip('"')
    if not etag:
        raise Problem(428, "If-Match must carry the ETag you read", slug="if-match-required")
    update = pb.UpdateCustomerRequest(
        customer=_to_pb(body), update_mask=field_mask_pb2.FieldMask(paths=sorted(body)), etag=etag)
    update.customer.id = customer_id[:64]
    return _one(call("customer", _customers().UpdateCustomer, update))


# --- ownership and the public pool ----------------------------------------------

@bp.post("/<customer_id>/claim")
def claim_customer(customer_id: str):
    require_role(("manager", "rep"))
    return _one(call("customer", _customers().ClaimCustomer, pb.ClaimCustomerRequest(id=customer_id[:64])))


@bp.post("/<customer_id>/release")
def release_customer(customer_id: str):
    require_role(WRITERS)
    body = json_body("OwnershipReason")
    return _one(call("customer", _customers().ReleaseCustomer,
                     pb.ReleaseCustomerRequest(id=customer_id[:64], reason=body.get("reason", ""))))


@bp.post("/<customer_id>/transfer")
def transfer_customer(customer_id: str):
    require_role(MANAGERS)
    body = json_body("Transfer")
    return _one(call("customer", _customers().TransferCustomer, pb.TransferCustomerRequest(
        id=customer_id[:64], to_owner_id=body["to_owner_id"], to_team_id=body.get("to_team_id", ""),
        reason=body.get("reason", ""))))


@bp.post("/hand-over")
def hand_over_customers():
    require_role(MANAGERS)
    body = json_body("HandOver")
    result = call("customer", _customers().HandOverCustomers, pb.HandOverCustomersRequest(
        from_owner_id=body["from_owner_id"], to_owner_ids=body["to_owner_ids"],
        to_team_id=body.get("to_team_id", ""), reason=body.get("reason", "")),
        timeout=g.downstream.settings.list_timeout_seconds)
    return jsonify({"moved_count": result.moved_count, "skipped_ids": list(result.skipped_ids)})


@bp.post("/release-inactive")
def release_inactive_customers():
    require_role(("admin",))
    result = call("customer", _customers().ReleaseInactiveCustomers, pb.ReleaseInactiveCustomersRequest(),
                  timeout=g.downstream.settings.list_timeout_seconds)
    return jsonify({"released_count": result.released_count})


@bp.get("/<customer_id>/ownership-changes")
def list_ownership_changes(customer_id: str):
    require_role(READERS)
    result = call("customer", _customers().ListOwnershipChanges, pb.ListOwnershipChangesRequest(id=customer_id[:64]))
    return jsonify({"items": [{"action": c.action, "from_owner_id": c.from_owner_id, "to_owner_id": c.to_owner_id,
                               "changed_by": c.changed_by, "changed_at": c.change_time.ToJsonString(),
                               "reason": c.reason} for c in result.changes]})


@bp.get("/<customer_id>/referrals")
def list_referrals(customer_id: str):
    require_role(READERS)
    result = call("customer", _customers().ListReferrals, pb.ListReferralsRequest(id=customer_id[:64]))
    return jsonify({"referred_by": result.referred_by, "referred_ids": list(result.referred_ids)})


# --- privacy --------------------------------------------------------------------------

@bp.get("/<customer_id>/export")
def export_customer_data(customer_id: str):
    require_role(("admin",))
    result = call("customer", _customers().ExportCustomerData, pb.ExportCustomerDataRequest(id=customer_id[:64]))
    resp = jsonify(json_format.MessageToDict(result.data))
    resp.headers["Content-Disposition"] = f'attachment; filename="{customer_id[:64]}.json"'
    return resp


@bp.post("/<customer_id>/erase")
def erase_customer(customer_id: str):
    require_role(("admin",))
    body = json_body("OwnershipReason")
    return _one(call("customer", _customers().EraseCustomer,
                     pb.EraseCustomerRequest(id=customer_id[:64], reason=body.get("reason", ""))))


CUSTOMER_ID_PARAM = {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _query_param(name: str, schema: dict, description: str = "") -> dict:
    out = {"name": name, "in": "query", "schema": schema}
    if description:
        out["description"] = description
    return out


def _body(ref: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


_BODY_PROBLEMS = {
    "400": problem("Malformed JSON."),
    "413": problem("Body too large."),
    "415": problem("Body is not application/json."),
    "422": problem("Body fails validation; `errors` lists each field."),
}
_TIME_PARAM = {"type": "string", "format": "date-time"}


def _action(operation_id: str, summary: str, description: str, body_ref: str | None, ok: dict,
            extra: dict | None = None) -> dict:
    """A POST custom verb on one customer or on the collection."""
    op = {"operationId": operation_id, "summary": summary, "description": description,
          "parameters": [IDEMPOTENCY_PARAM],
          "responses": {"200": ok, "400": problem("Malformed JSON, bad Idempotency-Key or bad id."),
                        "404": problem("No such customer, or not one you may change."),
                        **({k: v for k, v in _BODY_PROBLEMS.items() if k != "400"} if body_ref else {}),
                        "422": problem("Body fails validation, or the Idempotency-Key was used with another request."),
                        **(extra or {}), **COMMON}}
    if body_ref:
        op["requestBody"] = _body(body_ref)
    return op


PATHS = {
    "/api/v1/customers": {
        "post": {
            "operationId": "createCustomer", "summary": "Create a customer",
            "description": "Phones are normalized to E.164, e-mails validated. A phone, e-mail, company name in the "
                           "same region or external id already on file is refused with 409, saying whose record "
                           "holds it (yours, the pool, another rep) without showing it.",
            "parameters": [IDEMPOTENCY_PARAM],
            "requestBody": _body("CustomerCreate"),
            "responses": {
                "201": json_response("Customer", "Created.", {**ETAG, "Location": {"schema": {"type": "string"}}}),
                **_BODY_PROBLEMS,
                "400": problem("Malformed JSON or bad Idempotency-Key."),
                "409": problem("A customer with one of these keys exists, or the Idempotency-Key is in use."),
                **COMMON,
            },
        },
        "get": {
            "operationId": "listCustomers", "summary": "List customers you may see",
            "description": "Cursor-paginated, oldest first, in the order customers came to the owner, the pool "
                           "or the team (admins' full list: creation order), or by name (order_by=name: pinyin "
                           "for Chinese names). Reps get their own customers (pool=true: the pool, summary fields "
                           "only); managers their team and the pool; admins everyone. order_by=name scans on "
                           "FerretDB's SQLite back end.",
            "parameters": [
                _query_param("owner_id", {"type": "string", "maxLength": 128}),
                _query_param("pool", {"type": "boolean"}, "Only customers in the public pool."),
                _query_param("province", {"type": "string", "maxLength": 64}),
                _query_param("city", {"type": "string", "maxLength": 64}),
                _query_param("level", {"type": "string", "maxLength": 16}),
                _query_param("stage", {"type": "string", "enum": list(STAGES)}),
                _query_param("tag", {"type": "string", "maxLength": 32}),
                _query_param("name_prefix", {"type": "string", "maxLength": 200},
                             "Matches the name or its pinyin: zhang finds 张三."),
                _query_param("created_after", _TIME_PARAM), _query_param("created_before", _TIME_PARAM),
                _query_param("last_contact_after", _TIME_PARAM), _query_param("last_contact_before", _TIME_PARAM),
                _query_param("order_by", {"type": "string", "enum": ["id", "name"], "default": "id"}),
                _query_param("page_size", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
                _query_param("page_token", {"type": "string", "maxLength": 512}),
            ],
            "responses": {"200": json_response("CustomerPage", "A page of customers."),
                          "400": problem("Bad or unknown query parameter."), **COMMON},
        },
    },
    "/api/v1/customers/lookup": {
        "get": {
            "operationId": "lookupCustomer", "summary": "Find a customer by phone or e-mail",
            "parameters": [_query_param("phone", {"type": "string", "minLength": 1, "maxLength": 32}),
                           _query_param("email", {"type": "string", "minLength": 1, "maxLength": 254})],
            "responses": {"200": json_response("Customer", "The customer holding this phone or e-mail.", ETAG),
                          "400": problem("Give exactly one of phone or email, valid."),
                          "404": problem("No customer you may see has it."), **COMMON},
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
            "description": "Send only the fields to change. If-Match with the current ETag is required. "
                           "Owner and system fields are refused (use claim, release, transfer).",
            "parameters": [CUSTOMER_ID_PARAM, {"name": "If-Match", "in": "header", "required": True,
                                               "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/CustomerPatch"}},
                "application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/CustomerPatch"}}}},
            "responses": {
                "200": json_response("Customer", "The updated customer.", ETAG),
                **_BODY_PROBLEMS,
                "404": problem("No such customer, or not yours."),
                "409": problem("A new phone or e-mail belongs to another customer, or the customer is in the pool."),
                "412": problem("If-Match is stale: someone changed the customer since you read it."),
                "428": problem("If-Match header missing."),
                **COMMON,
            },
        },
    },
    "/api/v1/customers/{customer_id}/claim": {"post": {
        **_action("claimCustomer", "Claim a customer from the public pool", "You become the owner.", None,
                  json_response("Customer", "The claimed customer.", ETAG),
                  {"409": problem("The customer is not in the pool.")}),
        "parameters": [CUSTOMER_ID_PARAM, IDEMPOTENCY_PARAM]}},
    "/api/v1/customers/{customer_id}/release": {"post": {
        **_action("releaseCustomer", "Release a customer to the public pool", "The owner or a manager.",
                  "OwnershipReason", json_response("Customer", "The released customer.", ETAG),
                  {"409": problem("The customer changed meanwhile; retry.")}),
        "parameters": [CUSTOMER_ID_PARAM, IDEMPOTENCY_PARAM]}},
    "/api/v1/customers/{customer_id}/transfer": {"post": {
        **_action("transferCustomer", "Transfer a customer to another rep", "Managers and admins.", "Transfer",
                  json_response("Customer", "The transferred customer.", ETAG),
                  {"409": problem("The customer changed meanwhile; retry.")}),
        "parameters": [CUSTOMER_ID_PARAM, IDEMPOTENCY_PARAM]}},
    "/api/v1/customers/hand-over": {"post": _action(
        "handOverCustomers", "Hand a leaving rep's customers over",
        "Every customer of from_owner_id goes to the reps in to_owner_ids in turn. Safe to repeat.", "HandOver",
        json_response("HandOverResult", "How many moved, and which were skipped (changed meanwhile)."))},
    "/api/v1/customers/release-inactive": {"post": _action(
        "releaseInactiveCustomers", "Return uncontacted customers to the pool",
        "Customers without an interaction for the protection period (CUSTOMER_PROTECTION_DAYS) return to the "
        "pool. Admins; the service also runs it on a schedule. Idempotent.", None,
        json_response("ReleaseResult", "How many customers were released."))},
    "/api/v1/customers/{customer_id}/ownership-changes": {"get": {
        "operationId": "listOwnershipChanges", "summary": "Ownership history: who, when, from, to, why",
        "parameters": [CUSTOMER_ID_PARAM],
        "responses": {"200": json_response("OwnershipChanges", "Oldest first."),
                      "404": problem("No such customer, or not one you fully see."), **COMMON}}},
    "/api/v1/customers/{customer_id}/referrals": {"get": {
        "operationId": "listReferrals", "summary": "Who referred this customer, and whom they referred",
        "parameters": [CUSTOMER_ID_PARAM],
        "responses": {"200": json_response("Referrals", "Both directions."),
                      "404": problem("No such customer, or not one you fully see."), **COMMON}}},
    "/api/v1/customers/{customer_id}/export": {"get": {
        "operationId": "exportCustomerData", "summary": "Everything held about a customer (admins)",
        "parameters": [CUSTOMER_ID_PARAM],
        "responses": {"200": json_response("CustomerExport", "The customer's data as JSON."),
                      "404": problem("No such customer."), **COMMON}}},
    "/api/v1/customers/{customer_id}/erase": {"post": {
        **_action("eraseCustomer", "Erase a customer's personal data (admins)",
                  "Irreversible. Keys are freed, the id stays. Idempotent.", "OwnershipReason",
                  json_response("Customer", "What remains of the customer.", ETAG)),
        "parameters": [CUSTOMER_ID_PARAM, IDEMPOTENCY_PARAM]}},
}
