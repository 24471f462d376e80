"""Persistence of customers in MongoDB (or FerretDB): the only module here
that knows collection and field names.

Uniqueness uses key documents whose `_id` is the natural key
(`customer_keys`, `_id: "phone:+8613800138000"`): inserting one is the
duplicate check, reading one is the lookup, and both go by `_id`, which
every back end serves without a scan (DESIGN section 6). Queries are built
here from validated values only, never from request documents, so no
`$`-operator from a caller can reach the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from crm_kit.chain import Chain
from crm_kit.ids import new_id
from crm_kit.mongo import within_caller_deadline

from crm_customer.domain import Address, Anniversary, Consent, Customer, ListFilters, ListScope, Preference, Profile, \
    Region, sort_name

DUPLICATE_KEY = 11000

INDEXES = {
    # Lists: by owner or team in keyset order, by name, and the filters sales teams use most.
    # (FerretDB's SQLite back end scans regardless; MongoDB uses these.)
    "customers": [
        IndexModel([("owner_id", ASCENDING), ("_id", ASCENDING)], name="owner_id_1__id_1"),
        IndexModel([("team_id", ASCENDING), ("_id", ASCENDING)], name="team_id_1__id_1"),
        IndexModel([("owner_id", ASCENDING), ("stage", ASCENDING), ("_id", ASCENDING)], name="owner_stage_id"),
        IndexModel([("sort_name", ASCENDING), ("_id", ASCENDING)], name="sort_name_1__id_1"),
        IndexModel([("tags", ASCENDING)], name="tags_1"),
    ],
    "customer_keys": [],  # looked up by _id only
    "customer_versions": [],  # "<customer id>#<revision>", by _id only
    "customer_referral_links": [],  # chain links "<referrer id>#<n>", by _id only
    "customer_book_links": [],  # chain links "owner:<subject>#<n>" / "pool#<n>", by _id only
    "customer_books": [],  # chain hints
    "customer_referrals": [],  # chain hints, _id = referrer id
}


def new_customer_id() -> str:
    # Random, not time-ordered: lists go by books (arrival order) or by name.
    return new_id("cus")


@dataclass(frozen=True)
class KeyHolder:
    key: str
    customer_id: str
    owner_id: str
    created_at: datetime


@dataclass(frozen=True)
class Change:
    """An ownership change, kept with the revision it produced (the audit trail)."""

    action: str
    from_owner_id: str
    to_owner_id: str
    changed_by: str
    changed_at: datetime
    reason: str = ""


class CustomerStore:
    def __init__(self, db: Database):
        self.db = db
        self.customers = db["customers"]
        self.keys = db["customer_keys"]
        self.versions = db["customer_versions"]
        self.referrals = Chain(db["customer_referral_links"], db["customer_referrals"])
        self.books = Chain(db["customer_book_links"], db["customer_books"])

    # --- key documents --------------------------------------------------

    def reserve_keys(self, keys: tuple[str, ...], customer_id: str, owner_id: str) -> KeyHolder | None:
        """Insert every key for `customer_id`; on the first one taken, undo the
        ones inserted and return the holder of the taken key."""
        now = datetime.now(timezone.utc)
        inserted: list[str] = []
        for key in keys:
            try:
                self.keys.insert_one({"_id": key, "customer_id": customer_id, "owner_id": owner_id, "created_at": now})
                inserted.append(key)
            except DuplicateKeyError:
                self.release_keys(tuple(inserted), customer_id)
                return self.key_holder(key) or KeyHolder(key, "", "", now)
        return None

    def reserve_keys_bulk(self, wanted: dict[str, tuple[tuple[str, ...], str]]) -> set[str]:
        """Reserve keys for many customers at once ({customer_id: (keys, owner)}).
        Returns the ids whose keys were all reserved; partial reservations are undone."""
        now = datetime.now(timezone.utc)
        docs = [{"_id": key, "customer_id": cid, "owner_id": owner, "created_at": now}
                for cid, (keys, owner) in wanted.items() for key in keys]
        failed_keys: set[str] = set()
        if docs:
            try:
                self.keys.insert_many(docs, ordered=False)
            except BulkWriteError as err:
                for write_error in err.details.get("writeErrors", []):
                    if write_error.get("code") != DUPLICATE_KEY:
                        raise
                    failed_keys.add(docs[write_error["index"]]["_id"])
        granted = set()
        for cid, (keys, _owner) in wanted.items():
            if failed_keys.intersection(keys):
                self.release_keys(tuple(k for k in keys if k not in failed_keys), cid)
            else:
                granted.add(cid)
        return granted

    def release_keys(self, keys: tuple[str, ...], customer_id: str) -> None:
        """Delete keys, but only those still held by `customer_id`. Read then
        delete, each by `_id` alone: a conditional delete is a scan on FerretDB.
        (While `customer_id` holds a key nobody else can insert it.)"""
        for key in keys:
            holder = self.key_holder(key)
            if holder is not None and holder.customer_id == customer_id:
                self.keys.delete_one({"_id": key})

    def key_holder(self, key: str) -> KeyHolder | None:
        doc = self.keys.find_one({"_id": key})
        if doc is None:
            return None
        return KeyHolder(doc["_id"], doc["customer_id"], doc.get("owner_id", ""), doc["created_at"])

    def set_key_owner(self, keys: tuple[str, ...], owner_id: str) -> None:
        """Keep the owner noted on key documents current (it answers 409s when
        the customer itself cannot be read)."""
        for key in keys:
            self.keys.update_one({"_id": key}, {"$set": {"owner_id": owner_id}})

    def drop_stale_key(self, holder: KeyHolder) -> bool:
        """Remove a stale key, if it is still the one seen: read, compare, then
        delete by `_id` alone (a conditional delete is a scan on FerretDB)."""
        current = self.key_holder(holder.key)
        if current is None:
            return True
        if (current.customer_id, current.created_at) != (holder.customer_id, holder.created_at):
            return False
        self.keys.delete_one({"_id": holder.key})
        return True

    # --- customers ------------------------------------------------------

    def insert(self, customer: Customer) -> None:
        self.customers.insert_one(_to_doc(customer))

    def insert_many(self, customers: list[Customer]) -> None:
        if customers:
            self.customers.insert_many([_to_doc(c) for c in customers], ordered=False)

    def get(self, customer_id: str) -> Customer | None:
        doc = self.customers.find_one({"_id": customer_id})
        return _from_doc(doc) if doc else None

    # --- revisions: optimistic concurrency with `_id`-only writes ---------
    #
    # A conditional update ({_id, revision}) is a full scan on FerretDB's
    # SQLite back end (only a lone `_id` filter reaches SQL: 9 s at 100,000
    # customers), and FerretDB 1.24 applies update operators as an unisolated
    # read-modify-write, so two writers of one document lose each other's
    # changes (crm_kit/chain.py). So every write of a customer claims its
    # revision first by inserting a document whose `_id` is
    # "<customer id>#<new revision>": exactly one writer wins each revision,
    # the customer is then written by `_id` alone (by that winner only), and the
    # claim, which holds the new state (and the ownership change, if any),
    # is the change history and the ownership audit trail. It is written
    # before the customer, so a crash in between loses no audit record.

    def claim_revision(self, customer: Customer, changed_by: str, change: Change | None = None) -> bool:
        """Claim `customer.revision` for this new state; False if already taken."""
        doc = {"_id": f"{customer.id}#{customer.revision}", "customer": _to_doc(customer),
               "changed_by": changed_by, "claimed_at": datetime.now(timezone.utc)}
        if change is not None:
            doc["change"] = asdict(change)
        try:
            self.versions.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    def revision_claim(self, customer_id: str, revision: int) -> tuple[Customer, datetime] | None:
        doc = self.versions.find_one({"_id": f"{customer_id}#{revision}"})
        return (_from_doc(doc["customer"]), doc["claimed_at"]) if doc and "customer" in doc else None

    def ownership_changes(self, customer_id: str, up_to_revision: int) -> list[Change]:
        """Oldest first. One `_id` read per revision (an `_id` range or `$in` is a scan on FerretDB)."""
        out = []
        for revision in range(1, up_to_revision + 1):
            doc = self.versions.find_one({"_id": f"{customer_id}#{revision}"}, {"change": 1})
            if doc and doc.get("change"):
                out.append(Change(**doc["change"]))
        return out

    def erase_history(self, customer_id: str, up_to_revision: int) -> None:
        """Strip the stored states of a customer up to a revision (they hold
        personal data). The claim documents stay, with who/when (and why, for
        ownership changes): a free revision number would let a writer with a
        stale read claim it and write the old state back."""
        for revision in range(1, up_to_revision + 1):
            self.versions.update_one({"_id": f"{customer_id}#{revision}"}, {"$unset": {"customer": ""}})

    def write(self, customer: Customer) -> None:
        """Store a state whose revision this writer has claimed (the only writer of it)."""
        doc = _to_doc(customer)
        doc.pop("_id")
        self.customers.update_one({"_id": customer.id}, {"$set": doc})

    # --- lists (scans on FerretDB's SQLite back end; indexed on MongoDB) --

    def list_page(self, scope: ListScope, f: ListFilters, after: tuple[str, str] | None, limit: int) -> list[Customer]:
        """`after` is the keyset position (sort value, id) to continue from."""
        sort_field = "sort_name" if f.order_by == "name" else "_id"
        with within_caller_deadline():
            return self._sorted_page(_list_filter(scope, f, after, sort_field), sort_field, limit)

    def _sorted_page(self, query: dict, sort_field: str, limit: int) -> list[Customer]:
        cursor = self.customers.find(query)
        cursor = cursor.sort([(sort_field, ASCENDING), ("_id", ASCENDING)] if sort_field != "_id" else [("_id", ASCENDING)])
        return [_from_doc(d) for d in cursor.limit(limit)]

    def owned_not_contacted_since(self, cutoff: datetime) -> Iterator[Customer]:
        """Owned customers whose protection clock may have run out (the domain rule decides)."""
        query = {"owner_id": {"$ne": ""}, "erased_at": None,
                 "$or": [{"last_contact_at": None}, {"last_contact_at": {"$lt": cutoff}}]}
        for doc in self.customers.find(query).sort("_id", ASCENDING):
            yield _from_doc(doc)

    def count(self) -> int:
        return self.customers.estimated_document_count()

    # --- books: who holds which customer, readable without a scan -----------
    #
    # A list sorted on the server reads and decodes every document on
    # FerretDB's SQLite back end (16 s for one page at 100,000 customers).
    # So each owner, the pool, each team and "all" have a book: an
    # insert-only chain of {customer_id, since} links, appended when a
    # customer comes to them (before the customer write, so a crash leaves at
    # most a stale link). Which links still count is a domain rule
    # (domain.still_in_book).

    def add_to_books(self, entries: list[tuple[str, str, datetime]]) -> None:
        """Note (book key, customer_id, since) arrivals, one bulk insert for all books."""
        by_book: dict[str, list[dict]] = {}
        for book, customer_id, since in entries:
            by_book.setdefault(book, []).append({"customer_id": customer_id, "since": since})
        self.books.append_to_many(by_book)

    def book_entry(self, book: str, n: int) -> tuple[str, datetime] | None:
        link = self.books.link(book, n)
        return (link["customer_id"], link["since"]) if link else None

    def books_started(self) -> bool:
        return self.db["customer_books"].find_one({}) is not None or self.customers.find_one({}) is None

    def claim_backfill(self) -> bool:
        """One replica fills the books from older data: the first to insert this marker."""
        try:
            self.db["customer_books"].insert_one({"_id": "(backfill)", "top": 0})
            return True
        except DuplicateKeyError:
            return False

    def all_live(self) -> Iterator[Customer]:
        """Every live customer, in creation order, for a one-off backfill (a scan)."""
        for doc in self.customers.find({"erased_at": None}).sort([("created_at", ASCENDING), ("_id", ASCENDING)]):
            yield _from_doc(doc)

    # --- referrals: an insert-only chain per referrer (concurrent $addToSet
    # upserts lose elements on FerretDB), so "whom did X refer" goes by `_id` --

    def add_referral(self, referrer_id: str, referred_id: str) -> None:
        self.referrals.append(referrer_id, lambda _n, _previous: {"referred": referred_id})

    def referred_by(self, referrer_id: str) -> list[str]:
        """Every id ever linked to the referrer, oldest first, once each."""
        top, _doc = self.referrals.top(referrer_id)
        links = (self.referrals.link(referrer_id, n) for n in range(1, top + 1))
        return list(dict.fromkeys(link["referred"] for link in links if link))


def _list_filter(scope: ListScope, q: ListFilters, after: tuple[str, str] | None, sort_field: str) -> dict:
    clauses: list[dict] = [{"erased_at": None}]
    if scope.pool_only:
        clauses.append({"owner_id": ""})
    elif scope.owner_id is not None:
        clauses.append({"owner_id": scope.owner_id})
    if scope.team_id is not None and not scope.pool_only:
        clauses.append({"$or": [{"team_id": scope.team_id}, {"owner_id": ""}]})
    for name, value in (("region.province", q.province), ("region.city", q.city), ("level", q.level),
                        ("stage", q.stage), ("tags", q.tag)):
        if value:
            clauses.append({name: value})
    if q.name_prefix:
        clauses.append({"sort_name": {"$regex": "^" + re.escape(q.name_prefix)}})
    for name, start, end in (("created_at", q.created_from, q.created_to),
                             ("last_contact_at", q.contact_from, q.contact_to)):
        bounds = {**({"$gte": start} if start else {}), **({"$lt": end} if end else {})}
        if bounds:
            clauses.append({name: bounds})
    if after is not None:
        value, last_id = after
        if sort_field == "_id":
            clauses.append({"_id": {"$gt": last_id}})
        else:
            clauses.append({"$or": [{sort_field: {"$gt": value}}, {sort_field: value, "_id": {"$gt": last_id}}]})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _to_doc(c: Customer) -> dict:
    p = asdict(c.profile)
    return {
        "_id": c.id, **p, "phones": list(c.profile.phones), "emails": list(c.profile.emails),
        "tags": list(c.profile.tags), "sort_name": sort_name(c.profile.display_name),
        "owner_id": c.owner_id, "team_id": c.team_id, "owned_since": c.owned_since,
        "created_at": c.created_at, "updated_at": c.updated_at, "version": c.version, "revision": c.revision,
        "last_contact_at": c.last_contact_at, "erased_at": c.erased_at,
    }


def _anniversary(d: dict | None) -> Anniversary | None:
    return Anniversary(**d) if d else None


def _from_doc(d: dict) -> Customer:
    profile = Profile(
        display_name=d["display_name"], kind=d["kind"], phones=tuple(d.get("phones", ())),
        emails=tuple(d.get("emails", ())), region=Region(**(d.get("region") or {})),
        addresses=tuple(Address(**a) for a in d.get("addresses", ())), type=d.get("type", "prospect"),
        level=d.get("level", ""), tags=tuple(d.get("tags", ())), source=d.get("source", ""),
        stage=d.get("stage", "new"), intent_notes=d.get("intent_notes", ""),
        preferences=tuple(Preference(**p) for p in d.get("preferences", ())),
        birthday=_anniversary(d.get("birthday")),
        anniversaries=tuple(Anniversary(**a) for a in d.get("anniversaries", ())),
        consent_sms=Consent(**(d.get("consent_sms") or {})), consent_email=Consent(**(d.get("consent_email") or {})),
        referred_by=d.get("referred_by", ""), external_id=d.get("external_id", ""),
    )
    return Customer(
        id=d["_id"], profile=profile, owner_id=d.get("owner_id", ""), team_id=d.get("team_id", ""),
        created_at=d["created_at"], updated_at=d["updated_at"], version=d.get("version", 1),
        revision=d.get("revision", d.get("version", 1)),
        owned_since=d.get("owned_since"), last_contact_at=d.get("last_contact_at"), erased_at=d.get("erased_at"),
    )
