"""Helpers every route uses: the JSON body, validated; the role check; a
downstream call with its errors turned into problems."""

from __future__ import annotations

import json
from datetime import datetime, timezone

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


# --- query parameters --------------------------------------------------------
# Each parser turns one raw query value into a plain value or raises ValueError
# with a message for the caller; `query_args` reports every bad parameter at once.

def text(max_len: int):
    def parse(raw: str) -> str:
        if len(raw) > max_len:
            raise ValueError(f"at most {max_len} characters")
        return raw
    return parse


def integer(minimum: int, maximum: int):
    def parse(raw: str) -> int:
        if not raw.isdigit() or not minimum <= int(raw) <= maximum:
            raise ValueError(f"must be an integer from {minimum} to {maximum}")
        return int(raw)
    return parse


def boolean(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ValueError("must be true or false")
    return raw == "true"


def choice(*allowed: str):
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return raw
    return parse


def timestamp(raw: str) -> datetime:
    """RFC 3339 with a time zone, e.g. 2026-01-31T08:00:00Z."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-01-31T08:00:00Z") from None
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. Z or +08:00")
    return value.astimezone(timezone.utc)


def query_args(parsers: dict) -> dict:
    """The query string parsed by `parsers` ({name: parser}); an unknown or
    repeated parameter, or a bad value, is a 400 naming each one."""
    errors, out = [], {}
    for name in request.args:
        values = request.args.getlist(name)
        if name not in parsers:
            errors.append({"field": name, "message": "unknown query parameter"})
        elif len(values) > 1:
            errors.append({"field": name, "message": "give it once"})
        else:
            try:
                out[name] = parsers[name](values[0])
            except ValueError as err:
                errors.append({"field": name, "message": str(err)})
    if errors:
        raise Problem(400, "bad query parameters: " + ", ".join(e["field"] for e in errors)[:200],
                      slug="validation", errors=errors)
    return out
