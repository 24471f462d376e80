"""Revisioned documents: every write claims revision n + 1 by insert first.

A conditional update ({_id, revision}) is a full scan on FerretDB's SQLite
back end (only a lone `_id` filter reaches SQL: 9 s at 100,000 customers),
and FerretDB 1.24 applies update operators without isolation, so two
writers of one document lose each other's changes. So a writer

1. inserts the claim `"<doc id>#<revision>"` holding the new state, who
   made it, when, any audit detail and the domain events it causes (the
   outbox: the event is stored in the same insert as the change; a new
   document's events ride in its own insert, revision 1 needs no claim);
   exactly one writer wins each revision;
2. the winner writes the document by `_id` alone;
3. hands the events to the outbox relay.

The claims are the document's change history. A claim whose write never
landed (its writer died between 1 and 2) would block the document: the next
writer applies it once it is older than `abandoned_after`, and the outbox
sweep publishes its events, so a crash at any point loses nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from crm_kit.errors import Aborted

T = TypeVar("T")

ABANDONED_AFTER = timedelta(seconds=30)
# Rounds of read-change-write when other writers keep claiming the next revision first.
MAX_WRITE_ATTEMPTS = 8


def claim_id(doc_id: str, revision: int) -> str:
    return f"{doc_id}#{revision}"


@dataclass(frozen=True)
class Claim:
    doc_id: str
    revision: int
    state: dict | None  # None once stripped (an erasure removes personal data from history), or never kept
    changed_by: str
    claimed_at: datetime
    detail: dict  # what the writer recorded beside the state (an audit record, say)


class Revisions:
    """One collection of documents and the collection of their revision claims.
    Each document keeps its revision number in its `revision` field.

    `state_field` names the claim field holding the state (kept per service
    so stored history stays readable); `outbox` (crm_kit.events.outbox.Outbox
    or None) stages and relays the events a claim carries."""

    def __init__(self, documents: Collection, claims: Collection, *, state_field: str = "state",
                 outbox=None, abandoned_after: timedelta = ABANDONED_AFTER):
        self.documents = documents
        self.claims = claims
        self.state_field = state_field
        self.outbox = outbox
        self.abandoned_after = abandoned_after
        if outbox is not None and outbox.enabled:
            outbox.on_sweep(claims.name, self.complete_claim)

    # --- writing --------------------------------------------------------------

    def claim(self, doc_id: str, revision: int, state: dict | None, changed_by: str, detail: dict | None = None,
              events: list = ()) -> list[dict] | None:
        """Claim `revision` for `state` (None: a claim that only reserves the
        revision, see `commit`). None when another writer holds it; else the
        staged events, to hand to `published` after the write."""
        cid = claim_id(doc_id, revision)
        staged = self.outbox.stage(self.claims.name, cid, list(events)) if events and self.outbox else []
        doc = {"_id": cid, "changed_by": changed_by, "claimed_at": datetime.now(timezone.utc), **(detail or {})}
        if state is not None:
            doc[self.state_field] = state
        if staged:
            doc["events"] = staged
        try:
            self.claims.insert_one(doc)
        except DuplicateKeyError:
            return None  # the intent staged for it is dropped by the outbox sweep
        return staged

    def write(self, doc_id: str, doc: dict) -> None:
        """Store a state whose revision this writer has claimed (its only writer)."""
        body = {k: v for k, v in doc.items() if k != "_id"}
        self.documents.update_one({"_id": doc_id}, {"$set": body})

    def published(self, doc_id: str, revision: int, staged: list[dict]) -> None:
        """After the write: relay the claim's events (fast path; the sweep is the safety net)."""
        if staged and self.outbox:
            self.outbox.relay_soon(self.claims.name, claim_id(doc_id, revision), staged)

    def commit(self, doc_id: str, revision: int, doc: dict, changed_by: str, detail: dict | None = None,
               events: list = (), *, state_in_claim: bool = True) -> bool:
        """Claim, write, relay. False (nothing written) when another writer
        won `revision`; an abandoned claim in the way is finished first.

        Without `state_in_claim` the claim only reserves the revision (no
        copy of the state, so half the bytes written): for a writer whose
        change is redone when it dies half-way, as an event consumer's that
        acks only after the write. Its abandoned claim moves the document to
        its revision unchanged. So such a writer that stalled on its claim for
        half of `abandoned_after` writes nothing (False): another writer may
        be about to move the document on without its change, which then comes
        again. (A stall inside the write itself stays a window, as for every
        revision writer: FerretDB has no conditional update by `_id` alone.)"""
        if events and not state_in_claim:
            raise ValueError("a claim carrying events keeps its state: the outbox sweep completes the change from it")
        began = time.monotonic()
        staged = self.claim(doc_id, revision, doc if state_in_claim else None, changed_by, detail, events)
        if staged is None:
            self.finish_abandoned(doc_id, revision)
            return False
        if not state_in_claim and time.monotonic() - began > self.abandoned_after.total_seconds() / 2:
            return False
        self.write(doc_id, doc)
        self.published(doc_id, revision, staged)
        return True

    def create(self, doc: dict, changed_by: str, events: list = ()) -> bool:
        """Insert a new document at revision 1. Its insert is the change, so
        the events it causes ride in it (`events`), and the outbox intent
        points at the document itself. False when the id is taken."""
        staged = self.outbox.stage(self.documents.name, doc["_id"], list(events)) \
            if events and self.outbox is not None else []
        try:
            self.documents.insert_one({**doc, "events": staged} if staged else doc)
        except DuplicateKeyError:
            return False  # the intent staged for it is dropped by the outbox sweep
        if staged:
            self.outbox.relay_soon(self.documents.name, doc["_id"], staged)
        return True

    def save(self, doc: dict, changed_by: str, events: list = (), *, forget_superseded: bool = False) -> bool:
        """Store `doc` at its `revision`: revision 1 by `create`, later ones
        by `commit`. False when another writer won that revision. With
        `forget_superseded`, the claim of the revision before drops its state
        once this one is written (for documents rewritten often, a summary or
        a statement, whose history of states nobody reads: each claim would
        keep a full copy)."""
        doc_id, revision = doc["_id"], doc["revision"]
        if revision == 1:
            return self.create(doc, changed_by, events)
        if not self.commit(doc_id, revision, doc, changed_by, events=events):
            return False
        if forget_superseded and revision > 2:  # revision 1 was an insert: it has no claim
            self.claims.update_one({"_id": claim_id(doc_id, revision - 1)}, {"$unset": {self.state_field: ""}})
        return True

    def create_many(self, docs: list[dict], events: list[list] | None = None) -> None:
        """Insert new documents (fresh random ids, so none is taken) in one
        bulk insert, each carrying its events, behind one outbox intent for
        the whole batch."""
        if not docs:
            return
        events = events or [[] for _ in docs]
        intent, staged = self.outbox.stage_batch(self.documents.name, [(d["_id"], e) for d, e in zip(docs, events)]) \
            if self.outbox is not None else ("", [[] for _ in docs])
        self.documents.insert_many([{**d, "events": s} if s else d for d, s in zip(docs, staged)], ordered=False)
        if intent:
            self.outbox.relay_batch_soon(intent, staged)

    def finish_abandoned(self, doc_id: str, revision: int) -> None:
        """Apply claim `revision` if its writer died before writing it: the
        document still stands at revision - 1 and the claim is old."""
        claim = self.get(doc_id, revision)
        if claim is None:
            return
        if datetime.now(timezone.utc) - claim.claimed_at <= self.abandoned_after:
            return
        current = self.documents.find_one({"_id": doc_id}, {"revision": 1})
        if current is not None and current.get("revision", 1) == revision - 1:
            # A claim without a state (one that only reserved the revision, or one an erasure
            # stripped) moves the document on unchanged: its writer's change is lost or redone.
            self.write(doc_id, {**(claim.state or {}), "revision": revision})

    def complete_claim(self, claim_doc: dict) -> bool:
        """For the outbox sweep: whether the change a claim records is stored,
        completing it first when its writer died (the claim older than
        `abandoned_after`, the document missing or one revision behind)."""
        doc_id, _, number = claim_doc["_id"].rpartition("#")
        revision = int(number)
        current = self.documents.find_one({"_id": doc_id}, {"revision": 1})
        stored = 0 if current is None else current.get("revision", 1)
        if stored >= revision:
            return True
        claimed_at = claim_doc.get("claimed_at") or datetime.now(timezone.utc)
        if claimed_at.tzinfo is None:
            claimed_at = claimed_at.replace(tzinfo=timezone.utc)
        if datetime.now(timezone.utc) - claimed_at <= self.abandoned_after:
            return False
        state = claim_doc.get(self.state_field)
        if state is None:
            return True  # stripped by an erasure: nothing left to complete
        if current is None and revision == 1:
            try:
                self.documents.insert_one(state)
            except DuplicateKeyError:
                pass
        elif stored == revision - 1:
            self.write(doc_id, {**state, "revision": revision})
        return True

    # --- reading ----------------------------------------------------------------

    def get(self, doc_id: str, revision: int, projection: list[str] | None = None) -> Claim | None:
        doc = self.claims.find_one({"_id": claim_id(doc_id, revision)}, projection)
        if doc is None:
            return None
        detail = {k: v for k, v in doc.items()
                  if k not in ("_id", self.state_field, "changed_by", "claimed_at", "events")}
        claimed_at = doc.get("claimed_at") or datetime.now(timezone.utc)
        return Claim(doc_id, revision, doc.get(self.state_field), doc.get("changed_by", ""), claimed_at, detail)

    def history(self, doc_id: str, up_to: int, fields: list[str] | None = None) -> list[Claim]:
        """Claims 1..up_to, oldest first: one `_id` read each (an `_id` range
        or `$in` is a scan on FerretDB). `fields` limits what is read."""
        projection = None if fields is None else [*fields, "changed_by", "claimed_at"]
        return [c for r in range(1, up_to + 1) if (c := self.get(doc_id, r, projection)) is not None]

    def strip(self, doc_id: str, up_to: int, also=None) -> None:
        """Remove the stored states of claims 1..up_to (they hold personal
        data) and whatever fields `also(claim)` names for each claim. The
        claims stay, with who and when: a free revision number would let a
        writer with a stale read claim it and write the old state back."""
        for revision in range(1, up_to + 1):
            extra = []
            if also is not None and (claim := self.get(doc_id, revision, [self.state_field, "change"])) is not None:
                extra = also(claim)
            self.claims.update_one({"_id": claim_id(doc_id, revision)},
                                   {"$unset": {self.state_field: "", **{name: "" for name in extra}}})


class Contended(Exception):
    """Another writer claimed the revision first (internal to `write_with_retries`)."""


def write_with_retries(resource_type: str, resource_id: str, load: Callable[[], T],
                       change: Callable[[T], T], attempts: int = MAX_WRITE_ATTEMPTS) -> T:
    """Read, change, write until one round wins. `change(current)` returns
    the stored result, `current` itself when nothing is to change, or raises
    `Contended` when another writer won; it re-checks its preconditions (an
    ETag among them) on every fresh read. Contention that outlasts the
    attempts is `Aborted` (gRPC ABORTED, HTTP 409), never an internal error."""
    for attempt in range(attempts):
        current = load()
        try:
            return change(current)
        except Contended:
            time.sleep(min(0.005 * 2 ** attempt, 0.2))  # let the winner finish its write
    raise Aborted(resource_type, resource_id)
