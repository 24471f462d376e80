"""Helpers every route uses: the JSON body, validated; the role check; a
downstream call with its errors turned into problems."""

from __future__ import annotations

import json

import grpc
from flask import g, request

from crm_gateway import schemas
from crm_gateway.problems import Problem, from_rpc_error

JSON_TYPES = ("application/json",)
PATCH_TYPES = ("application/json", "application/merge-patch+json")


def json_body(schema_name: str, *, patch: bool = False) -> dict:
    """The request body as a dict that satisfies the schema, or a problem:
    415 wrong content type, 400 malformed JSON, 422 invalid content."""
    allowed = PATCH_TYPES if patch else JSON_TYPES
    if request.mimetype not in allowed:
        raise Problem(415, f"send the body as {' or '.join(allowed)}", slug="unsupported-media-type")
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "the body is not valid JSON", slug="malformed-json") from None
    errors = schemas.violations(schema_name, body)
    if errors:
        raise Problem(422, "the body does not match the schema", slug="validation", errors=errors)
    return body


def require_role(roles: tuple[str, ...]) -> None:
    if g.principal.role not in roles:
        raise Problem(403, f"the {g.principal.role} role may not do this", slug="forbidden")


def call(service: str, method, message, timeout: float | None = None):
    """Call a downstream gRPC method (with the default deadline unless
    `timeout` is given); failures become problem documents (unavailable ->
    503 with Retry-After, never a hang or a 500)."""
    try:
        return method(message, timeout=timeout)
    except grpc.RpcError as err:
        raise from_rpc_error(err, service) from None
