"""Decisions taken once, and request-id idempotency, by `_id` inserts.

`DecideOnce`: the first insert of `_id: <key>` decides (a visit completed
or cancelled, an event applied, a reminder sent); everyone else reads what
was decided. `RequestKeys`: a caller's retry key, claimed by insert before
the work and then pointed at its result, so a retry returns the first
answer instead of doing the work twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError


class DecideOnce:
    def __init__(self, collection: Collection):
        self.decisions = collection

    def decide(self, key: str, decision: dict) -> tuple[bool, dict]:
        """(True, decision) if this call decided; else (False, the earlier decision)."""
        try:
            self.decisions.insert_one({"_id": key, **decision})
            return True, decision
        except DuplicateKeyError:
            doc = self.decisions.find_one({"_id": key}) or {}
            return False, {k: v for k, v in doc.items() if k != "_id"}

    def decided(self, key: str) -> dict | None:
        doc = self.decisions.find_one({"_id": key})
        return None if doc is None else {k: v for k, v in doc.items() if k != "_id"}

    def forget(self, key: str) -> None:
        self.decisions.delete_one({"_id": key})


@dataclass(frozen=True)
class RequestClaim:
    fingerprint: str  # a hash of what was asked: the same key with other content is refused
    result: object    # None while the work is being done
    created_at: datetime

    def abandoned(self, after: timedelta) -> bool:
        return self.result is None and datetime.now(timezone.utc) - self.created_at > after


class RequestKeys:
    """`_id: "<scope>#<key>"`; `result_field` holds what the work produced
    (an entry number, a record id), kept per service so stored keys stay readable."""

    def __init__(self, collection: Collection, result_field: str = "result", pending=None):
        self.requests = collection
        self.result_field = result_field
        self.pending = pending  # the stored "no result yet" value

    def claim(self, scope: str, key: str, fingerprint: str, now: datetime) -> RequestClaim | None:
        """None when this call claimed the key; else the earlier claim."""
        try:
            self.requests.insert_one({"_id": f"{scope}#{key}", "fingerprint": fingerprint,
                                      self.result_field: self.pending, "created_at": now})
            return None
        except DuplicateKeyError:
            return self.get(scope, key) or RequestClaim(fingerprint, None, now)

    def get(self, scope: str, key: str) -> RequestClaim | None:
        doc = self.requests.find_one({"_id": f"{scope}#{key}"})
        if doc is None:
            return None
        result = doc.get(self.result_field, self.pending)
        return RequestClaim(doc["fingerprint"], None if result == self.pending else result, doc["created_at"])

    def finish(self, scope: str, key: str, result) -> None:
        # Only the claim's holder (or, after it was abandoned, one taker) writes this field.
        self.requests.update_one({"_id": f"{scope}#{key}"}, {"$set": {self.result_field: result}})

    def drop(self, scope: str, key: str) -> None:
        self.requests.delete_one({"_id": f"{scope}#{key}"})

    def drop_many(self, scope: str, keys: set[str]) -> None:
        from pymongo import DeleteOne

        if keys:
            self.requests.bulk_write([DeleteOne({"_id": f"{scope}#{k}"}) for k in keys], ordered=False)
