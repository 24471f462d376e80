"""The OpenAPI 3.1 document served at /openapi.json (tests check it
against the real routes and responses).

Each blueprint module declares the paths it serves (`PATHS`) next to its
routes and registers its schemas in `crm_gateway.schemas`; this module holds
the shared pieces and assembles the document."""

from __future__ import annotations

from crm_gateway.schemas import COMPONENTS


def problem(description: str, headers: dict | None = None) -> dict:
    out = {"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    if headers:
        out["headers"] = headers
    return out


def json_response(ref: str, description: str, headers: dict | None = None) -> dict:
    out = {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}
    if headers:
        out["headers"] = headers
    return out


ETAG = {"ETag": {"description": "Version tag; send it back in If-Match to update.", "schema": {"type": "string"}}}
RETRY = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
RATE_LIMIT = {
    "RateLimit-Policy": {"description": 'The budget this request counts against, e.g. "rep";q=600;w=60 '
                                        "(draft-ietf-httpapi-ratelimit-headers); on every answer.",
                         "schema": {"type": "string"}},
    "RateLimit": {"description": 'What is left of it and seconds until it resets, e.g. "rep";r=42;t=17.',
                  "schema": {"type": "string"}},
}
COMMON = {
    "401": problem("Missing, invalid or expired bearer token."),
    "403": problem("Your role may not do this."),
    "429": problem("Over the rate limit (per principal; a smaller budget for expensive routes).",
                   {**RETRY, **RATE_LIMIT}),
    "503": problem("A downstream service is unavailable.", RETRY),
}
IDEMPOTENCY_PARAM = {"name": "Idempotency-Key", "in": "header", "required": False,
                     "description": "Repeat a POST safely: the same key replays the first answer for 24 hours.",
                     "schema": {"type": "string", "minLength": 1, "maxLength": 255}}


def build_spec(paths: dict) -> dict:
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
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
