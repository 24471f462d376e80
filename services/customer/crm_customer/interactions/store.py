"""Persistence of the interaction log in MongoDB (or FerretDB): the only
module that knows its collection and field names.

Every read and write goes by `_id` alone (FerretDB's SQLite back end pushes
only a lone `_id` equality down to SQL, and with the platform's patch an
`_id` `$in`; anything else is a scan), and
nothing that several writers touch is changed with update operators, which
FerretDB applies without isolation (see crm_kit.persistence.chain):

- `interaction_entries`, `_id: "<customer id>#<sequence, 10 digits>"`: one
  entry each, a chain (crm_kit.persistence.chain). Inserting entry n + 1 after entry n
  allocates the number (no gaps, no duplicates); each entry also carries the
  log state as of itself (which entries hold the last quote, commitment and
  follow-up date, and the last-contact time), so the newest entry answers
  the summary.
- `interaction_heads`, `_id: "<customer id>"`: where the chain ends (a hint).
- `interaction_buckets`, `_id: "<customer id>#b<bucket, 8 digits>"`: the 50
  entries of a full bucket in one document, inserted once by whoever writes
  its 50th entry (entries never change, so neither does a full bucket);
  older pages read one document per 50 entries, the newest bucket is read
  entry by entry.
- `interaction_requests`, `_id: "<customer id>#<request key>"`: a caller's
  retry key, claimed by insert before the entry is written, then pointing
  at the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime

from pymongo import DeleteOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crm_kit.persistence.chain import Chain, link_id
from crm_kit.persistence.once import RequestClaim, RequestKeys

from crm_customer.activity import marks_activity
from crm_customer.interactions.model import BUCKET_SIZE, Interaction, LogState, Money, QuoteLine, Slot, bucket_of, \
    bucket_range, seals_bucket

ENTRIES_PER_READ = 10
LOG_PREFIX = ""  # a log's chain key is the bare customer id

INDEXES = {
    "interaction_entries": [],  # by _id only
    "interaction_heads": [],  # by _id only
    "interaction_buckets": [],  # by _id only
    "interaction_requests": [],  # by _id only
}


class InteractionStore:
    def __init__(self, db: Database, outbox=None):
        # A log's key is its customer's id; its first entry marks the customer (crm_customer.activity).
        self.chain = Chain(db["interaction_entries"], db["interaction_heads"], on_new=marks_activity(db, LOG_PREFIX))
        self.buckets = db["interaction_buckets"]
        self.requests = RequestKeys(db["interaction_requests"], result_field="seq", pending=0)
        self.outbox = outbox

    # --- writing ------------------------------------------------------------

    def append(self, customer_id: str, make: Callable[[int], Interaction],
               advance: Callable[[LogState, Interaction], LogState], request_key: str = "",
               events: Callable[[Interaction], list] = lambda entry: []) -> Interaction:
        """Write entry n + 1 = make(n + 1) after the newest entry n, with the
        log state advanced by it and the events it causes (the outbox: the
        entry's insert is the change, so the events ride in it)."""
        made: list[tuple[Interaction, list[dict]]] = []

        def link(n: int, previous: dict | None) -> dict:
            entry = make(n)
            staged = self.outbox.stage(self.chain.links.name, link_id(customer_id, n), events(entry)) \
                if self.outbox is not None else []
            made.append((entry, staged))
            state = advance(_state(previous), entry)
            doc = {**_to_entry(entry), "state": _state_doc(state), "request_key": request_key}
            return {**doc, "events": staged} if staged else doc

        n, _doc = self.chain.append(customer_id, link)
        entry, staged = made[-1]
        if staged:
            self.outbox.relay_soon(self.chain.links.name, link_id(customer_id, n), staged)
        if seals_bucket(n):
            self._seal(customer_id, bucket_of(n))
        return entry

    def _seal(self, customer_id: str, bucket: int) -> None:
        docs = [self.chain.link(customer_id, n) for n in bucket_range(bucket)]
        if all(docs):
            try:
                self.buckets.insert_one({"_id": _bucket_id(customer_id, bucket), "entries": docs})
            except DuplicateKeyError:
                pass  # sealed already; a full bucket's content never changes

    # --- reading ------------------------------------------------------------

    def newest(self, customer_id: str) -> tuple[Interaction | None, LogState]:
        """The newest entry and the log state as of it."""
        _n, doc = self.chain.top(customer_id)
        return (_from_entry(customer_id, doc), _state(doc)) if doc else (None, LogState())

    def entry(self, customer_id: str, sequence: int) -> Interaction | None:
        doc = self.chain.link(customer_id, sequence)
        return _from_entry(customer_id, doc) if doc else None

    def newest_first(self, customer_id: str, below: int) -> Iterator[Interaction]:
        """Entries with a sequence under `below`, newest first (lazily)."""
        return (_from_entry(customer_id, doc) for doc in self._docs_newest_first(customer_id, below))

    def oldest_first(self, customer_id: str) -> list[Interaction]:
        """The whole log, in recording order."""
        n, _doc = self.chain.top(customer_id)
        return list(self.newest_first(customer_id, n + 1))[::-1]

    def _docs_newest_first(self, customer_id: str, below: int) -> Iterator[dict]:
        """Stored entries under `below`, newest first: a sealed bucket in one
        read, the others (and any whose bucket is gone) entry by entry."""
        n = below - 1
        while n > 0:
            bucket = bucket_of(n)
            sealed = self.buckets.find_one({"_id": _bucket_id(customer_id, bucket)}) \
                if seals_bucket(n) else None
            if sealed is not None:
                yield from reversed(sealed["entries"])
                n = bucket * BUCKET_SIZE
                continue
            # Entries of an unsealed bucket, ENTRIES_PER_READ a read (the card wants the newest 5).
            numbers = range(n, max(n - ENTRIES_PER_READ, bucket * BUCKET_SIZE), -1)
            docs = self.chain.links_of(customer_id, numbers)
            yield from (docs[number] for number in numbers if number in docs)
            n = numbers[-1] - 1

    def written_for(self, customer_id: str, request_key: str, since: datetime) -> Interaction | None:
        """The entry written for `request_key` among those recorded since `since`."""
        n, doc = self.chain.top(customer_id)
        while doc is not None and doc["recorded_at"] >= since:
            if doc.get("request_key") == request_key:
                return _from_entry(customer_id, doc)
            n -= 1
            doc = self.chain.link(customer_id, n)
        return None

    # --- request keys -------------------------------------------------------

    def claim_request(self, customer_id: str, key: str, fingerprint: str, now: datetime) -> RequestClaim | None:
        """None when this call claimed the key; else the earlier claim (its
        `result` is the entry's sequence, None while it is being written)."""
        return self.requests.claim(customer_id, key, fingerprint, now)

    def request(self, customer_id: str, key: str) -> RequestClaim | None:
        return self.requests.get(customer_id, key)

    def finish_request(self, customer_id: str, key: str, sequence: int) -> None:
        self.requests.finish(customer_id, key, sequence)

    def drop_request(self, customer_id: str, key: str) -> None:
        self.requests.drop(customer_id, key)

    # --- erasure ------------------------------------------------------------

    def erase(self, customer_id: str, at_least: int = 0) -> None:
        """Delete the customer's log, each document by `_id` (bulk, unordered),
        in an order that keeps what is left findable: the request keys first
        (their ids are read from the entries), then the buckets (entries
        stay readable one by one), the entries, and the head last (it says
        how far the entries go). So a second call after a crash part-way
        finishes the job. A request claim whose entry was never written (its
        attempt crashed) cannot be found by `_id`; it holds a hash of the
        content, not the text, and is left. `at_least` is a sequence the
        caller knows it wrote (a writer undoing its own entry): it is erased
        even when the head is gone already."""
        n, _doc = self.chain.top(customer_id)
        n = max(n, at_least)
        if n == 0:
            self.chain.delete(customer_id, 0)
            return
        keys = {doc["request_key"] for doc in self._docs_newest_first(customer_id, n + 1) if doc.get("request_key")}
        self.requests.drop_many(customer_id, keys)
        self.buckets.bulk_write([DeleteOne({"_id": _bucket_id(customer_id, b)}) for b in range(bucket_of(n) + 1)],
                                ordered=False)
        self.chain.delete(customer_id, n)


def _bucket_id(customer_id: str, bucket: int) -> str:
    return f"{customer_id}#b{bucket:08d}"


def _to_entry(i: Interaction) -> dict:
    return {
        "seq": i.sequence, "channel": i.channel, "direction": i.direction, "rep_id": i.rep_id,
        "at": i.occurred_at, "recorded_at": i.recorded_at, "recorded_by": i.recorded_by, "summary": i.summary,
        "quote": [{"item": q.item, "qty": q.quantity, "minor": q.unit_price.minor_units,
                   "cur": q.unit_price.currency_code} for q in i.quote_lines],
        "commitments": list(i.commitments),
        # BSON has no date-only type; an ISO string keeps a calendar date a date.
        "follow_up": i.next_follow_up.isoformat() if i.next_follow_up else None,
    }


def _from_entry(customer_id: str, d: dict) -> Interaction:
    return Interaction(
        customer_id=customer_id, sequence=d["seq"], channel=d["channel"], direction=d["direction"],
        rep_id=d["rep_id"], occurred_at=d["at"], recorded_at=d["recorded_at"], recorded_by=d["recorded_by"],
        summary=d["summary"],
        quote_lines=tuple(QuoteLine(q["item"], q["qty"], Money(q["minor"], q["cur"])) for q in d.get("quote", ())),
        commitments=tuple(d.get("commitments", ())),
        next_follow_up=date.fromisoformat(d["follow_up"]) if d.get("follow_up") else None,
    )


_SLOTS = ("last_quote", "last_commitment", "last_follow_up")


def _state_doc(s: LogState) -> dict:
    out: dict = {slot: {"seq": v.sequence, "at": v.occurred_at} for slot in _SLOTS if (v := getattr(s, slot))}
    out["last_contact_at"] = s.last_contact_at
    return out


def _state(doc: dict | None) -> LogState:
    d = (doc or {}).get("state") or {}
    return LogState(**{slot: Slot(d[slot]["seq"], d[slot]["at"]) for slot in _SLOTS if d.get(slot)},
                    last_contact_at=d.get("last_contact_at"))
