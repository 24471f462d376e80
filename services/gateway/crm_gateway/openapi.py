"""The OpenAPI 3.1 document served at /openapi.json (tests check it
against the real routes and responses)."""

from __future__ import annotations

from crm_gateway.schemas import COMPONENTS


def _problem(description: str, headers: dict | None = None) -> dict:
    out = {"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    if headers:
        out["headers"] = headers
    return out


def _json(ref: str, description: str, headers: dict | None = None) -> dict:
    out = {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}
    if headers:
        out["headers"] = headers
    return out


_ETAG = {"ETag": {"description": "Version tag; send it back in If-Match to update.", "schema": {"type": "string"}}}
_RETRY = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
_COMMON = {
    "401": _problem("Missing, invalid or expired bearer token."),
    "403": _problem("Your role may not do this."),
    "503": _problem("A downstream service is unavailable.", _RETRY),
}
_ID_PARAM = {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "string"}}
_IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
                "description": "Repeat a POST safely: the same key replays the first answer for 24 hours.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255}}


def build_spec() -> dict:
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "CRM API", "version": "1.0.0",
            "description": "Customers, sales, support and loyalty behind one gateway. Every error is "
                           "application/problem+json (RFC 9457). Authenticate with a bearer JWT.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/customers": {
                "post": {
                    "operationId": "createCustomer", "summary": "Create a customer",
                    "description": "Phones are normalized to E.164. A phone already on file is refused with 409, "
                                   "saying whose record holds it without showing it.",
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CustomerCreate"}}}},
                    "responses": {
                        "201": _json("Customer", "Created.", {**_ETAG, "Location": {"schema": {"type": "string"}}}),
                        "400": _problem("Malformed JSON or bad Idempotency-Key."),
                        "409": _problem("A customer with one of these phones exists, or the Idempotency-Key is in use."),
                        "413": _problem("Body too large."),
                        "415": _problem("Body is not application/json."),
                        "422": _problem("Body fails validation; `errors` lists each field."),
                        **_COMMON,
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
                    "responses": {"200": _json("CustomerPage", "A page of customers."),
                                  "400": _problem("Bad query parameter."), **_COMMON},
                },
            },
            "/api/v1/customers/lookup": {
                "get": {
                    "operationId": "lookupCustomerByPhone", "summary": "Find a customer by phone",
                    "parameters": [{"name": "phone", "in": "query", "required": True,
                                    "schema": {"type": "string", "minLength": 1, "maxLength": 32}}],
                    "responses": {"200": _json("Customer", "The customer holding this phone.", _ETAG),
                                  "400": _problem("Missing or invalid phone."),
                                  "404": _problem("No customer you may see has this phone."), **_COMMON},
                },
            },
            "/api/v1/customers/{customer_id}": {
                "get": {
                    "operationId": "getCustomer", "summary": "Get a customer",
                    "parameters": [_ID_PARAM],
                    "responses": {"200": _json("Customer", "The customer.", _ETAG),
                                  "404": _problem("No such customer, or not yours."), **_COMMON},
                },
                "patch": {
                    "operationId": "updateCustomer", "summary": "Change some fields of a customer",
                    "description": "Send only the fields to change. If-Match with the current ETag is required.",
                    "parameters": [_ID_PARAM, {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}],
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CustomerPatch"}},
                        "application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/CustomerPatch"}}}},
                    "responses": {
                        "200": _json("Customer", "The updated customer.", _ETAG),
                        "400": _problem("Malformed JSON."),
                        "404": _problem("No such customer, or not yours."),
                        "409": _problem("A new phone belongs to another customer."),
                        "412": _problem("If-Match is stale: someone changed the customer since you read it."),
                        "413": _problem("Body too large."),
                        "415": _problem("Body is not JSON."),
                        "422": _problem("Body fails validation."),
                        "428": _problem("If-Match header missing."),
                        **_COMMON,
                    },
                },
            },
            "/healthz": {"get": {"operationId": "healthz", "summary": "Process is alive", "security": [],
                                 "responses": {"200": {"description": "Alive."}}}},
            "/readyz": {"get": {"operationId": "readyz", "summary": "All downstream services are serving", "security": [],
                                "responses": {"200": {"description": "Ready."}, "503": _problem("Not ready.", _RETRY)}}},
            "/readyz/{service}": {"get": {
                "operationId": "readyzService", "summary": "One downstream service is serving (one gRPC health call)",
                "security": [],
                "parameters": [{"name": "service", "in": "path", "required": True,
                                "schema": {"type": "string", "enum": ["customer", "sales", "support", "loyalty"]}}],
                "responses": {"200": {"description": "Serving."}, "404": _problem("Unknown service."),
                              "503": _problem("Not serving.", _RETRY)}}},
            "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "security": [],
                                 "responses": {"200": {"description": "Prometheus text format."}}}},
        },
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
