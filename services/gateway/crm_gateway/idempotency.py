"""`Idempotency-Key` on POST: the first answer is stored in Redis and
replayed for the same key (per caller) for 24 hours.

A key first gets a "pending" marker (SET NX), so two concurrent requests
with one key cannot both run; the second gets 409. A 5xx answer is not
kept, so the client can retry with the same key.
"""

from __future__ import annotations

import hashlib
import json

import redis
from flask import Response

from crm_gateway.erasure import customers_named, erased_key, index_key
from crm_gateway.problems import Problem

PENDING = b"pending"
PENDING_TTL_SECONDS = 60


class IdempotencyStore:
    def __init__(self, client: redis.Redis, ttl_seconds: int):
        self.client = client
        self.ttl = ttl_seconds

    @staticmethod
    def _key(subject: str, key: str) -> str:
        return "idem:" + hashlib.sha256(f"{subject}\x00{key}".encode()).hexdigest()

    def begin(self, subject: str, key: str, fingerprint: str) -> Response | None:
        """None: go ahead and handle the request. A Response: replay it."""
        if not 0 < len(key) <= 255 or not key.isprintable():
            raise Problem(400, "Idempotency-Key must be 1 to 255 printable characters", slug="bad-idempotency-key")
        rkey = self._key(subject, key)
        try:
            if self.client.set(rkey, PENDING, nx=True, ex=PENDING_TTL_SECONDS):
                return None
            stored = self.client.get(rkey)
        except redis.RedisError:
            raise Problem(503, "idempotency store unavailable; retry shortly", slug="service-unavailable",
                          headers={"Retry-After": "1"}) from None
        if stored is None:  # expired between the two calls: treat as new
            return self.begin(subject, key, fingerprint)
        if stored == PENDING:
            raise Problem(409, "a request with this Idempotency-Key is still being processed",
                          slug="idempotency-in-progress")
        saved = json.loads(stored)
        if saved["fingerprint"] != fingerprint:
            raise Problem(422, "this Idempotency-Key was used with a different request", slug="idempotency-mismatch")
        resp = Response(saved["body"], status=saved["status"], mimetype=saved["mimetype"])
        for name, value in saved["headers"]:
            resp.headers[name] = value
        resp.headers["Idempotent-Replayed"] = "true"
        return resp

    def finish(self, subject: str, key: str, fingerprint: str, resp: Response) -> None:
        rkey = self._key(subject, key)
        try:
            if resp.status_code >= 500:
                self.client.delete(rkey)
                return
            kept = [(n, v) for n, v in resp.headers.items() if n in ("Location", "ETag", "Retry-After")]
            body = resp.get_data(as_text=True)
            pipe = self.client.pipeline(transaction=True)
            pipe.set(rkey, json.dumps({
                "fingerprint": fingerprint, "status": resp.status_code, "mimetype": resp.mimetype,
                "headers": kept, "body": body}), ex=self.ttl)
            # Indexed under each customer it names, so erasing the customer removes it (erasure.py).
            named = sorted(customers_named(_json_or_none(body))) if resp.is_json else []
            for customer_id in named:
                pipe.sadd(index_key(customer_id), rkey)
                pipe.expire(index_key(customer_id), self.ttl)
            pipe.execute()
            # Checked after storing: an erasure under way now has marked the customer first.
            erased = [c for c, mark in zip(named, self.client.mget([erased_key(c) for c in named]) if named else [])
                      if mark]
            if erased:
                self.client.delete(rkey, *(index_key(c) for c in erased))
        except redis.RedisError:
            pass  # the answer still goes out; a retry will simply run again


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _json_or_none(body: str) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return None
