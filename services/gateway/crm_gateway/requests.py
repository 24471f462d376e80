"""Reading a request safely: the JSON body (before its model sees it) and
RFC 3339 times."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from flask import request

from crm_gateway.problems import Problem

JSON_TYPES = ("application/json",)
PATCH_TYPES = ("application/json", "application/merge-patch+json")
# JSON may escape a lone UTF-16 surrogate ("\ud800"); Python decodes it to a
# code point no UTF-8 encoder (protobuf, the logs) accepts. A valid pair
# ("\ud83d\ude00") decodes to one character, so any surrogate left is lone.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
SURROGATE_MESSAGE = "must be valid Unicode (no lone surrogates)"
# No body a route accepts nests deeper than a few levels; json.loads recurses
# once per level and a 10 KB "[[[[…" ends in RecursionError (a 500). The
# depth is counted on the raw bytes before parsing, outside strings.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def read_json(allowed: tuple[str, ...] = JSON_TYPES):
    """The request body parsed, or a problem: 415 wrong content type, 400
    malformed or too deeply nested JSON, 422 text protobuf cannot encode
    (lone surrogates) or a key starting with `$` (an operator) anywhere.
    Its shape is the route's body model's to check (routing.py)."""
    if request.mimetype not in allowed:
        raise Problem(415, f"send the body as {' or '.join(allowed)}", slug="unsupported-media-type")
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise Problem(400, f"the body nests deeper than {MAX_JSON_DEPTH} levels", slug="malformed-json")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Problem(400, "the body is not valid JSON", slug="malformed-json") from None
    errors = list(_unsafe(body, ""))
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


def _unsafe(value, path: str):
    """{field, message} for strings (or object keys) holding a lone
    surrogate and for keys starting with `$`, fields named as "phones.0"."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            yield {"field": path or "(body)", "message": SURROGATE_MESSAGE}
    elif isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                yield {"field": path or "(body)", "message": SURROGATE_MESSAGE}
            elif key.startswith("$"):
                yield {"field": path or "(body)", "message": f"operator keys are not accepted: {key[:40]}"}
            else:
                yield from _unsafe(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _unsafe(item, f"{path}.{i}" if path else str(i))


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
