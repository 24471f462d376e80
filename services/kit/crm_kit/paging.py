"""Opaque page tokens for cursor pagination.

A token is URL-safe base64 of a small JSON object: the position to continue
from plus the query it belongs to. `decode` refuses a token minted for a
different query (another customer, another rep, another filter), so a
cursor can never widen what a caller sees.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from crm_kit.errors import FieldViolation, InvalidArgument

MAX_TOKEN = 512
# The largest position a token may hold (a book entry or list index).
MAX_POSITION = 2**31 - 1


def encode(position: dict, query: dict) -> str:
    raw = json.dumps({"p": position, "q": query}, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, query: dict, field_name: str = "page_token") -> dict | None:
    """The position stored in `token` (None for an empty token: first page)."""
    if not token:
        return None
    try:
        if len(token) > MAX_TOKEN:
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position, same_query = data["p"], data["q"] == query
        if not isinstance(position, dict):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgument(FieldViolation(field_name, "is not a valid page token")) from None
    if not same_query:
        raise InvalidArgument(FieldViolation(field_name, "does not belong to this query"))
    return position


MAX_PAGE_SIZE = 200


def page_size(requested: int, default: int = 50, maximum: int = MAX_PAGE_SIZE) -> int:
    """The page size to use: `default` when unset (0), else 1..maximum."""
    if requested < 0 or requested > maximum:
        raise InvalidArgument(FieldViolation("page_size", f"must be between 1 and {maximum}"))
    return requested or default


def fingerprint(*parts) -> str:
    """A short digest of a query's parts, to bind a page token to its query
    (a token reused with other filters, for another caller, is refused)."""
    raw = json.dumps([p.isoformat() if hasattr(p, "isoformat") else p for p in parts],
                     separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def book_start(position: dict | None, field_name: str = "page_token") -> int:
    """The book entry a page starts at: 1 for the first page, else the
    position's `n` (a positive whole number, or the token is refused)."""
    if position is None:
        return 1
    n = position.get("n")
    # bounded: a forged huge number would reach the store as an out-of-range integer (an internal error)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_POSITION:
        raise InvalidArgument(FieldViolation(field_name, "is not a valid page token"))
    return n


def list_position(position: dict | None, length: int, field_name: str = "page_token") -> int:
    """Where a newest-first page of a list of `length` entries ends: `length`
    for the first page, else the position's `before` (a whole number
    0..MAX_POSITION, or the token is refused; beyond the list's end: its end)."""
    if position is None:
        return length
    before = position.get("before")
    if isinstance(before, bool) or not isinstance(before, int) or not 0 <= before <= MAX_POSITION:
        raise InvalidArgument(FieldViolation(field_name, "is not a valid page token"))
    return min(before, length)
