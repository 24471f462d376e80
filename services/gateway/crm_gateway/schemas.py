"""JSON Schemas (2020-12) of the API: the same objects validate requests and
make up the OpenAPI document, so the docs cannot drift from behaviour."""

from __future__ import annotations

from jsonschema import Draft202012Validator

_REGION = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "province": {"type": "string", "maxLength": 64},
        "city": {"type": "string", "maxLength": 64},
    },
}
_PHONES = {"type": "array", "minItems": 1, "maxItems": 5, "items": {"type": "string", "minLength": 1, "maxLength": 32},
           "description": "Phone numbers in any common notation; stored in E.164. The first is the primary one."}

CUSTOMER_CREATE = {
    "type": "object", "additionalProperties": False, "required": ["display_name", "phones"],
    "properties": {
        "display_name": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Name in any script."},
        "kind": {"type": "string", "enum": ["person", "company"], "default": "person"},
        "phones": _PHONES,
        "email": {"type": "string", "maxLength": 254},
        "region": _REGION,
        "owner_id": {"type": "string", "maxLength": 128,
                     "description": "Managers and admins may assign an owner; reps always own what they create."},
    },
}

CUSTOMER_PATCH = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {k: v for k, v in CUSTOMER_CREATE["properties"].items() if k != "owner_id"},
}

CUSTOMER = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "display_name", "kind", "phones", "email", "region", "owner_id", "team_id",
                 "created_at", "updated_at", "etag"],
    "properties": {
        "id": {"type": "string"},
        "display_name": {"type": "string"},
        "kind": {"type": "string", "enum": ["person", "company"]},
        "phones": {"type": "array", "items": {"type": "string", "pattern": r"^\+[1-9]\d{1,14}$"}},
        "email": {"type": "string"},
        "region": {**_REGION, "required": ["province", "city"]},
        "owner_id": {"type": "string"},
        "team_id": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "etag": {"type": "string"},
    },
}

CUSTOMER_PAGE = {
    "type": "object", "additionalProperties": False, "required": ["items", "next_page_token"],
    "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Customer"}},
        "next_page_token": {"type": "string", "description": "Pass as page_token for the next page; empty at the end."},
    },
}

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
                     "description": "On a duplicate: whose record holds the phone."},
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
         CustomerPage=CUSTOMER_PAGE, Problem=PROBLEM)


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
