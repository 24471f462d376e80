"""JSON Schemas (2020-12) of the API: the same objects validate requests and
make up the OpenAPI document, so the docs cannot drift from behaviour."""

from __future__ import annotations

from jsonschema import Draft202012Validator

def _text(max_len: int, **kw) -> dict:
    return {"type": "string", "maxLength": max_len, **kw}


def _enum(values: tuple[str, ...], **kw) -> dict:
    return {"type": "string", "enum": list(values), **kw}


_REGION = {
    "type": "object", "additionalProperties": False,
    "properties": {"province": _text(64), "city": _text(64)},
}
_ADDRESS = {
    "type": "object", "additionalProperties": False,
    "properties": {"label": _text(64), "province": _text(64), "city": _text(64), "district": _text(64),
                   "line": _text(200), "postal_code": _text(64)},
}
_PREFERENCE = {
    "type": "object", "additionalProperties": False, "required": ["note"],
    "properties": {"topic": _text(40, description='e.g. "seat"'),
                   "note": _text(200, minLength=1, description='e.g. "likes the window seat"')},
}
_ANNIVERSARY = {
    "type": "object", "additionalProperties": False, "required": ["month", "day"],
    "description": "Stored as given. Lunar dates are months and days of the Chinese calendar.",
    "properties": {
        "label": _text(40), "calendar": _enum(("gregorian", "lunar"), default="gregorian"),
        "year": {"type": "integer", "minimum": 0, "maximum": 2100, "description": "0 or absent when unknown."},
        "month": {"type": "integer", "minimum": 1, "maximum": 12},
        "day": {"type": "integer", "minimum": 1, "maximum": 31},
        "leap_month": {"type": "boolean", "description": "Lunar only: the intercalary month."},
    },
}
_CONSENT_IN = {
    "type": "object", "additionalProperties": False, "required": ["state"],
    "properties": {"state": _enum(("unknown", "granted", "withdrawn"))},
    "description": "The service records when it changed.",
}
_PHONES = {"type": "array", "maxItems": 5, "items": _text(32, minLength=1),
           "description": "Phone numbers in any common notation; stored in E.164. The first is the primary one."}
_EMAILS = {"type": "array", "maxItems": 5, "items": _text(254, minLength=1),
           "description": "E-mail addresses; the first is the primary one."}
STAGES = ("new", "contacted", "target", "strong_intent", "negotiating", "won", "lost", "dormant")
_PROFILE = {
    "display_name": _text(200, minLength=1, description="Name in any script."),
    "kind": _enum(("person", "company"), default="person"),
    "phones": _PHONES,
    "emails": _EMAILS,
    "region": _REGION,
    "addresses": {"type": "array", "maxItems": 5, "items": _ADDRESS},
    "type": _enum(("prospect", "customer", "partner", "distributor", "other"), default="prospect"),
    "level": _text(16, pattern="^([A-Za-z0-9][A-Za-z0-9_.-]*)?$"),
    "tags": {"type": "array", "maxItems": 20, "items": _text(32, minLength=1)},
    "source": _enum(("", "referral", "walk_in", "phone", "web", "exhibition", "advertising", "partner", "import",
                     "other")),
    "stage": _enum(STAGES, default="new"),
    "intent_notes": _text(2000),
    "preferences": {"type": "array", "maxItems": 30, "items": _PREFERENCE},
    "birthday": {**_ANNIVERSARY, "type": ["object", "null"]},
    "anniversaries": {"type": "array", "maxItems": 10, "items": _ANNIVERSARY},
    "consent_sms": _CONSENT_IN,
    "consent_email": _CONSENT_IN,
    "referred_by": _text(28, description="Id of the customer who referred this one."),
    "external_id": _text(64, pattern="^([A-Za-z0-9][A-Za-z0-9_.-]*)?$", description="Id in another system; unique."),
}

CUSTOMER_CREATE = {
    "type": "object", "additionalProperties": False, "required": ["display_name"],
    "description": "A customer needs at least one phone or e-mail.",
    "properties": {
        **_PROFILE,
        "owner_id": _text(128, description="Managers and admins may assign an owner; reps always own what they create."),
    },
}

CUSTOMER_PATCH = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "description": "Only the fields sent change. Owner and system fields change through claim, release and transfer.",
    "properties": _PROFILE,
}

_TIME = {"type": ["string", "null"], "format": "date-time"}
_CONSENT_OUT = {"type": "object", "required": ["state", "changed_at"],
                "properties": {"state": {"type": "string"}, "changed_at": _TIME}}
