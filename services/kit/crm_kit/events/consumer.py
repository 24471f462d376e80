"""The consumer side: one consumer group per consuming service on Redis
Streams, ack only after the effect, retries, a dead-letter stream, takeover
of a dead consumer's entries, lag metrics, graceful stop.

Delivery is at least once; make the effect idempotent by event id with
`crm_kit.events.once` (`RedisOnce` / `MongoOnce`).

How an entry moves:

* XREADGROUP ``>`` delivers it (delivery 1); the handler runs; XACK only
  after the handler returned (one XACK for the entries of a read that were
  handled).
* The handler raised: the entry stays pending. This consumer claims it
  again (XCLAIM, which counts a delivery) after `retry_delay_ms`.
* Delivery counts come from Redis (XPENDING), so they survive restarts: an
  entry whose handler failed on its `max_deliveries`-th delivery, or that
  is delivered more than `max_deliveries` times (its consumers kept dying
  mid-entry), goes to the dead-letter stream with the reason (error type
  and message; the envelope itself carries no personal data) and is acked
  in the same MULTI.
* A consumer that died leaves entries pending; any live consumer of the
  group takes those idle longer than `claim_idle_ms` (XAUTOCLAIM). Choose
  it well above the slowest handler's run time, or a live consumer's entry
  is taken over while in hand (still harmless with idempotent effects).
* `stop()`: the loop finishes the entries in hand (at most `count`), acks
  them and exits; nothing new is read.

A `batch_handler` (instead of, or beside, `handler`) takes every entry of
one read at once (up to `count`), for an effect that is cheaper per batch
(one write per round for many events); the entries are acked together after
it returned. When it raises, each entry is retried on its own, as a batch
of one, so one bad event does not hold the others back.

Groups are created with ``XGROUP CREATE ... MKSTREAM`` at `start_id`,
by default ``0``: a new consuming service processes everything the stream
still holds (its history back to the retention), not only what arrives
after its first start. Pass ``"$"`` for only new events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

import redis
from prometheus_client import Counter, Gauge
from redis.exceptions import RedisError, ResponseError

from crm_kit.events.bus import DEAD_LETTER_STREAM, text
from crm_kit.events.envelope import Envelope, EventError, TYPES, decode

log = logging.getLogger("crm.events.consumer")

PROCESSED = Counter("crm_events_processed_total", "Events a group's handler applied (then acked).",
                    ["group", "type"])
FAILED = Counter("crm_events_failed_total", "Handler runs that raised (the entry is retried).", ["group", "type"])
DEAD_LETTERED = Counter("crm_events_dead_lettered_total", "Entries moved to the dead-letter stream.",
                        ["group", "type"])
CLAIMED = Counter("crm_events_claimed_total", "Entries taken over from a consumer idle too long (XAUTOCLAIM).",
                  ["group"])
LAG = Gauge("crm_events_consumer_lag", "Entries of the stream not yet delivered to the group.", ["group", "stream"])
PENDING = Gauge("crm_events_consumer_pending", "Entries delivered to the group and not yet acknowledged.",
                ["group", "stream"])

Handler = Callable[[Envelope], object]
BatchHandler = Callable[[list[Envelope]], object]

REASON_LIMIT = 300


class EventConsumer:
    def __init__(self, redis_client: redis.Redis, group: str, consumer_name: str, streams: Iterable[str],
                 handler: Handler | None, max_deliveries: int = 5, dead_letter_stream: str = DEAD_LETTER_STREAM,
                 block_ms: int = 1000, claim_idle_ms: int = 60_000, *, start_id: str = "0", count: int = 10,
                 retry_delay_ms: int = 1000, lag_interval: float = 5.0, batch_handler: BatchHandler | None = None):
        if max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1")
        if handler is None:
            if batch_handler is None:
                raise ValueError("a handler or a batch_handler is required")
            handler = lambda envelope: batch_handler([envelope])  # noqa: E731 - retries go one by one
        self.batch_handler = batch_handler
        self.redis = redis_client
        self.group = group
        self.name = consumer_name
        self.streams = list(streams)
        self.handler = handler
        self.max_deliveries = max_deliveries
        self.dead_letter_stream = dead_letter_stream
        # Under the connection's 2 s socket timeout (crm_kit.redis_store), or a quiet stream reads as a failure.
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.start_id = start_id
        self.count = count
        self.retry_delay = retry_delay_ms / 1000
        self.lag_interval = lag_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._groups_ready = False
        self._recovered = False
        self._retry: dict[tuple[str, bytes], tuple[float, int]] = {}  # (stream, id) -> (due, deliveries so far)
        self._next_claim = 0.0
        self._next_lag = 0.0

    # -- set-up --------------------------------------------------------------

    def ensure_groups(self) -> None:
        for stream in self.streams:
            try:
                self.redis.xgroup_create(stream, self.group, id=self.start_id, mkstream=True)
            except ResponseError as e:
                if "BUSYGROUP" not in str(e):
                    raise
        self._groups_ready = True

    # -- one round -------------------------------------------------------------

    def poll_once(self, block_ms: int | None = None) -> int:
        """One round: retries that are due, takeover of idle entries, then new
        entries (blocking up to `block_ms`). Returns the entries handled."""
        if not self._groups_ready:
            self.ensure_groups()
        handled = 0
        if not self._recovered:
            handled += self._recover_own()
            self._recovered = True
        handled += self._retry_due()
        now = time.monotonic()
        if now >= self._next_claim:
            self._next_claim = now + max(0.05, min(self.claim_idle_ms / 2000, 5.0))
            handled += self._autoclaim()
        if now >= self._next_lag:
            self._next_lag = now + self.lag_interval
            self.update_lag()
        if self._stop.is_set():
            return handled
        try:
            response = self.redis.xreadgroup(self.group, self.name, {s: ">" for s in self.streams},
                                             count=self.count, block=self.block_ms if block_ms is None else block_ms)
        except ResponseError as e:
            if "NOGROUP" in str(e):  # the stream key was deleted: recreate
                self._groups_ready = False
                return handled
            raise
        for stream, entries in _streams(response):
            if self.batch_handler is not None:
                self._handle_batch(stream, entries)
                handled += len(entries)
                continue
            self._ack([(entry_id, fields) for entry_id, fields in entries
                       if self._handle(stream, entry_id, fields, 1)], stream)
            handled += len(entries)
        return handled

    def _recover_own(self) -> int:
        """Entries this consumer name left pending in an earlier life."""
        handled = 0
        for stream in self.streams:
            rows = self.redis.xpending_range(stream, self.group, "-", "+", 1000, consumername=self.name)
            ids = [r["message_id"] for r in rows]
            handled += self._claim_and_handle(stream, ids, 0)
        return handled

    def _retry_due(self) -> int:
        now = time.monotonic()
        due = [key for key, (at, _) in self._retry.items() if at <= now]
        handled = 0
        by_stream: dict[str, list[bytes]] = {}
        for stream, entry_id in due:
            del self._retry[(stream, entry_id)]
            by_stream.setdefault(stream, []).append(entry_id)
        for stream, ids in by_stream.items():
            handled += self._claim_and_handle(stream, ids, 0)
        return handled

    def _claim_and_handle(self, stream: str, ids: list, min_idle_ms: int) -> int:
        if not ids:
            return 0
        entries = self.redis.xclaim(stream, self.group, self.name, min_idle_ms, ids)
        return self._handle_claimed(stream, entries)

    def _autoclaim(self) -> int:
        handled = 0
        for stream in self.streams:
            cursor = "0-0"
            for _ in range(100):  # bounded per round
                reply = self.redis.xautoclaim(stream, self.group, self.name, self.claim_idle_ms, cursor,
                                              count=self.count)
                cursor, entries = reply[0], reply[1]
                if entries:
                    CLAIMED.labels(self.group).inc(len(entries))
                    handled += self._handle_claimed(stream, entries)
                if text(cursor) == "0-0" or self._stop.is_set():
                    break
        return handled

    def _handle_claimed(self, stream: str, entries: list) -> int:
        entries = [(i, f) for i, f in entries if f is not None]
        if not entries:
            return 0
        counts = self._deliveries(stream, [i for i, _ in entries])
        self._ack([(entry_id, fields) for entry_id, fields in entries
                   if self._handle(stream, entry_id, fields, counts.get(bytes(_b(entry_id)), self.max_deliveries))],
                  stream)
        return len(entries)

    def _deliveries(self, stream: str, ids: list) -> dict[bytes, int]:
        low = min(ids, key=_key)
        high = max(ids, key=_key)
        rows = self.redis.xpending_range(stream, self.group, low, high, len(ids) + 1000,
                                         consumername=self.name)
        return {_b(r["message_id"]): int(r["times_delivered"]) for r in rows}

    # -- one entry ---------------------------------------------------------------

    def _handle(self, stream: str, entry_id, fields: dict, deliveries: int) -> bool:
        """Runs the handler on one entry: True when it is to be acked (the
        handler returned); otherwise it is dead-lettered or due for a retry."""
        etype = _type_label(fields.get(b"type"))
        try:
            env = decode(fields[b"data"])
        except (EventError, KeyError) as e:
            self._dead_letter(stream, entry_id, fields, deliveries, f"undecodable: {e}")
            return False
        if deliveries > self.max_deliveries:
            self._dead_letter(stream, entry_id, fields, deliveries,
                              f"delivered {deliveries} times without an ack (its consumers stopped mid-entry)")
            return False
        try:
            self.handler(env)
        except Exception as e:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
            FAILED.labels(self.group, etype).inc()
            log.warning("event handler failed", extra={"fields": {
                "group": self.group, "type": etype, "event_id": env.event_id, "deliveries": deliveries,
                "error": type(e).__name__}})
            if deliveries >= self.max_deliveries:
                self._dead_letter(stream, entry_id, fields, deliveries,
                                  f"{type(e).__name__}: {str(e)[:REASON_LIMIT]}")
            else:
                self._retry[(stream, _b(entry_id))] = (time.monotonic() + self.retry_delay, deliveries)
            return False
        return True

    def _ack(self, done: list, stream: str) -> None:
        """One XACK for the handled entries of a read: a round trip per read,
        not per entry (most entries are events a group passes over). An entry
        handled but not yet acked when the process dies is delivered again;
        effects are idempotent by event id."""
        if not done:
            return
        self.redis.xack(stream, self.group, *[entry_id for entry_id, _fields in done])
        for _entry_id, fields in done:
            PROCESSED.labels(self.group, _type_label(fields.get(b"type"))).inc()

    def _handle_batch(self, stream: str, entries: list) -> None:
        """Newly delivered entries (delivery 1) through the batch handler at once."""
        decoded = []
        for entry_id, fields in entries:
            try:
                decoded.append((entry_id, fields, decode(fields[b"data"])))
            except (EventError, KeyError) as e:
                self._dead_letter(stream, entry_id, fields, 1, f"undecodable: {e}")
        if not decoded:
            return
        try:
            self.batch_handler([env for _id, _fields, env in decoded])
        except Exception as e:  # noqa: BLE001 - retried entry by entry, then dead-lettered
            log.warning("event batch handler failed", extra={"fields": {
                "group": self.group, "entries": len(decoded), "error": type(e).__name__}})
            for entry_id, fields, _env in decoded:
                FAILED.labels(self.group, _type_label(fields.get(b"type"))).inc()
                if self.max_deliveries <= 1:
                    self._dead_letter(stream, entry_id, fields, 1, f"{type(e).__name__}: {str(e)[:REASON_LIMIT]}")
                else:
                    self._retry[(stream, _b(entry_id))] = (time.monotonic() + self.retry_delay, 1)
            return
        self.redis.xack(stream, self.group, *[entry_id for entry_id, _fields, _env in decoded])
        for _id, fields, _env in decoded:
            PROCESSED.labels(self.group, _type_label(fields.get(b"type"))).inc()

    def _dead_letter(self, stream: str, entry_id, fields: dict, deliveries: int, reason: str) -> None:
        etype = _type_label(fields.get(b"type"))
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(self.dead_letter_stream, {
            "stream": stream, "entry_id": entry_id, "group": self.group, "id": fields.get(b"id", b""),
            "type": etype, "deliveries": deliveries, "reason": reason, "data": fields.get(b"data", b""),
        })
        pipe.xack(stream, self.group, entry_id)
        pipe.execute()
        DEAD_LETTERED.labels(self.group, etype).inc()
        log.error("event dead-lettered", extra={"fields": {
            "group": self.group, "type": etype, "entry_id": text(entry_id), "deliveries": deliveries,
            "reason": reason.split(":", 1)[0]}})

    # -- metrics ---------------------------------------------------------------

    def update_lag(self) -> None:
        for stream in self.streams:
            try:
                groups = self.redis.xinfo_groups(stream)
            except ResponseError:
                continue
            for g in groups:
                if text(g["name"]) == self.group:
                    if g.get("lag") is not None:
                        LAG.labels(self.group, stream).set(g["lag"])
                    PENDING.labels(self.group, stream).set(g.get("pending") or 0)

    # -- the loop ----------------------------------------------------------------

    def run(self) -> None:
        """Poll until `stop()`; a failed round is logged and tried again."""
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as e:  # noqa: BLE001 - a store outage or a bug: log, wait, go on
                log.warning("event consumer round failed", exc_info=not isinstance(e, RedisError),
                            extra={"fields": {"group": self.group, "error": type(e).__name__}})
                self._stop.wait(1.0)

    def start(self) -> threading.Thread:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=f"events-{self.group}-{self.name}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = None) -> None:
        """Finish the entries in hand, ack them, exit (waits up to `timeout`
        for the thread `start()` made; a blocked read ends within `block_ms`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def _type_label(value) -> str:
    """An entry's type as a metric label and log field: a known event type or
    "unknown". A stream entry is input like any other: bytes that are not
    UTF-8, or a made-up type, must neither wedge the consumer nor mint
    label values without bound."""
    name = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")
    return name if name in TYPES else "unknown"


def _b(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _key(entry_id) -> tuple[int, int]:
    ms, _, seq = text(entry_id).partition("-")
    return int(ms), int(seq or 0)


def _streams(response) -> list[tuple[str, list]]:
    if not response:
        return []
    if isinstance(response, dict):  # RESP3
        return [(text(k), v[0] if v and isinstance(v[0], list) else v) for k, v in response.items()]
    return [(text(stream), entries) for stream, entries in response]
