"""Helpers every route uses: the JSON body, validated; the role check; a
downstream call with its errors turned into problems."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import grpc
from flask import g, request

from crm_gateway import schemas
from crm_gateway.problems import Problem, from_rpc_error

JSON_TYPES = ("application/json",)
PATCH_TYPES = ("application/json", "application/merge-patch+json")
# JSON may escape a lone UTF-16 surrogate ("\ud800"); Python decodes it to a
# code point no UTF-8 encoder (protobuf, the logs) accepts. A valid pair
# ("\ud83d\ude00") decodes to one character, so any surrogate left is lone.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# No body a route accepts nests deeper than a few levels; json.loads recurses
# once per level and a 10 KB "[[[[…" ends in RecursionError (a 500). The
# depth is counted on the raw bytes before parsing, outside strings.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def json_body(schema_name: str, *, patch: bool = False) -> dict:
    """The request body as a dict that satisfies the schema, or a problem:
    415 wrong content type, 400 malformed JSON, 422 invalid content (lone
    surrogates included, so no route meets text protobuf cannot encode)."""
    allowed = PATCH_TYPES if patch else JSON_TYPES
    if request.mimetype not in allowed:
        raise Problem(415, f"send the body as {' or '.join(allowed)}", slug="unsupported-media-type")
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise Problem(400, f"the body nests deeper than {MAX_JSON_DEPTH} levels", slug="malformed-json")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Problem(400, "the body is not valid JSON", slug="malformed-json") from None
    errors = [{"field": path, "message": "must be valid Unicode (no lone surrogates)"}
              for path in _lone_surrogates(body, "")] or schemas.violations(schema_name, body)
    if errors:
        raise Problem(422, "the body does not match the schema", slug="validation", errors=errors)
    return body


def json_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside
    strings do not count); cheap when there are few brackets at all."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # cannot be deeper than the limit
    depth = deepest = 0
    for ch in _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", raw)):
        if ch in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _lone_surrogates(value, path: str):
    """Paths (as schemas.violations names them: "phones.0") of strings, or
    of objects whose keys, hold a lone surrogate."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            yield path or "(body)"
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            if _SURROGATE.search(key):
                yield path or "(body)"
            else:
                yield from _lone_surrogates(item, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _lone_surrogates(item, f"{path}.{i}" if path else str(i))


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
    """RFC 3339 with a time zone, e.g. 2026-01-31T08:00:00Z, as UTC;
    ValueError (with a message for the caller) when it is not one."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-01-31T08:00:00Z") from None
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. Z or +08:00")
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError("is out of range") from None


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