CUSTOMER = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "display_name", "kind", "phones", "emails", "region", "addresses", "type", "level", "tags",
                 "source", "stage", "intent_notes", "preferences", "birthday", "anniversaries", "consent_sms",
                 "consent_email", "referred_by", "external_id", "owner_id", "team_id", "owned_since",
                 "last_contact_at", "created_at", "updated_at", "erased_at", "etag", "view"],
    "properties": {
        "id": {"type": "string"},
        "display_name": {"type": "string"},
        "kind": {"type": "string", "enum": ["person", "company"]},
        "phones": {"type": "array", "items": {"type": "string", "pattern": r"^\+[1-9]\d{1,14}$"}},
        "emails": {"type": "array", "items": {"type": "string"}},
        "region": {**_REGION, "required": ["province", "city"]},
        "addresses": {"type": "array", "items": _ADDRESS},
        "type": {"type": "string"}, "level": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "source": {"type": "string"}, "stage": {"type": "string"}, "intent_notes": {"type": "string"},
        "preferences": {"type": "array", "items": _PREFERENCE},
        "birthday": {**_ANNIVERSARY, "type": ["object", "null"]},
        "anniversaries": {"type": "array", "items": _ANNIVERSARY},
        "consent_sms": _CONSENT_OUT, "consent_email": _CONSENT_OUT,
        "referred_by": {"type": "string"}, "external_id": {"type": "string"},
        "owner_id": {"type": "string", "description": "Empty when the customer is in the public pool."},
        "team_id": {"type": "string"},
        "owned_since": _TIME, "last_contact_at": _TIME, "erased_at": _TIME,
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "etag": {"type": "string"},
        "view": {"type": "string", "enum": ["full", "contact", "pool"],
                 "description": "Which fields you may see: all, contact fields only, or the pool summary."},
    },
}

CUSTOMER_PAGE = {
    "type": "object", "additionalProperties": False, "required": ["items", "next_page_token"],
    "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Customer"}},
        "next_page_token": {"type": "string", "description": "Pass as page_token for the next page; empty at the end."},
    },
}

_REASON = _text(500)
OWNERSHIP_REASON = {"type": "object", "additionalProperties": False, "properties": {"reason": _REASON}}
TRANSFER = {
    "type": "object", "additionalProperties": False, "required": ["to_owner_id"],
    "properties": {"to_owner_id": _text(128, minLength=1), "to_team_id": _text(128), "reason": _REASON},
}
HAND_OVER = {
    "type": "object", "additionalProperties": False, "required": ["from_owner_id", "to_owner_ids"],
    "properties": {"from_owner_id": _text(128, minLength=1),
                   "to_owner_ids": {"type": "array", "minItems": 1, "maxItems": 50, "items": _text(128, minLength=1)},
                   "to_team_id": _text(128), "reason": _REASON},
}
HAND_OVER_RESULT = {
    "type": "object", "required": ["moved_count", "skipped_ids"],
    "properties": {"moved_count": {"type": "integer"}, "skipped_ids": {"type": "array", "items": {"type": "string"}}},
}
RELEASE_RESULT = {"type": "object", "required": ["released_count"], "properties": {"released_count": {"type": "integer"}}}
OWNERSHIP_CHANGES = {
    "type": "object", "required": ["items"],
    "properties": {"items": {"type": "array", "items": {
        "type": "object",
        "required": ["action", "from_owner_id", "to_owner_id", "changed_by", "changed_at", "reason"],
        "properties": {"action": {"type": "string"}, "from_owner_id": {"type": "string"},
                       "to_owner_id": {"type": "string"}, "changed_by": {"type": "string"},
                       "changed_at": {"type": "string", "format": "date-time"}, "reason": {"type": "string"}}}}},
}
REFERRALS = {
    "type": "object", "required": ["referred_by", "referred_ids"],
    "properties": {"referred_by": {"type": "string"}, "referred_ids": {"type": "array", "items": {"type": "string"}}},
}
CUSTOMER_EXPORT = {"type": "object", "required": ["customer"], "description": "Everything held about the customer.",
                   "properties": {"customer": {"type": "object"}}}

PROBLEM = {
    "type": "object", "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": ["string", "null"]},
        "request_id": {"type": ["string", "null"]},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
        "relation": {"type": "string", "enum": ["yours", "public_pool", "another_owner"],
                     "description": "On a duplicate: whose record holds the phone, e-mail or company."},
        "service": {"type": "string", "description": "On 503: which service is unavailable."},
    },
}

# Every schema of the API by name: OpenAPI `components.schemas` and what
# `violations` validates request bodies against. Modules add theirs with
# `register` (a request schema must not use $ref: it is validated alone).
COMPONENTS: dict[str, dict] = {}
_VALIDATORS: dict[str, Draft202012Validator] = {}


def register(**schemas: dict) -> None:
    for name, schema in schemas.items():
        if name in COMPONENTS and COMPONENTS[name] is not schema:
            raise ValueError(f"schema {name!r} registered twice")
        COMPONENTS[name] = schema
        _VALIDATORS[name] = Draft202012Validator(schema)


register(Customer=CUSTOMER, CustomerCreate=CUSTOMER_CREATE, CustomerPatch=CUSTOMER_PATCH,
         CustomerPage=CUSTOMER_PAGE, OwnershipReason=OWNERSHIP_REASON, Transfer=TRANSFER, HandOver=HAND_OVER,
         HandOverResult=HAND_OVER_RESULT, ReleaseResult=RELEASE_RESULT, OwnershipChanges=OWNERSHIP_CHANGES,
         Referrals=REFERRALS, CustomerExport=CUSTOMER_EXPORT, Problem=PROBLEM)


def violations(schema_name: str, body) -> list[dict]:
    """Every way `body` breaks the named schema, as {field, message}."""
    out = []
    for err in sorted(_VALIDATORS[schema_name].iter_errors(body), key=lambda e: list(e.path)):
        path = ".".join(str(p) for p in err.path) or "(body)"
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            out.append({"field": path, "message": f"unknown field(s): {', '.join(map(str, extra))[:200]}"})
        elif err.validator == "type":
            out.append({"field": path, "message": f"must be of type {err.validator_value}"})
        else:
            out.append({"field": path, "message": err.message[:300]})
    return out
