"""The producer side: an event is stored in the same insert as the change,
then relayed to the producer's stream (DESIGN.md section 5, "Outbox").

The contract a writer follows (the revision claim is the natural place for
the events: inserting it *is* the state change):

1. ``docs = outbox.stage(claim_collection, claim_id, events)`` inserts one
   *intent* into the producer's ``outbox`` collection,
   ``{_id: "<claim_collection>:<claim_id>", collection, claim, event_ids, at}``,
   and returns the event documents ``[{"id", "type", "data": Binary}]``.
2. The writer inserts the claim (any document ``_id == claim_id`` in
   ``claim_collection``) with ``"events": docs`` in that same insert, then
   writes its state.
3. ``outbox.relay_soon(claim_collection, claim_id, docs)`` hands the events to
   the relay thread, which publishes them (XADD, pipelined) and deletes the
   intent by ``_id`` (deleting the intent is "marked relayed").

If the writer dies anywhere after step 2, the intent is still there and
``sweep()`` (at start-up and every few seconds) publishes the claim's events.
If it dies before step 2, there is no claim and the intent is dropped once
older than ``abandon_after`` (5 minutes; a writer paused that long is past
every deadline). Publishing twice is harmless: consumers dedupe by event id.

Only pending intents live in ``outbox``, so the sweep's scan is small; every
other read and delete goes by a lone ``_id`` (the only filter FerretDB does
not scan for).
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

import redis
from bson import Binary
from prometheus_client import Counter, Gauge
from pymongo import DeleteOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError
from redis.exceptions import RedisError

from crm_kit.events.bus import EventsSettings, stream_for
from crm_kit.events.envelope import Envelope, encode
from crm_kit.events.trim import trim_stream

log = logging.getLogger("crm.events.outbox")

EVENTS_PUBLISHED = Counter(
    "crm_events_published_total", "Events appended to the producer's stream (re-publishes included), by type.",
    ["producer", "type"])
OUTBOX_RECOVERED = Counter(
    "crm_events_outbox_swept_total",
    "Intents the sweep settled, by outcome: published (the relay had not), lost_race (another writer "
    "took the claim; its events published again), abandoned (no claim, writer gone).",
    ["producer", "outcome"])
OUTBOX_PENDING = Gauge(
    "crm_events_outbox_pending", "Intents waiting in the outbox at the last sweep.", ["producer"])
RELAY_ERRORS = Counter(
    "crm_events_relay_errors_total",
    "Relay rounds that failed or events the fast path could not take (the sweep publishes them), by reason.",
    ["producer", "reason"])

COLLECTION = "outbox"


def _event_docs(events: list[Envelope]) -> list[dict]:
    """The events as a claim stores them (and the relay publishes them)."""
    return [{"id": e.event_id, "type": e.type, "data": Binary(encode(e))} for e in events]


def intent_id(claim_collection: str, claim_id: str) -> str:
    return f"{claim_collection}:{claim_id}"


class Outbox:
    """One per producing service process.

    `db` is the producer's own database (the intents live in its `outbox`
    collection, next to the claims); `redis` is the event Redis.
    """

    def __init__(self, db: Database | None, redis_client: redis.Redis | None, producer: str, *,
                 enabled: bool = True, queue_size: int = 10_000, batch: int = 200,
                 sweep_interval: float = 5.0, sweep_min_age: timedelta = timedelta(seconds=2),
                 abandon_after: timedelta = timedelta(minutes=5),
                 retention_seconds: int | None = None, trim_interval: float = 300.0):
        self.enabled = enabled and db is not None and redis_client is not None
        self.producer = producer
        self.stream = stream_for(producer)
        self.redis = redis_client
        self.intents = db[COLLECTION] if db is not None else None
        self.db = db
        self.batch = batch
        self.sweep_interval = sweep_interval
        self.sweep_min_age = sweep_min_age
        self.abandon_after = abandon_after
        self.retention_seconds = retention_seconds
        self.trim_interval = trim_interval
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._published = {}
        self._completions: dict = {}

    @classmethod
    def from_settings(cls, db: Database, settings: "EventsSettings", producer: str, **options) -> "Outbox":
        """The usual way to build one: the event Redis from `settings`, its
        stream trimmed to `settings.retention_seconds`, off when
        `EVENTS_ENABLED=false`."""
        if not settings.enabled:
            return cls.disabled(producer)
        options.setdefault("retention_seconds", settings.retention_seconds)
        return cls(db, settings.open(), producer, **options)

    def on_sweep(self, claim_collection: str, complete) -> None:
        """Before the sweep publishes a claim of `claim_collection`, it calls
        `complete(claim_doc)`: True when the change the claim records is
        stored (or was completed just now, its writer having died), False to
        leave it for a later sweep. So no event goes out for a change that
        is not in the store (crm_kit.persistence.revisions registers one)."""
        self._completions[claim_collection] = complete

    @classmethod
    def disabled(cls, producer: str = "disabled") -> "Outbox":
        """Events off: `stage` returns [] and writes nothing, `relay_soon` and
        `sweep` do nothing."""
        return cls(None, None, producer, enabled=False)

    # -- the writer's side ---------------------------------------------------

    def stage(self, claim_collection: str, claim_id: str, events: list[Envelope]) -> list[dict]:
        """Insert the intent for this claim; return the event docs the writer
        embeds under "events" in the claim it inserts next.

        Two writers racing for the same claim share one intent (same `_id`):
        the second one refreshes its `at` and goes on, so whichever wins the
        claim has a live intent pointing at it (the sweep publishes whatever
        events the claim holds)."""
        if not self.enabled or not events:
            return []
        docs = _event_docs(events)
        _id = intent_id(claim_collection, claim_id)
        for _ in range(3):
            now = datetime.now(timezone.utc)
            try:
                self.intents.insert_one({"_id": _id, "collection": claim_collection, "claim": claim_id,
                                         "event_ids": [d["id"] for d in docs], "at": now})
                return docs
            except DuplicateKeyError:
                if self.intents.update_one({"_id": _id}, {"$set": {"at": now}}).matched_count:
                    return docs
                # Deleted between our insert and update (relayed or dropped): insert again.
        return docs

    def stage_batch(self, claim_collection: str, claims: list[tuple[str, list[Envelope]]]) -> tuple[str, list[list[dict]]]:
        """`stage` for a bulk write of many new claims (an import chunk): ONE
        intent naming them all (`claims`), so the outbox costs one insert and
        one delete per chunk, not per row. Returns the intent's id (for
        `relay_batch_soon`) and the event docs per claim, in order."""
        docs = [_event_docs(events) for _claim_id, events in claims]
        if not self.enabled or not any(docs):
            return "", [[] for _ in claims]
        claim_ids = [claim_id for (claim_id, _events), event_docs in zip(claims, docs) if event_docs]
        _id = f"{claim_collection}:batch:{secrets.token_hex(12)}"
        self.intents.insert_one({"_id": _id, "collection": claim_collection, "claims": claim_ids,
                                 "event_ids": [d["id"] for event_docs in docs for d in event_docs],
                                 "at": datetime.now(timezone.utc)})
        return _id, docs

    def relay_batch_soon(self, intent: str, event_docs: list[list[dict]]) -> None:
        """The fast path for `stage_batch`: publish every claim's events, then delete the one intent."""
        if not self.enabled or not intent:
            return
        try:
            self._queue.put_nowait((intent, [d for docs in event_docs for d in docs]))
        except queue.Full:
            RELAY_ERRORS.labels(self.producer, "queue_full").inc()

    def relay_soon(self, claim_collection: str, claim_id: str, event_docs: list[dict]) -> None:
        """Fast path after the claim is in: the relay thread publishes the
        events and deletes the intent. Never blocks; with the queue full (or
        the relay not running) the sweep publishes them instead."""
        if not self.enabled or not event_docs:
            return
        try:
            self._queue.put_nowait((intent_id(claim_collection, claim_id), event_docs))
        except queue.Full:
            RELAY_ERRORS.labels(self.producer, "queue_full").inc()

    # -- publishing ------------------------------------------------------------

    def _publish(self, items: list[tuple[str, list[dict]]]) -> None:
        """XADD every event (one pipeline), then delete the intents by `_id`
        (one bulk write). An intent is deleted only after its events are in."""
        if not items:
            return
        pipe = self.redis.pipeline(transaction=False)
        for _, docs in items:
            for d in docs:
                pipe.xadd(self.stream, {"id": d["id"], "type": d["type"], "data": bytes(d["data"])})
        pipe.execute()
        for _, docs in items:
            for d in docs:
                counter = self._published.get(d["type"])
                if counter is None:
                    counter = self._published[d["type"]] = EVENTS_PUBLISHED.labels(self.producer, d["type"])
                counter.inc()
        self.intents.bulk_write([DeleteOne({"_id": _id}) for _id, _ in items], ordered=False)

    def relay_pending(self) -> int:
        """Publish what the fast path holds now (the relay thread's round;
        tests call it directly). Returns how many intents it settled."""
        done = 0
        while True:
            items = []
            try:
                while len(items) < self.batch:
                    items.append(self._queue.get_nowait())
            except queue.Empty:
                pass
            if not items:
                return done
            self._publish(items)
            done += len(items)

    def sweep(self) -> dict[str, int]:
        """Settle the intents the fast path did not: publish the events of
        claims that exist, drop intents whose writer died before claiming."""
        counts = {"published": 0, "lost_race": 0, "abandoned": 0, "left": 0}
        if not self.enabled:
            return counts
        now = datetime.now(timezone.utc)
        to_publish: list[tuple[str, list[dict]]] = []
        to_drop: list[DeleteOne] = []
        pending = 0
        for intent in self.intents.find({}):
            pending += 1
            at = intent.get("at")
            if at is not None and at.tzinfo is None:
                at = at.replace(tzinfo=timezone.utc)
            age = now - at if at is not None else self.abandon_after
            if age < self.sweep_min_age:
                counts["left"] += 1  # the fast path is on it
                continue
            if "claims" in intent:  # a batch (stage_batch): publish once every claim is in
                docs, settled = self._batch_events(intent, age)
                if not settled:
                    counts["left"] += 1
                    continue
                to_publish.append((intent["_id"], docs))
                counts["published" if len(docs) == len(intent.get("event_ids", [])) else "abandoned"] += 1
                continue
            complete = self._completions.get(intent["collection"])
            claim = self.db[intent["collection"]].find_one(
                {"_id": intent["claim"]}, None if complete is not None else {"events": 1})
            if claim is not None and complete is not None and not complete(claim):
                counts["left"] += 1  # its writer may still be writing the change: not yet
                continue
            if claim is not None:
                docs = list(claim.get("events") or [])
                # Another writer took this claim: its events may still be
                # unpublished (it shares this intent), so publish them too.
                outcome = "published" if [d["id"] for d in docs] == list(intent.get("event_ids", [])) else "lost_race"
                to_publish.append((intent["_id"], docs))
                counts[outcome] += 1
            elif age >= self.abandon_after:
                # A lone `_id` plus the `at` we saw: a writer that refreshed it
                # (it is racing for this claim now) keeps its intent.
                to_drop.append(DeleteOne({"_id": intent["_id"], "at": intent.get("at")}))
                counts["abandoned"] += 1
            else:
                counts["left"] += 1
            if len(to_publish) >= self.batch:
                self._publish(to_publish)
                to_publish = []
        self._publish(to_publish)
        if to_drop:
            self.intents.bulk_write(to_drop, ordered=False)
        for outcome in ("published", "lost_race", "abandoned"):
            if counts[outcome]:
                OUTBOX_RECOVERED.labels(self.producer, outcome).inc(counts[outcome])
        OUTBOX_PENDING.labels(self.producer).set(counts["left"])
        if counts["published"] or counts["lost_race"] or counts["abandoned"]:
            log.info("outbox sweep", extra={"fields": {"producer": self.producer, **counts, "seen": pending}})
        return counts

    def _batch_events(self, intent: dict, age: timedelta) -> tuple[list[dict], bool]:
        """The events of a batch intent's claims that are stored, and whether
        the batch is settled: all claims in, or the writer long gone (claims
        still missing then were never written, and have nothing to publish)."""
        complete = self._completions.get(intent["collection"])
        docs, missing = [], 0
        for claim_id in intent["claims"]:
            claim = self.db[intent["collection"]].find_one(
                {"_id": claim_id}, None if complete is not None else {"events": 1})
            if claim is None or (complete is not None and not complete(claim)):
                missing += 1
                continue
            docs += list(claim.get("events") or [])
        return docs, missing == 0 or age >= self.abandon_after

    # -- the relay thread ------------------------------------------------------

    def start(self) -> None:
        """Sweep once (what a previous process left), then relay in a thread."""
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"outbox-relay-{self.producer}", daemon=True)
        self._thread.start()

    def stop(self, grace: float = 5.0) -> None:
        """Stop the relay after draining the fast-path queue (within `grace`
        seconds; what is left, the next process's sweep publishes)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(grace)

    def _loop(self) -> None:
        next_sweep = 0.0
        next_trim = time.monotonic() + self.trim_interval
        while True:
            now = time.monotonic()
            try:
                if now >= next_sweep:
                    next_sweep = now + self.sweep_interval
                    self.sweep()
                if self.retention_seconds and now >= next_trim:
                    next_trim = now + self.trim_interval
                    trim_stream(self.redis, self.stream, self.retention_seconds)
            except (PyMongoError, RedisError) as e:
                RELAY_ERRORS.labels(self.producer, "sweep").inc()
                log.warning("outbox sweep failed", extra={"fields": {"producer": self.producer,
                                                                     "error": type(e).__name__}})
            try:
                first = self._queue.get(timeout=max(0.0, min(0.5, next_sweep - time.monotonic())))
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            items = [first]
            try:
                while len(items) < self.batch:
                    items.append(self._queue.get_nowait())
            except queue.Empty:
                pass
            try:
                self._publish(items)
            except (PyMongoError, RedisError) as e:
                # The intents stay; the sweep publishes them when the stores answer.
                RELAY_ERRORS.labels(self.producer, "publish").inc()
                log.warning("outbox relay failed", extra={"fields": {"producer": self.producer,
                                                                     "error": type(e).__name__}})
                self._stop.wait(0.5)
