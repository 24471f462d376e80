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
from datetime import datetime, timedelta

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database

from crm_kit.persistence.books import Books
from crm_kit.persistence.chain import Chain
from crm_kit.persistence.keys import KeyHolder, NaturalKeys
from crm_kit.persistence.once import DecideOnce
from crm_kit.persistence.revisions import ABANDONED_AFTER, Revisions
from crm_kit.ids import new_id
from crm_kit.mongo import within_caller_deadline


from crm_customer.customers.model.record import Address, Anniversary, Consent, Customer, Preference, Profile, Region, sort_name
from crm_customer.customers.model.listing import ListFilters, ListScope

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
class Change:
    """An ownership change, kept with the revision it produced (the audit trail)."""

    action: str
    from_owner_id: str
    to_owner_id: str
    changed_by: str
    changed_at: datetime
    reason: str = ""


class CustomerStore:
    """Customers composed from the kit's primitives (crm_kit.persistence):
    revisioned customer documents whose claims (`customer_versions`,
    "<id>#<revision>") hold each state, its author, the ownership change
    and the events it causes; key documents against duplicates; books for
    lists; an insert-only chain of referrals per referrer."""

    def __init__(self, db: Database, outbox=None, abandoned_after: timedelta = ABANDONED_AFTER):
        self.db = db
        self.customers = db["customers"]
        self.revisions = Revisions(self.customers, db["customer_versions"], state_field="customer", outbox=outbox,
                                   abandoned_after=abandoned_after)
        self.keys = NaturalKeys(db["customer_keys"], holder_field="customer_id")
        self.books = Books(db["customer_book_links"], db["customer_books"], item_field="customer_id")
        self.backfill = DecideOnce(db["customer_books"])  # its marker sits among the book hints
        # Concurrent $addToSet upserts lose elements on FerretDB: "whom did X refer" is a chain.
        self.referrals = Chain(db["customer_referral_links"], db["customer_referrals"])

    # --- key documents (crm_kit.persistence.keys) ---------------------------

    def reserve_keys(self, keys: tuple[str, ...], customer_id: str, owner_id: str) -> KeyHolder | None:
        return self.keys.reserve(keys, customer_id, owner_id=owner_id)

    def reserve_keys_bulk(self, wanted: dict[str, tuple[tuple[str, ...], str]]) -> set[str]:
        """{customer_id: (keys, owner)} -> the ids whose keys were all reserved."""
        return self.keys.reserve_many({cid: (keys, {"owner_id": owner}) for cid, (keys, owner) in wanted.items()})

    def release_keys(self, keys: tuple[str, ...], customer_id: str) -> None:
        self.keys.release(keys, customer_id)

    def key_holder(self, key: str) -> KeyHolder | None:
        return self.keys.holder(key)

    def set_key_owner(self, keys: tuple[str, ...], owner_id: str) -> None:
        """Keep the owner noted on key documents current (it answers 409s when
        the customer itself cannot be read)."""
        self.keys.note(keys, owner_id=owner_id)

    # --- customers (crm_kit.persistence.revisions) --------------------------

    def insert(self, customer: Customer, changed_by: str, events: list) -> None:
        self.revisions.create(_to_doc(customer), changed_by, events)

    def insert_many(self, customers: list[Customer], changed_by: str, events: list[list]) -> None:
        self.revisions.create_many([_to_doc(c) for c in customers], events)

    def get(self, customer_id: str) -> Customer | None:
        doc = self.customers.find_one({"_id": customer_id})
        return _from_doc(doc) if doc else None

    def commit(self, customer: Customer, changed_by: str, change: Change | None, events: list) -> bool:
        """Claim `customer.revision` for this state (with its audit record and
        events), then write it; False when another writer won the revision."""
        detail = {"change": asdict(change)} if change is not None else None
        return self.revisions.commit(customer.id, customer.revision, _to_doc(customer), changed_by, detail, events)

    def ownership_changes(self, customer_id: str, up_to_revision: int) -> list[Change]:
        """Oldest first, from the revision claims."""
        return [Change(**claim.detail["change"])
                for claim in self.revisions.history(customer_id, up_to_revision, fields=["change"])
                if claim.detail.get("change")]

    def erase_history(self, customer_id: str, up_to_revision: int) -> None:
        """Strip the stored states (personal data) from the claims, and the
        free-text reasons given for earlier ownership changes (they may name
        the person); who, when and what stay, and the erasure's own reason."""
        self.revisions.strip(customer_id, up_to_revision,
                             also=lambda claim: ["change.reason"] if _ownership_reason(claim) else [])

    # --- lists (scans on FerretDB's SQLite back end; indexed on MongoDB) --

    def list_page(self, scope: ListScope, f: ListFilters, after: tuple[str, str] | None, limit: int) -> list[Customer]:
        """`after` is the keyset position (sort value, id) to continue from."""
        sort_field = "sort_name" if f.order_by == "name" else "_id"
        with within_caller_deadline():
            return self._sorted_page(list_query(scope, f, after, sort_field), sort_field, limit)

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

    # --- books (crm_kit.persistence.books): each owner, the pool, each team
    # and "all" list the customers that came to them, read by `_id`; which
    # entries still stand is the domain's rule (listing.still_in_book).

    def add_to_books(self, entries: list[tuple[str, str, datetime]]) -> None:
        """Note (book key, customer_id, since) arrivals, one bulk insert for all books."""
        self.books.add(entries)

    def books_started(self) -> bool:
        return self.books.started() or self.customers.find_one({}) is None

    def claim_backfill(self) -> bool:
        """One replica fills the books from older data: the first to decide so."""
        return self.backfill.decide("(backfill)", {"top": 0})[0]

    def all_live(self) -> Iterator[Customer]:
        """Every live customer, in creation order, for a one-off backfill (a scan)."""
        for doc in self.customers.find({"erased_at": None}).sort([("created_at", ASCENDING), ("_id", ASCENDING)]):
            yield _from_doc(doc)

    def live_in_storage_order(self) -> Iterator[Customer]:
        """Every live customer as the store keeps them: one streamed scan, no
        sort (sorting would hold every document in memory at once)."""
        for doc in self.customers.find({"erased_at": None}, batch_size=500):
            yield _from_doc(doc)

    # --- referrals ------------------------------------------------------------
    def add_referral(self, referrer_id: str, referred_id: str) -> None:
        self.referrals.append(referrer_id, lambda _n, _previous: {"referred": referred_id})

    def referred_by(self, referrer_id: str) -> list[str]:
        """Every id ever linked to the referrer, oldest first, once each."""
        top, _doc = self.referrals.top(referrer_id)
        links = (self.referrals.link(referrer_id, n) for n in range(1, top + 1))
        return list(dict.fromkeys(link["referred"] for link in links if link))


def list_query(scope: ListScope, q: ListFilters, after: tuple[str, str] | None, sort_field: str) -> dict:
    """`listing.list_matches` as a MongoDB query, for the scan that sorts by
    name (lists in arrival order apply `list_matches` to their book instead).
    tests/service/test_list_filters_agree.py proves the two select the same customers."""
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
        "value_grade": c.value_grade, "value_grade_year": c.value_grade_year, "value_grade_run": c.value_grade_run,
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
        value_grade=d.get("value_grade", ""), value_grade_year=d.get("value_grade_year", 0),
        value_grade_run=d.get("value_grade_run", ""),
    )


def _ownership_reason(claim) -> bool:
    change = claim.detail.get("change") or {}
    return bool(change.get("reason")) and change.get("action") != "erase"
