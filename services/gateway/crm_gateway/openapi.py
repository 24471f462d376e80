"""The OpenAPI 3.1 document served at /openapi.json, assembled once at
start-up from the route declarations (routing.OPERATIONS): parameters from
the path and query models, the request body and answers from their models
(pydantic's JSON Schema), every error a route can answer from what it
declares plus what every route of its kind can answer (auth, rate limit,
downstream, bodies, Idempotency-Key). Tests check it against behaviour."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from crm_gateway.fields import optional
from crm_gateway.routing import Header, Operation, RequestHeader

REF = "#/components/schemas/{model}"


class ProblemFieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[ProblemFieldError] = optional()
    relation: Literal["yours", "public_pool", "another_owner"] = optional()
    service: str = optional()
    reasons: list[str] = optional()


_PROBLEM_NOTES = {"relation": "On a duplicate: whose record holds the phone, e-mail or company.",
                  "service": "On 503: which service is unavailable.",
                  "reasons": "On a 409 refused by a rule: which rules, e.g. POINTS, STOCK, LIMIT or VALIDITY for a "
                             "redemption."}

ETAG = Header("ETag", "Version tag; send it back in If-Match to update.", lambda m: f'"{m.etag}"')
RETRY = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
RATE_LIMIT = {
    "RateLimit-Policy": {"description": 'The budget this request counts against, e.g. "rep";q=600;w=60 '
                                        "(draft-ietf-httpapi-ratelimit-headers); on every answer.",
                         "schema": {"type": "string"}},
    "RateLimit": {"description": 'What is left of it and seconds until it resets, e.g. "rep";r=42;t=17.',
                  "schema": {"type": "string"}},
}
IDEMPOTENCY_KEY = RequestHeader("Idempotency-Key", "Repeat a POST safely: the same key replays the first answer "
                                "for 24 hours.", schema={"type": "string", "minLength": 1, "maxLength": 255})

# What a route answers besides its own errors, by what it is.
AUTHENTICATED = {401: "Missing, invalid or expired bearer token.", 403: "Your role (or scope) may not do this.",
                 503: "A downstream service is unavailable."}
LIMITED = {429: "Over the rate limit (per principal; a smaller budget for expensive routes)."}
WITH_QUERY = {400: "Bad or unknown query parameter."}
WITH_PATH = {404: "No such resource."}
WITH_BODY = {400: "Malformed JSON.", 413: "Body too large.", 415: "Body is not application/json.",
             422: "Body fails validation; `errors` lists each field."}
POSTED = {400: "Bad Idempotency-Key.", 409: "The Idempotency-Key is in use by a request still running.",
          422: "The Idempotency-Key was used with another request."}
ERROR_HEADERS = {429: {**RETRY, **RATE_LIMIT}, 503: RETRY}


class _Schema(GenerateJsonSchema):
    def field_title_should_be_set(self, schema) -> bool:  # noqa: ARG002 - titles add nothing here
        return False


def _problem(description: str, status: int) -> dict:
    out = {"description": description,
           "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}}
    if status in ERROR_HEADERS:
        out["headers"] = ERROR_HEADERS[status]
    return out


def _errors(op: Operation) -> dict[int, str]:
    merged: dict[int, list[str]] = {}
    groups = [op.errors]
    if not op.policy.public:
        groups += [AUTHENTICATED, LIMITED]
    if op.query is not None:
        groups.append(WITH_QUERY)
    if op.path is not None and 404 not in op.errors:
        groups.append(WITH_PATH)
    if op.body is not None:
        groups.append({k: v for k, v in WITH_BODY.items() if k not in op.errors})
    if op.method == "POST" and not op.policy.public:
        groups.append(POSTED)
    for group in groups:
        for status, text in group.items():
            if text not in merged.setdefault(status, []):
                merged[status].append(text)
    return {status: " ".join(texts) for status, texts in sorted(merged.items())}


def _parameters(op: Operation, schemas: dict) -> list[dict]:
    out = []
    for where, model in (("path", op.path), ("query", op.query)):
        if model is None:
            continue
        schema = model.model_json_schema(ref_template=REF, schema_generator=_Schema)
        required = set(schema.get("required", ()))
        for name, prop in schema["properties"].items():
            prop = dict(prop)
            description = prop.pop("description", "")
            param = {"name": name, "in": where, "required": where == "path" or name in required, "schema": prop}
            if description:
                param["description"] = description
            out.append(param)
    headers = op.request_headers + ((IDEMPOTENCY_KEY,) if op.method == "POST" and not op.policy.public else ())
    for h in headers:
        out.append({"name": h.name, "in": "header", "required": h.required, "description": h.description,
                    "schema": h.schema})
    return out


def build_spec(operations: list[Operation]) -> dict:
    ops = [op for op in operations if op.in_schema]
    models = {(Problem, "serialization")}
    for op in ops:
        if op.body is not None:
            models.add((op.body, "validation"))
        if op.ok.model is not None:
            models.add((op.ok.model, "serialization"))
    refs, defs = models_json_schema(sorted(models, key=lambda m: m[0].__name__), ref_template=REF,
                                    schema_generator=_Schema)
    components = dict(sorted(defs.get("$defs", {}).items()))
    for name, note in _PROBLEM_NOTES.items():
        components["Problem"]["properties"][name]["description"] = note
    components["Problem"]["required"] = ["type", "title", "status", "detail"]

    paths: dict[str, dict] = {}
    for op in ops:
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", op.rule)
        ok: dict = {"description": op.ok.description}
        if op.ok.model is not None:
            ok["content"] = {op.ok.content_type: {"schema": refs[(op.ok.model, "serialization")]}}
        elif op.ok.content_type != "application/json":
            ok["content"] = {op.ok.content_type: {"schema": {"type": "string"}}}
        if op.ok.headers:
            ok["headers"] = {h.name: {"description": h.description, "schema": h.schema} for h in op.ok.headers}
        responses = {str(op.ok.status): ok}
        responses.update({str(status): _problem(text, status) for status, text in _errors(op).items()})
        operation = {
            "operationId": op.operation_id, "summary": op.summary,
            "description": " ".join(filter(None, (op.description, op.policy.describe()))),
            "x-policy": op.policy.as_extension(),
        }
        if op.tags:
            operation["tags"] = list(op.tags)
        if op.policy.public:
            operation["security"] = []
        params = _parameters(op, components)
        if params:
            operation["parameters"] = params
        if op.body is not None:
            schema = refs[(op.body, "validation")]
            operation["requestBody"] = {"required": True, "content": {t: {"schema": schema} for t in op.body_types}}
        operation["responses"] = responses
        paths.setdefault(path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "CRM API", "version": "1.0.0",
            "description": "Customers, sales, support and loyalty behind one gateway. Every error is "
                           "application/problem+json (RFC 9457). Authenticate with a bearer JWT "
                           "(`uv run crm token --role rep --sub rep-001` for a development one).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
