"""/api/v1/customers: REST in, CustomerService gRPC out. Each route is one
declaration (routing.py): its policy, its models, its call, its answer."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, Response, g, request
from google.protobuf import field_mask_pb2, json_format
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import Field, model_validator

from crm.customer.v1 import customer_service_pb2 as pb

from crm_gateway.fields import NEXT_PAGE, Body, CustomerPath, NullableTime, Out, PageSize, PageToken, Query, \
    QueryBool, QueryTime, Time, optional, text
from crm_gateway.openapi import ETAG
from crm_gateway.problems import Problem
from crm_gateway.requests import PATCH_TYPES
from crm_gateway.routing import Args, Header, Ok, Policy, RequestHeader, route

bp = Blueprint("customers", __name__, url_prefix="/api/v1/customers")

# Who may call (the service decides which customers each caller sees and changes).
READ = Policy(("admin", "manager", "rep", "agent", "finance", "integration"), scope="customers:read")
WRITE = Policy(("admin", "manager", "rep", "integration"), scope="customers:write")
MANAGE = Policy(("admin", "manager", "integration"), scope="customers:write")
# Lists: agents and finance look customers up, they do not list them.
LIST = Policy(("admin", "manager", "rep", "integration"), scope="customers:read")
CLAIM = Policy(("manager", "rep"))
ADMIN = Policy(("admin",))

STAGES = ("new", "contacted", "target", "strong_intent", "negotiating", "won", "lost", "dormant")
Stage = Literal["new", "contacted", "target", "strong_intent", "negotiating", "won", "lost", "dormant"]
CODE = r"^([A-Za-z0-9][A-Za-z0-9_.-]*)?$"
_KIND_TO_PB = {"person": pb.CUSTOMER_KIND_PERSON, "company": pb.CUSTOMER_KIND_COMPANY}
_KIND_FROM_PB = {v: k for k, v in _KIND_TO_PB.items()}
_VIEW_FROM_PB = {pb.CUSTOMER_VIEW_FULL: "full", pb.CUSTOMER_VIEW_CONTACT: "contact", pb.CUSTOMER_VIEW_POOL: "pool"}


# --- request bodies ------------------------------------------------------------------

class Region(Body):
    province: text(64) = ""
    city: text(64) = ""


class Address(Body):
    label: text(64) = ""
    province: text(64) = ""
    city: text(64) = ""
    district: text(64) = ""
    line: text(200) = ""
    postal_code: text(64) = ""


class Preference(Body):
    topic: text(40, description='e.g. "seat"') = ""
    note: text(200, 1, description='e.g. "likes the window seat"')


class Anniversary(Body):
    """Stored as given. Lunar dates are months and days of the Chinese calendar."""

    label: text(40) = ""
    calendar: Literal["gregorian", "lunar"] = "gregorian"
    year: Annotated[int, Field(ge=0, le=2100, description="0 or absent when unknown.")] = 0
    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)]
    leap_month: Annotated[bool, Field(description="Lunar only: the intercalary month.")] = False


class ConsentIn(Body):
    """The service records when it changed."""

    state: Literal["unknown", "granted", "withdrawn"]


Phones = Annotated[list[text(32, 1)], Field(max_length=5, description="Phone numbers in any common notation; "
                                                                       "stored in E.164. The first is the primary one.")]
Emails = Annotated[list[text(254, 1)], Field(max_length=5, description="E-mail addresses; the first is the primary one.")]


class CustomerFields(Body):
    display_name: text(200, 1, description="Name in any script.") = optional()
    kind: Literal["person", "company"] = optional()
    phones: Phones = optional()
    emails: Emails = optional()
    region: Region = optional()
    addresses: Annotated[list[Address], Field(max_length=5)] = optional()
    type: Literal["prospect", "customer", "partner", "distributor", "other"] = optional()
    level: text(16, pattern=CODE) = optional()
    tags: Annotated[list[text(32, 1)], Field(max_length=20)] = optional()
    source: Literal["", "referral", "walk_in", "phone", "web", "exhibition", "advertising", "partner", "import",
                    "other"] = optional()
    stage: Stage = optional()
    intent_notes: text(2000) = optional()
    preferences: Annotated[list[Preference], Field(max_length=30)] = optional()
    birthday: Anniversary | None = optional()
    anniversaries: Annotated[list[Anniversary], Field(max_length=10)] = optional()
    consent_sms: ConsentIn = optional()
    consent_email: ConsentIn = optional()
    referred_by: text(28, description="Id of the customer who referred this one.") = optional()
    external_id: text(64, pattern=CODE, description="Id in another system; unique.") = optional()

    def to_pb(self) -> pb.Customer:
        """The fields sent, as a message (writes only: ParseDict is fine here)."""
        sent = self.model_dump(exclude_unset=True, exclude={"kind"})
        message = json_format.ParseDict({k: v for k, v in sent.items() if v is not None}, pb.Customer())
        message.kind = _KIND_TO_PB.get(getattr(self, "kind", None) or "person", 0)
        return message


class CustomerCreate(CustomerFields):
    """A customer needs at least one phone or e-mail."""

    display_name: text(200, 1, description="Name in any script.")
    owner_id: text(128, description="Managers and admins may assign an owner; reps always own what they "
                                    "create.") = optional()


class CustomerPatch(CustomerFields):
    """Only the fields sent change. Owner and system fields change through claim, release and transfer."""

    model_config = {"json_schema_extra": {"minProperties": 1}}

    @model_validator(mode="after")
    def _something(self):
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        return self


class OwnershipReason(Body):
    reason: text(500) = ""


class Transfer(Body):
    to_owner_id: text(128, 1)
    to_team_id: text(128) = ""
    reason: text(500) = ""


class HandOver(Body):
    from_owner_id: text(128, 1)
    to_owner_ids: Annotated[list[text(128, 1)], Field(min_length=1, max_length=50)]
    to_team_id: text(128) = ""
    reason: text(500) = ""


# --- answers ---------------------------------------------------------------------------

def _time(ts: Timestamp, present: bool) -> str | None:
    return ts.ToJsonString() if present else None


class RegionOut(Out):
    province: str
    city: str


class AddressOut(Out):
    label: str
    province: str
    city: str
    district: str
    line: str
    postal_code: str


class PreferenceOut(Out):
    topic: str
    note: str


class AnniversaryOut(Out):
    label: str
    calendar: str
    year: int
    month: int
    day: int
    leap_month: bool

    @staticmethod
    def from_pb(a: pb.Anniversary) -> dict:
        return {"label": a.label, "calendar": a.calendar, "year": a.year, "month": a.month, "day": a.day,
                "leap_month": a.leap_month}


class Consent(Out):
    state: str
    changed_at: NullableTime


class Customer(Out):
    id: str
    display_name: str
    kind: Literal["person", "company"]
    phones: list[Annotated[str, Field(pattern=r"^\+[1-9]\d{1,14}$")]]
    emails: list[str]
    region: RegionOut
    addresses: list[AddressOut]
    type: str
    level: str
    tags: list[str]
    source: str
    stage: str
    intent_notes: str
    preferences: list[PreferenceOut]
    birthday: AnniversaryOut | None
    anniversaries: list[AnniversaryOut]
    consent_sms: Consent
    consent_email: Consent
    referred_by: str
    external_id: str
    owner_id: Annotated[str, Field(description="Empty when the customer is in the public pool.")]
    team_id: str
    owned_since: NullableTime
    last_contact_at: NullableTime
    created_at: Time
    updated_at: Time
    erased_at: NullableTime
    etag: str
    view: Annotated[Literal["full", "contact", "pool"], Field(
        description="Which fields you may see: all, contact fields only, or the pool summary.")]
    value_grade: Annotated[str, Field(description="Read-only. The customer's value grade (sales: last year's profit "
                                                  "contribution, e.g. A..D; empty when never graded or in the pool "
                                                  "view). Not the loyalty VIP tier; `level` is the customer's own "
                                                  "level code.")]
    value_grade_year: Annotated[int, Field(description="Read-only. The year that decided value_grade (0: none).")]

    @staticmethod
    def from_pb(c: pb.Customer) -> dict:
        anniversary = AnniversaryOut.from_pb
        return {
            "id": c.id, "display_name": c.display_name, "kind": _KIND_FROM_PB.get(c.kind, "person"),
            "phones": list(c.phones), "emails": list(c.emails),
            "region": {"province": c.region.province, "city": c.region.city},
            "addresses": [{"label": a.label, "province": a.province, "city": a.city, "district": a.district,
                           "line": a.line, "postal_code": a.postal_code} for a in c.addresses],
            "type": c.type, "level": c.level, "tags": list(c.tags), "source": c.source, "stage": c.stage,
            "intent_notes": c.intent_notes,
            "preferences": [{"topic": p.topic, "note": p.note} for p in c.preferences],
            "birthday": anniversary(c.birthday) if c.HasField("birthday") else None,
            "anniversaries": [anniversary(a) for a in c.anniversaries],
            "consent_sms": {"state": c.consent_sms.state or "unknown",
                            "changed_at": _time(c.consent_sms.change_time, c.consent_sms.HasField("change_time"))},
            "consent_email": {"state": c.consent_email.state or "unknown",
                              "changed_at": _time(c.consent_email.change_time,
                                                  c.consent_email.HasField("change_time"))},
            "referred_by": c.referred_by, "external_id": c.external_id,
            "owner_id": c.owner_id, "team_id": c.team_id,
            "owned_since": _time(c.owned_since_time, c.HasField("owned_since_time")),
            "last_contact_at": _time(c.last_contact_time, c.HasField("last_contact_time")),
            "created_at": c.create_time.ToJsonString(), "updated_at": c.update_time.ToJsonString(),
            "erased_at": _time(c.erase_time, c.HasField("erase_time")),
            "etag": c.etag, "view": _VIEW_FROM_PB.get(c.view, "pool"),
            "value_grade": c.value_grade, "value_grade_year": c.value_grade_year,
        }


class CustomerPage(Out):
    items: list[Customer]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(page: pb.ListCustomersResponse) -> dict:
        one = Customer.from_pb
        return {"items": [one(c) for c in page.customers], "next_page_token": page.next_page_token}


class HandOverResult(Out):
    moved_count: int
    skipped_ids: list[str]

    @staticmethod
    def from_pb(r: pb.HandOverCustomersResponse) -> dict:
        return {"moved_count": r.moved_count, "skipped_ids": list(r.skipped_ids)}


class ReleaseResult(Out):
    released_count: int

    @staticmethod
    def from_pb(r: pb.ReleaseInactiveCustomersResponse) -> dict:
        return {"released_count": r.released_count}


class OwnershipChange(Out):
    action: str
    from_owner_id: str
    to_owner_id: str
    changed_by: str
    changed_at: Time
    reason: str


class OwnershipChanges(Out):
    items: Annotated[list[OwnershipChange], Field(description="Oldest first.")]

    @staticmethod
    def from_pb(r: pb.ListOwnershipChangesResponse) -> dict:
        return {"items": [{"action": c.action, "from_owner_id": c.from_owner_id, "to_owner_id": c.to_owner_id,
                           "changed_by": c.changed_by, "changed_at": c.change_time.ToJsonString(),
                           "reason": c.reason} for c in r.changes]}


class Referrals(Out):
    referred_by: str
    referred_ids: list[str]

    @staticmethod
    def from_pb(r: pb.ListReferralsResponse) -> dict:
        return {"referred_by": r.referred_by, "referred_ids": list(r.referred_ids)}


class CustomerExport(Out):
    """Everything held about the customer (the service's export, as protobuf JSON)."""

    model_config = {"extra": "allow"}
    customer: dict


LOCATION = Header("Location", "The new customer.", lambda c: f"/api/v1/customers/{c.id}")
IF_MATCH = RequestHeader("If-Match", "The ETag you read; required.", required=True)


def stubs():
    return g.downstream.customers


def _list_timeout() -> float:
    return g.downstream.settings.list_timeout_seconds


# --- routes ----------------------------------------------------------------------------

@route(bp, "POST", "", "createCustomer", "Create a customer", allow=WRITE, body=CustomerCreate,
       ok=Ok(Customer, "Created.", 201, (ETAG, LOCATION)),
       errors={409: "A customer with one of these keys exists."},
       description="Phones are normalized to E.164, e-mails validated. A phone, e-mail, company name in the same "
                   "region or external id already on file is refused with 409, saying whose record holds it "
                   "(yours, the pool, another rep) without showing it.")
def create_customer(a: Args):
    return stubs().CreateCustomer(pb.CreateCustomerRequest(customer=a.body.to_pb()))


class ListQuery(Query):
    owner_id: text(128) = ""
    pool: Annotated[QueryBool, Field(description="Only customers in the public pool.")] = False
    province: text(64) = ""
    city: text(64) = ""
    level: text(16) = ""
    stage: Stage = optional()
    tag: text(32) = ""
    name_prefix: text(200, description="Matches the name or its pinyin: zhang finds 张三.") = ""
    created_after: QueryTime = optional()
    created_before: QueryTime = optional()
    last_contact_after: QueryTime = optional()
    last_contact_before: QueryTime = optional()
    order_by: Literal["id", "name"] = "id"
    page_size: PageSize = 50
    page_token: PageToken = ""


def _range(start, end) -> pb.TimeRange | None:
    if start is None and end is None:
        return None
    r = pb.TimeRange()
    if start is not None:
        r.start_time.FromDatetime(start)
    if end is not None:
        r.end_time.FromDatetime(end)
    return r


@route(bp, "GET", "", "listCustomers", "List customers you may see", allow=LIST, query=ListQuery,
       ok=Ok(CustomerPage, "A page of customers."),
       description="Cursor-paginated, oldest first, in the order customers came to the owner, the pool or the "
                   "team (admins' full list: creation order), or by name (order_by=name: pinyin for Chinese "
                   "names). Reps get their own customers (pool=true: the pool, summary fields only); managers "
                   "their team and the pool; admins everyone. order_by=name scans on FerretDB's SQLite back end.")
def list_customers(a: Args):
    q = a.query
    return stubs().ListCustomers(pb.ListCustomersRequest(
        page_size=q.page_size, page_token=q.page_token, owner_id=q.owner_id, pool=q.pool, province=q.province,
        city=q.city, level=q.level, stage=q.stage or "", tag=q.tag, name_prefix=q.name_prefix, order_by=q.order_by,
        create_time=_range(q.created_after, q.created_before),
        last_contact_time=_range(q.last_contact_after, q.last_contact_before)), timeout=_list_timeout())


class LookupQuery(Query):
    phone: text(32, 1) = optional()
    email: text(254, 1) = optional()


def exactly_one(q: Query, names: tuple[str, ...]) -> None:
    given = [n for n in names if getattr(q, n, None)]
    if len(given) != 1:
        listed = " or ".join(names)
        raise Problem(400, f"give exactly one of the query parameters {listed}", slug="validation",
                      errors=[{"field": names[0], "message": f"give exactly one of {listed}"}])


@route(bp, "GET", "/lookup", "lookupCustomer", "Find a customer by phone or e-mail", allow=READ, query=LookupQuery,
       ok=Ok(Customer, "The customer holding this phone or e-mail.", headers=(ETAG,)),
       errors={400: "Give exactly one of phone or email, valid.", 404: "No customer you may see has it."})
def lookup_customer(a: Args):
    exactly_one(a.query, ("phone", "email"))
    return stubs().LookupCustomer(pb.LookupCustomerRequest(phone=a.query.phone or "", email=a.query.email or ""))


@route(bp, "GET", "/<customer_id>", "getCustomer", "Get a customer", allow=READ, path=CustomerPath,
       ok=Ok(Customer, "The customer.", headers=(ETAG,)), errors={404: "No such customer, or not yours."})
def get_customer(a: Args):
    return stubs().GetCustomer(pb.GetCustomerRequest(id=a.path.customer_id))


@route(bp, "PATCH", "/<customer_id>", "updateCustomer", "Change some fields of a customer", allow=WRITE,
       path=CustomerPath, body=CustomerPatch, body_types=PATCH_TYPES, request_headers=(IF_MATCH,),
       ok=Ok(Customer, "The updated customer.", headers=(ETAG,)),
       errors={404: "No such customer, or not yours.",
               409: "A new phone or e-mail belongs to another customer, or the customer is in the pool.",
               412: "If-Match is stale: someone changed the customer since you read it.",
               428: "If-Match header missing."},
       description="Send only the fields to change. If-Match with the current ETag is required. Owner and system "
                   "fields are refused (use claim, release, transfer).")
def update_customer(a: Args):
    etag = (request.headers.get("If-Match") or "").strip().removeprefix("W/").strip('"')
    if not etag:
        raise Problem(428, "send If-Match with the ETag you read, so you don't overwrite someone else's change",
                      slug="if-match-required")
    update = pb.UpdateCustomerRequest(customer=a.body.to_pb(),
                                      update_mask=field_mask_pb2.FieldMask(paths=sorted(a.body.model_fields_set)),
                                      etag=etag)
    update.customer.id = a.path.customer_id
    return stubs().UpdateCustomer(update)


# --- ownership and the public pool ----------------------------------------------------

_CHANGED = {409: "The customer changed meanwhile; retry."}


@route(bp, "POST", "/<customer_id>/claim", "claimCustomer", "Claim a customer from the public pool", allow=CLAIM,
       path=CustomerPath, ok=Ok(Customer, "The claimed customer.", headers=(ETAG,)),
       errors={404: "No such customer.", 409: "The customer is not in the pool."}, description="You become the owner.")
def claim_customer(a: Args):
    return stubs().ClaimCustomer(pb.ClaimCustomerRequest(id=a.path.customer_id))


@route(bp, "POST", "/<customer_id>/release", "releaseCustomer", "Release a customer to the public pool",
       allow=WRITE, path=CustomerPath, body=OwnershipReason, ok=Ok(Customer, "The released customer.", headers=(ETAG,)),
       errors={404: "No such customer, or not one you may change.", **_CHANGED}, description="The owner or a manager.")
def release_customer(a: Args):
    return stubs().ReleaseCustomer(pb.ReleaseCustomerRequest(id=a.path.customer_id, reason=a.body.reason))


@route(bp, "POST", "/<customer_id>/transfer", "transferCustomer", "Transfer a customer to another rep", allow=MANAGE,
       path=CustomerPath, body=Transfer, ok=Ok(Customer, "The transferred customer.", headers=(ETAG,)),
       errors={404: "No such customer, or not one you may change.", **_CHANGED}, description="Managers and admins.")
def transfer_customer(a: Args):
    b = a.body
    return stubs().TransferCustomer(pb.TransferCustomerRequest(
        id=a.path.customer_id, to_owner_id=b.to_owner_id, to_team_id=b.to_team_id, reason=b.reason))


@route(bp, "POST", "/hand-over", "handOverCustomers", "Hand a leaving rep's customers over", allow=MANAGE,
       body=HandOver, ok=Ok(HandOverResult, "How many moved, and which were skipped (changed meanwhile)."),
       description="Every customer of from_owner_id goes to the reps in to_owner_ids in turn. Safe to repeat.")
def hand_over_customers(a: Args):
    b = a.body
    return stubs().HandOverCustomers(pb.HandOverCustomersRequest(
        from_owner_id=b.from_owner_id, to_owner_ids=b.to_owner_ids, to_team_id=b.to_team_id, reason=b.reason),
        timeout=_list_timeout())


@route(bp, "POST", "/release-inactive", "releaseInactiveCustomers", "Return uncontacted customers to the pool",
       allow=ADMIN, ok=Ok(ReleaseResult, "How many customers were released."),
       description="Customers without an interaction for the protection period (CUSTOMER_PROTECTION_DAYS) return "
                   "to the pool. Admins; the service also runs it on a schedule. Idempotent.")
def release_inactive_customers(a: Args):
    return stubs().ReleaseInactiveCustomers(pb.ReleaseInactiveCustomersRequest(), timeout=_list_timeout())


@route(bp, "GET", "/<customer_id>/ownership-changes", "listOwnershipChanges",
       "Ownership history: who, when, from, to, why", allow=READ, path=CustomerPath,
       ok=Ok(OwnershipChanges, "Oldest first."), errors={404: "No such customer, or not one you fully see."})
def list_ownership_changes(a: Args):
    return stubs().ListOwnershipChanges(pb.ListOwnershipChangesRequest(id=a.path.customer_id))


@route(bp, "GET", "/<customer_id>/referrals", "listReferrals", "Who referred this customer, and whom they referred",
       allow=READ, path=CustomerPath, ok=Ok(Referrals, "Both directions."),
       errors={404: "No such customer, or not one you fully see."})
def list_referrals(a: Args):
    return stubs().ListReferrals(pb.ListReferralsRequest(id=a.path.customer_id))


# --- privacy ---------------------------------------------------------------------------

@route(bp, "GET", "/<customer_id>/export", "exportCustomerData", "Everything held about a customer (admins)",
       allow=ADMIN, path=CustomerPath, ok=Ok(CustomerExport, "The customer's data as JSON."),
       errors={404: "No such customer."})
def export_customer_data(a: Args):
    result = stubs().ExportCustomerData(pb.ExportCustomerDataRequest(id=a.path.customer_id))
    resp = Response(json_format.MessageToJson(result.data, ensure_ascii=False, indent=None),
                    mimetype="application/json")
    resp.headers["Content-Disposition"] = f'attachment; filename="{a.path.customer_id}.json"'
    return resp


@route(bp, "POST", "/<customer_id>/erase", "eraseCustomer", "Erase a customer's personal data (admins)", allow=ADMIN,
       path=CustomerPath, body=OwnershipReason, ok=Ok(Customer, "What remains of the customer.", headers=(ETAG,)),
       errors={404: "No such customer."}, description="Irreversible. Keys are freed, the id stays. Idempotent.")
def erase_customer(a: Args):
    return stubs().EraseCustomer(pb.EraseCustomerRequest(id=a.path.customer_id, reason=a.body.reason))
